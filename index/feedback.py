"""Answers given and the votes on them, in one SQLite file beside the index generations.

Every answer the bot sends is stored with its question, quotes, sources and passages (as
JSON), so a "Sources" button or a "last answer in this channel" lookup works for as long as
the file lives, across restarts and reindexes. Votes are one per user per answer: a second
vote replaces the first.

The file (``feedback.sqlite`` in the data directory) is separate from the index generations,
which a reindex replaces wholesale. Every method opens its own short connection, so the store
may be used from several threads at once.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from index.answer.compose import Answer, Quote, Source
from index.answer.retrieval import Passage
from index.errors import CitebotError, DataDirError
from index.store.generations import ChunkRecord

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.sqlite"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answer_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_channel ON answers(channel_id);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
"""


class Vote(IntEnum):
    """A reader's verdict on an answer."""

    UP = 1
    DOWN = -1


class UnknownAnswerError(CitebotError):
    """The answer a button or vote refers to is not (or no longer) stored."""


@dataclass(frozen=True)
class VoteCounts:
    """How many readers found an answer helpful, and how many did not."""

    up: int = 0
    down: int = 0


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as it was given: where, to whom, and what it said."""

    id: str
    channel_id: int
    user_id: int
    created_at: str
    answer: Answer


class FeedbackStore:
    """Answers given and one vote per user per answer, in SQLite at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise DataDirError(
                f"Cannot open the feedback store {self.path}: {exc}. "
                "Choose another data directory with CITEBOT_DATA_DIR."
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        finally:
            conn.close()

    def save_answer(self, answer: Answer, *, channel_id: int, user_id: int) -> str:
        """Store an answer about to be sent and return its new id (16 hex digits)."""
        answer_id = secrets.token_hex(8)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO answers VALUES (?,?,?,?,?,?,?)",
                (
                    answer_id,
                    channel_id,
                    user_id,
                    answer.question,
                    int(answer.abstained),
                    answer_to_json(answer),
                    _now(),
                ),
            )
        return answer_id

    def answer(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer with this id, if any."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, channel_id, user_id, created_at, answer_json FROM answers WHERE id = ?",
                (answer_id,),
            ).fetchone()
        return _stored(row)

    def last_answer(self, channel_id: int) -> StoredAnswer | None:
        """The most recent answer given in a channel, if any."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, channel_id, user_id, created_at, answer_json FROM answers"
                " WHERE channel_id = ? ORDER BY rowid DESC LIMIT 1",
                (channel_id,),
            ).fetchone()
        return _stored(row)

    def record(self, answer_id: str, user_id: int, vote: Vote) -> VoteCounts:
        """Record a user's vote on an answer (replacing an earlier one) and return the counts."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                raise UnknownAnswerError(
                    "That answer is no longer stored, so it cannot be rated: ask again."
                )
            conn.execute(
                "INSERT INTO votes VALUES (?,?,?,?) ON CONFLICT(answer_id, user_id)"
                " DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, user_id, int(vote), _now()),
            )
            return _counts(conn, answer_id)

    def counts(self, answer_id: str) -> VoteCounts:
        """👍 and 👎 counts of an answer."""
        with self._connect() as conn:
            return _counts(conn, answer_id)

    def vote_of(self, answer_id: str, user_id: int) -> Vote | None:
        """A user's current vote on an answer, if they voted."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT vote FROM votes WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            ).fetchone()
        return Vote(row[0]) if row else None


def _counts(conn: sqlite3.Connection, answer_id: str) -> VoteCounts:
    up, down = conn.execute(
        "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes"
        " WHERE answer_id = ?",
        (answer_id,),
    ).fetchone()
    return VoteCounts(up=int(up), down=int(down))


def _stored(row: tuple[Any, ...] | None) -> StoredAnswer | None:
    if row is None:
        return None
    answer_id, channel_id, user_id, created_at, answer_json = row
    return StoredAnswer(answer_id, channel_id, user_id, created_at, answer_from_json(answer_json))


def answer_to_json(answer: Answer) -> str:
    """An answer with its quotes, sources and passages as JSON."""
    return json.dumps(asdict(answer), ensure_ascii=False, default=_plain)


def answer_from_json(text: str) -> Answer:
    """The inverse of `answer_to_json`."""
    data = json.loads(text)
    return Answer(
        question=data["question"],
        abstained=data["abstained"],
        quotes=[Quote(**q) for q in data["quotes"]],
        sources=[Source(**s) for s in data["sources"]],
        passages=[Passage(**{**p, "chunk": ChunkRecord(**p["chunk"])}) for p in data["passages"]],
        confidence=data.get("confidence", 0.0),
    )


def _plain(value: Any) -> Any:
    """numpy scalars (scores) as Python numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
