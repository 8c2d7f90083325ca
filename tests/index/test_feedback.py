"""The feedback store: answers given survive restarts, one vote per user per answer."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from index.answer.answer_json import answer_to_json
from index.answer.compose import Answer, Quote, Source
from index.answer.retrieval import Passage
from index.errors import DataDirError
from index.feedback import (
    SCHEMA_VERSION,
    FeedbackStore,
    UnknownAnswerError,
    Vote,
    VoteCounts,
    utc_now,
)
from index.store.generations import ChunkRecord


def an_answer(question: str = "When did the bridge reopen?") -> Answer:
    chunk = ChunkRecord(
        id=7,
        article_id="harbour-bridge",
        start=0,
        end=60,
        text="The Eastport harbour bridge reopened to traffic on Thursday.",
        title="Harbour bridge reopens",
        url="https://example.org/news/harbour-bridge-reopens",
        source="Port Gazette",
        published="2024-03-14",
    )
    return Answer(
        question=question,
        abstained=False,
        quotes=[Quote(1, chunk.text, "harbour-bridge", 0, 60, 1.5)],
        sources=[
            Source(
                1,
                "harbour-bridge",
                chunk.title,
                chunk.url,
                "Port Gazette",
                "2024-03-14",
                also=("Coastal Post",),
            )
        ],
        # Scores come out of numpy; the store must take them as they are.
        passages=[Passage(1, chunk, np.float32(0.75), 0.5, np.float64(0.25))],
        confidence=0.9,
        notes=["No article mentions Stockholm."],
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite")


def test_an_answer_is_stored_whole_and_survives_a_reopen(store: FeedbackStore) -> None:
    answer = an_answer()
    answer_id = store.save_answer(answer, channel_id=10)
    stored = FeedbackStore(store.path).answer(answer_id)
    assert stored is not None
    assert stored.channel_id == 10 and not stored.private
    assert stored.answer.quotes == answer.quotes and stored.answer.sources == answer.sources
    assert stored.answer.passages[0].chunk == answer.passages[0].chunk
    assert stored.answer.passages[0].score == pytest.approx(0.75)
    assert stored.answer.notes == answer.notes and stored.answer.reason is None
    assert store.answer("0" * 16) is None


def test_the_last_answer_is_per_channel(store: FeedbackStore) -> None:
    store.save_answer(an_answer("first"), channel_id=1)
    store.save_answer(an_answer("elsewhere"), channel_id=2)
    store.save_answer(an_answer("second"), channel_id=1)
    assert store.last_answer(1).answer.question == "second"  # type: ignore[union-attr]
    assert store.last_answer(2).answer.question == "elsewhere"  # type: ignore[union-attr]
    assert store.last_answer(3) is None


def test_one_vote_per_user_and_a_second_press_changes_it(store: FeedbackStore) -> None:
    answer_id = store.save_answer(an_answer(), channel_id=1)
    assert store.record(answer_id, 100, Vote.UP) == VoteCounts(up=1, down=0)
    assert store.record(answer_id, 100, Vote.UP) == VoteCounts(up=1, down=0)
    assert store.record(answer_id, 200, Vote.UP) == VoteCounts(up=2, down=0)
    assert store.record(answer_id, 100, Vote.DOWN) == VoteCounts(up=1, down=1)
    assert store.counts(answer_id) == VoteCounts(up=1, down=1)
    assert store.vote_of(answer_id, 100) is Vote.DOWN and store.vote_of(answer_id, 300) is None


def test_a_vote_on_an_unknown_answer_is_refused_in_a_sentence(store: FeedbackStore) -> None:
    with pytest.raises(UnknownAnswerError, match="no longer stored"):
        store.record("f" * 16, 1, Vote.UP)
    assert store.counts("f" * 16) == VoteCounts()


def test_votes_from_many_threads_are_all_counted(store: FeedbackStore) -> None:
    answer_id = store.save_answer(an_answer(), channel_id=1)
    threads = [
        threading.Thread(target=store.record, args=(answer_id, user, Vote.UP)) for user in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.counts(answer_id) == VoteCounts(up=20, down=0)


def test_an_unusable_location_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDirError, match="Cannot open the feedback store"):
        FeedbackStore(blocker / "feedback.sqlite")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_rows_older_than_the_retention_are_deleted_with_their_votes(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "feedback.sqlite", keep_days=30, clock=clock)
    old = store.save_answer(an_answer("old"), channel_id=1)
    store.record(old, 100, Vote.DOWN)
    clock.advance(days=29)
    recent = store.save_answer(an_answer("recent"), channel_id=1)
    clock.advance(days=2)  # `old` is now 31 days old, `recent` 2
    assert store.prune() == 1
    assert store.answer(old) is None and store.answer(recent) is not None
    with store.connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM votes").fetchone() == (0,)
    clock.advance(days=29)
    reopened = FeedbackStore(store.path, keep_days=30, clock=clock)  # opening prunes too
    assert reopened.answer(recent) is None


def test_a_private_answer_is_never_the_last_answer_of_a_channel(store: FeedbackStore) -> None:
    store.save_answer(an_answer("public"), channel_id=1)
    private = store.save_answer(an_answer("secret"), channel_id=1, private=True)
    assert store.last_answer(1).answer.question == "public"  # type: ignore[union-attr]
    assert store.answer(private).private  # type: ignore[union-attr]


def test_a_conversation_is_found_from_any_of_its_messages(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "feedback.sqlite", clock=clock)
    first = store.save_answer(an_answer("When did the bridge reopen?"), channel_id=1)
    store.posted(first, message_id=500, link="https://discord.com/channels/1/1/500")
    key = store.answer(first).conversation  # type: ignore[union-attr]
    assert key is not None  # a new conversation, keyed by its first answer
    follow = store.save_answer(
        an_answer("why?"),
        channel_id=1,
        conversation=key,
        context=["When did the bridge reopen?", "why?"],
    )
    store.posted(follow, message_id=501, link=None)
    assert store.by_message(501).conversation == key  # type: ignore[union-attr]
    assert store.turns(key, upto=first)[-1].question == "When did the bridge reopen?"
    other = store.save_answer(an_answer("Who found the comet?"), channel_id=1)
    assert store.answer(other).conversation != key  # type: ignore[union-attr]
    turns = store.turns(key)
    assert [t.question for t in turns] == ["When did the bridge reopen?", "why?"]
    assert turns[0].cited == ("harbour-bridge",) and turns[0].context == ()
    assert turns[1].context == ("When did the bridge reopen?", "why?")
    clock.advance(hours=25)  # a conversation left for a day is not followed up
    assert store.turns(key) == []


def test_a_version_1_file_loses_asker_ids_and_keeps_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE answers (id TEXT PRIMARY KEY, channel_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL, question TEXT NOT NULL, abstained INTEGER NOT NULL,
                answer_json TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE INDEX answers_by_channel ON answers(channel_id);
            PRAGMA user_version = 1;
            """
        )
        conn.execute(
            "INSERT INTO answers VALUES (?,?,?,?,?,?,?)",
            ("a" * 16, 3, 42, "q", 0, answer_to_json(an_answer("q")), utc_now().isoformat()),
        )
    store = FeedbackStore(path)
    with store.connect() as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(answers)")}
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert "user_id" not in columns and {"private", "link", "conversation"} <= columns
    assert store.answer("a" * 16).answer.question == "q"  # type: ignore[union-attr]


def test_an_answer_with_a_date_of_asking_is_stored(store: FeedbackStore) -> None:
    answer = an_answer()
    answer.as_of = date(2024, 3, 20)
    stored = store.answer(store.save_answer(answer, channel_id=1))
    assert stored.answer.as_of == date(2024, 3, 20)  # type: ignore[union-attr]
