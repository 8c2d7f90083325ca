"""The feedback store with written answers: stored beside the extractive answer, votes record
which kind was shown, and files made by the previous version keep working."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.answer.answer_json import answer_to_json
from index.answer.written import AnswerKind, Removal, WrittenAnswer
from index.feedback import FeedbackStore, Vote, VoteCounts
from tests.index.answer.written_checks import extractive
from tests.index.test_feedback import an_answer

# The schema of feedback.sqlite before written answers existed (user_version 2), verbatim.
VERSION_2 = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answer_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    private INTEGER NOT NULL DEFAULT 0,
    message_id INTEGER,
    link TEXT,
    conversation INTEGER,
    context_json TEXT
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
PRAGMA user_version = 2;
"""


def a_written_answer() -> WrittenAnswer:
    answer = extractive()
    quote = answer.quotes[0]
    return WrittenAnswer(
        text=f"The repair cost “{quote.text}” [1].",
        model="tiny-test-model",
        quotes=[quote],
        sources=answer.sources,
        removed=[Removal("It cost “52 million” [1].", "quotes “52 million” as [1], but ...")],
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite")


def test_a_written_answer_is_stored_beside_the_extractive_one(store: FeedbackStore) -> None:
    answer_id = store.save_answer(extractive(), channel_id=1)
    assert store.answer(answer_id).kind is AnswerKind.EXTRACTIVE  # type: ignore[union-attr]
    written = a_written_answer()
    store.save_written(answer_id, written)
    stored = FeedbackStore(store.path).answer(answer_id)
    assert stored is not None and stored.kind is AnswerKind.WRITTEN
    assert stored.written == written
    assert stored.answer.quotes == extractive().quotes
    assert stored.answer.as_of == extractive().as_of  # the date of asking survives JSON
    assert store.last_answer(1).written == written  # type: ignore[union-attr]


def test_votes_record_which_kind_of_answer_was_shown(store: FeedbackStore) -> None:
    answer_id = store.save_answer(extractive(), channel_id=1)
    store.record(answer_id, 10, Vote.UP)  # before the written answer arrived
    store.record(answer_id, 20, Vote.DOWN, AnswerKind.WRITTEN)
    assert store.voted_kind(answer_id, 10) is AnswerKind.EXTRACTIVE
    assert store.voted_kind(answer_id, 20) is AnswerKind.WRITTEN
    store.record(answer_id, 10, Vote.DOWN, AnswerKind.WRITTEN)  # voted again on the new one
    assert store.voted_kind(answer_id, 10) is AnswerKind.WRITTEN
    assert store.counts(answer_id) == VoteCounts(up=0, down=2)
    assert store.voted_kind(answer_id, 30) is None


def test_a_file_from_the_previous_version_is_migrated_without_losing_anything(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feedback.sqlite"
    old = sqlite3.connect(path)
    old.executescript(VERSION_2)
    old.execute(
        "INSERT INTO answers (id, channel_id, question, abstained, answer_json, created_at)"
        " VALUES (?,?,?,?,?,?)",
        ("a" * 16, 5, "When did the bridge reopen?", 0, _old_json(), _recent()),
    )
    old.execute("INSERT INTO votes VALUES (?,?,?,?)", ("a" * 16, 7, 1, _recent()))
    old.commit()
    old.close()

    store = FeedbackStore(path)
    stored = store.answer("a" * 16)
    assert stored is not None and stored.written is None
    assert stored.answer.question == "When did the bridge reopen?"
    assert store.counts("a" * 16) == VoteCounts(up=1, down=0)
    assert store.voted_kind("a" * 16, 7) is AnswerKind.EXTRACTIVE  # all votes before this were
    store.record("a" * 16, 8, Vote.UP, AnswerKind.WRITTEN)
    store.save_written("a" * 16, a_written_answer())
    assert store.counts("a" * 16) == VoteCounts(up=2, down=0)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    again = FeedbackStore(path)  # opening a migrated file again changes nothing
    assert again.counts("a" * 16) == VoteCounts(up=2, down=0)
    assert again.answer("a" * 16).written == a_written_answer()  # type: ignore[union-attr]


def _recent() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _old_json() -> str:
    return answer_to_json(an_answer("When did the bridge reopen?"))
