"""One JSON shape of an answer: what `citebot ask --json` prints is what the feedback store
keeps, and reading it back gives the same answer."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path

from index.answer.answer_json import answer_from_json, answer_to_json
from index.answer.compose import Answer, Quote, Source, answer_as_json
from index.answer.retrieval import Passage
from index.feedback import FeedbackStore
from index.store.generations import ChunkRecord

TEXT = "The bridge reopened on Thursday after a repair that cost 48 million euros."


def an_answer() -> Answer:
    """An answer as the engine gives it, every score already at the 4 places JSON keeps."""
    chunk = ChunkRecord(
        id=7,
        article_id="harbour-bridge",
        start=120,
        end=120 + len(TEXT),
        text=TEXT,
        title="Harbour bridge reopens after two-year repair",
        url="https://example.org/news/harbour-bridge-reopens",
        source="Port Gazette",
        published="2024-03-14",
    )
    return Answer(
        question="How much did the repair cost?",
        abstained=False,
        quotes=[Quote(1, TEXT, "harbour-bridge", 120, 120 + len(TEXT), 1.2346)],
        sources=[
            Source(1, "harbour-bridge", chunk.title, chunk.url, chunk.source, chunk.published)
        ],
        passages=[Passage(rank=1, chunk=chunk, score=0.7123, dense=0.6512, lexical=0.9)],
        confidence=0.8123,
        as_of=date(2024, 4, 1),
    )


def test_the_shape_holds_every_field_of_an_answer() -> None:
    data = answer_as_json(an_answer())
    assert {f.name for f in fields(Answer)} <= set(data)
    assert data["answer"].startswith("“The bridge reopened")
    assert (data["as_of"], data["confidence"]) == ("2024-04-01", 0.8123)
    assert data["quotes"][0]["title"] == "Harbour bridge reopens after two-year repair"
    assert data["passages"][0]["chunk_id"] == 7
    json.dumps(data)  # plain JSON values only


def test_what_the_feedback_store_keeps_is_what_ask_json_prints(tmp_path: Path) -> None:
    answer = an_answer()
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    answer_id = store.save_answer(answer, channel_id=5)
    with sqlite3.connect(tmp_path / "feedback.sqlite") as conn:
        (kept,) = conn.execute(
            "SELECT answer_json FROM answers WHERE id = ?", (answer_id,)
        ).fetchone()
    assert json.loads(kept) == answer_as_json(answer)
    stored = store.answer(answer_id)
    assert stored is not None and stored.answer == answer


def test_reading_back_gives_the_same_answer() -> None:
    answer = an_answer()
    assert answer_from_json(answer_to_json(answer)) == answer
    abstained = Answer("Who won the match?", abstained=True)
    assert answer_from_json(answer_to_json(abstained)) == abstained


def test_answers_stored_in_the_earlier_shape_still_load() -> None:
    answer = an_answer()
    earlier = json.dumps({**asdict(answer), "as_of": "2024-04-01"})  # as citebot 0.1 stored it
    assert answer_from_json(earlier) == answer
