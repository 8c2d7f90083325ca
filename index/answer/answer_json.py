"""An answer as JSON and back: what the feedback store keeps, in the one shape that
`citebot ask --json` prints (`compose.answer_as_json`)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from typing import Any

from index.answer.compose import Answer, Quote, Source, answer_as_json
from index.answer.retrieval import Passage
from index.store.generations import ChunkRecord


def answer_to_json(answer: Answer) -> str:
    """An answer as stored: its one JSON shape, the same as `citebot ask --json` prints."""
    return json.dumps(answer_as_json(answer), ensure_ascii=False)


def answer_from_json(text: str) -> Answer:
    """The inverse of `answer_to_json`; answers stored in the earlier shape (the dataclasses as
    `asdict` gave them) are read too."""
    data = json.loads(text)
    built = ("question", "abstained", "quotes", "sources", "passages")
    rest = {f.name: data[f.name] for f in fields(Answer) if f.name in data and f.name not in built}
    if rest.get("as_of"):
        rest["as_of"] = date.fromisoformat(rest["as_of"])
    return Answer(
        question=data["question"],
        abstained=data["abstained"],
        quotes=[_known_fields(Quote, q) for q in data["quotes"]],
        sources=[_known_fields(Source, s) for s in data["sources"]],
        passages=[_passage(p) for p in data["passages"]],
        **rest,
    )


def _passage(data: dict[str, Any]) -> Passage:
    if "chunk" in data:  # the earlier shape
        chunk = ChunkRecord(**data["chunk"])
        return Passage(**{**data, "chunk": chunk, "also": tuple(data.get("also", ()))})
    chunk = {f.name: data[f.name] for f in fields(ChunkRecord) if f.name != "id"}
    return Passage(
        rank=data["rank"],
        chunk=ChunkRecord(id=data["chunk_id"], **chunk),
        score=data["score"],
        dense=data["dense"],
        lexical=data["lexical"],
        also=tuple(data.get("also", ())),
    )


def _known_fields(cls: Any, data: dict[str, Any]) -> Any:
    """`cls(**data)` with the keys `cls` does not have left out (a quote's citation fields)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names})
