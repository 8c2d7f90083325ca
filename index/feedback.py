"""Answers given and the votes on them, in one SQLite file beside the index generations.

Every answer the bot sends is stored with its question, quotes, sources and passages (as
JSON), so a "Sources" button or a "last answer in this channel" lookup works for as long as
the file lives, across restarts and reindexes. Votes are one per user per answer: a second
vote replaces the first.

What is kept about a question is minimal: its text, time, channel, and where the answer was
posted (message id and link, the conversation it belongs to, the earlier questions it was
read with); never who asked. User ids are kept only with votes, which need them. Rows older
than `keep_days` (CITEBOT_KEEP_QUESTIONS_DAYS) are deleted, their votes with them.

The file (``feedback.sqlite`` in the data directory) is separate from the index generations,
which a reindex replaces wholesale. Every method opens its own short connection, so the store
may be used from several threads at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

from index.answer.answer_json import answer_from_json, answer_to_json
from index.answer.compose import Answer
from index.answer.followup import Turn
from index.answer.written import AnswerKind, WrittenAnswer, written_from_dict
from index.errors import CitebotError, DataDirError

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.sqlite"
SCHEMA_VERSION = 3
KEEP_DAYS = 30
FOLLOW_UP_WINDOW = timedelta(hours=24)  # older turns are not read with a follow-up
CONVERSATION_TURNS = 3  # earlier turns handed to a follow-up at most

Clock = Callable[[], datetime]

SCHEMA = """
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
    context_json TEXT,
    written_json TEXT
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'extractive' CHECK (kind IN ('extractive', 'written')),
    PRIMARY KEY (answer_id, user_id)
);
"""
# Columns added in version 2 (a version-1 file gets them, and loses answers.user_id) and 3
# (the written answer shown instead of the extractive one).
ADDED_COLUMNS = {
    "private": "INTEGER NOT NULL DEFAULT 0",
    "message_id": "INTEGER",
    "link": "TEXT",
    "conversation": "INTEGER",
    "context_json": "TEXT",
    "written_json": "TEXT",
}
# Version 3: which kind of answer each vote was on (every earlier vote was on quotes).
ADDED_VOTE_COLUMNS = {
    "kind": "TEXT NOT NULL DEFAULT 'extractive' CHECK (kind IN ('extractive', 'written'))",
}
INDEXES = """
CREATE INDEX IF NOT EXISTS answers_by_channel ON answers(channel_id);
CREATE INDEX IF NOT EXISTS answers_by_time ON answers(created_at);
CREATE INDEX IF NOT EXISTS answers_by_message ON answers(message_id);
CREATE INDEX IF NOT EXISTS answers_by_conversation ON answers(conversation);
"""
STORED_COLUMNS = (
    "id, channel_id, created_at, private, message_id, link, conversation, answer_json, written_json"
)


def utc_now() -> datetime:
    """The current time in UTC (the store's default clock)."""
    return datetime.now(UTC)


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
    """An answer as it was given: where, when, and what it said."""

    id: str
    channel_id: int
    created_at: str
    answer: Answer
    private: bool = False
    message_id: int | None = None
    link: str | None = None
    conversation: int | None = None
    written: WrittenAnswer | None = None  # shown instead of `answer` once it was checked

    @property
    def kind(self) -> AnswerKind:
        """Which kind of answer its message shows now."""
        return AnswerKind.WRITTEN if self.written is not None else AnswerKind.EXTRACTIVE


class FeedbackStore:
    """Answers given and one vote per user per answer, in SQLite at `path`."""

    def __init__(self, path: Path, *, keep_days: int = KEEP_DAYS, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self.keep_days = keep_days
        self.clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(SCHEMA)
                _migrate(conn)
                conn.executescript(INDEXES)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise DataDirError(
                f"Cannot open the feedback store {self.path}: {exc}. "
                "Choose another data directory with CITEBOT_DATA_DIR."
            ) from exc
        self.prune()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        finally:
            conn.close()

    def connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A short connection in one transaction (for queries kept in other modules)."""
        return self._connect()

    def since(self, age: timedelta) -> str:
        """The stored timestamp of `age` ago, by the store's clock."""
        return (self.clock() - age).astimezone(UTC).isoformat(timespec="seconds")

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def prune(self) -> int:
        """Delete answers (and their votes) older than `keep_days`; returns how many."""
        with self._connect() as conn:
            deleted = conn.execute(
                "DELETE FROM answers WHERE created_at < ?", (self.since(timedelta(self.keep_days)),)
            ).rowcount
        if deleted:
            log.info("deleted %d answers older than %d days", deleted, self.keep_days)
        return deleted

    def save_answer(
        self,
        answer: Answer,
        *,
        channel_id: int,
        private: bool = False,
        conversation: int | None = None,
        context: Sequence[str] = (),
    ) -> str:
        """Store an answer about to be sent and return its new id (16 hex digits).

        `conversation` is the conversation it continues (its thread's id, say); None starts a
        new one, keyed by this answer. `context` is the questions it was read with.
        """
        self.prune()
        answer_id = secrets.token_hex(8)
        if conversation is None:
            conversation = int(answer_id[:15], 16)  # 60 bits: a new conversation's key
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO answers (id, channel_id, question, abstained, answer_json,"
                " created_at, private, conversation, context_json)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    answer_id,
                    channel_id,
                    answer.question,
                    int(answer.abstained),
                    answer_to_json(answer),
                    self._now(),
                    int(private),
                    conversation,
                    json.dumps(list(context), ensure_ascii=False) if context else None,
                ),
            )
        return answer_id

    def posted(self, answer_id: str, *, message_id: int, link: str | None) -> None:
        """Record the message an answer was posted as, and its link."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE answers SET message_id = ?, link = ? WHERE id = ?",
                (message_id, link, answer_id),
            )

    def save_written(self, answer_id: str, written: WrittenAnswer) -> None:
        """Store the written answer that now replaces the extractive one in its message."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE answers SET written_json = ? WHERE id = ?",
                (json.dumps(asdict(written), ensure_ascii=False), answer_id),
            )

    def answer(self, answer_id: str) -> StoredAnswer | None:
        """The stored answer with this id, if any."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {STORED_COLUMNS} FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
        return _stored(row)

    def last_answer(self, channel_id: int) -> StoredAnswer | None:
        """The most recent public answer given in a channel, if any."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {STORED_COLUMNS} FROM answers"
                " WHERE channel_id = ? AND private = 0 ORDER BY rowid DESC LIMIT 1",
                (channel_id,),
            ).fetchone()
        return _stored(row)

    def by_message(self, message_id: int) -> StoredAnswer | None:
        """The answer posted as the message `message_id`, if any."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {STORED_COLUMNS} FROM answers WHERE message_id = ?", (message_id,)
            ).fetchone()
        return _stored(row)

    def turns(
        self, conversation: int, *, upto: str | None = None, limit: int = CONVERSATION_TURNS
    ) -> list[Turn]:
        """The last `limit` turns of a conversation within FOLLOW_UP_WINDOW, oldest first;
        with `upto` (an answer id), only those up to that answer (a reply to an older one)."""
        clauses = "conversation = ? AND created_at >= ?"
        params: list[Any] = [conversation, self.since(FOLLOW_UP_WINDOW)]
        if upto is not None:
            clauses += " AND rowid <= (SELECT rowid FROM answers WHERE id = ?)"
            params.append(upto)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT question, context_json, answer_json FROM answers"
                f" WHERE {clauses} ORDER BY rowid DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        turns = []
        for question, context_json, answer_json in reversed(rows):
            sources = json.loads(answer_json).get("sources") or []
            context = tuple(json.loads(context_json)) if context_json else ()
            turns.append(Turn(question, context, tuple(s["article_id"] for s in sources)))
        return turns

    def record(
        self,
        answer_id: str,
        user_id: int,
        vote: Vote,
        kind: AnswerKind = AnswerKind.EXTRACTIVE,
    ) -> VoteCounts:
        """Record a user's vote on the `kind` of answer they were shown (replacing an earlier
        vote) and return the counts."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                raise UnknownAnswerError(
                    "That answer is no longer stored, so it cannot be rated: ask again."
                )
            conn.execute(
                "INSERT INTO votes (answer_id, user_id, vote, voted_at, kind) VALUES (?,?,?,?,?)"
                " ON CONFLICT(answer_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " voted_at = excluded.voted_at, kind = excluded.kind",
                (answer_id, user_id, int(vote), self._now(), str(kind)),
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

    def voted_kind(self, answer_id: str, user_id: int) -> AnswerKind | None:
        """The kind of answer a user was shown when they voted, if they voted."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT kind FROM votes WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            ).fetchone()
        return AnswerKind(row[0]) if row else None


def _counts(conn: sqlite3.Connection, answer_id: str) -> VoteCounts:
    up, down = conn.execute(
        "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes"
        " WHERE answer_id = ?",
        (answer_id,),
    ).fetchone()
    return VoteCounts(up=int(up), down=int(down))


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older file up to date: no asker ids and where answers were posted (version
    2), the written answers and the kind of answer each vote was on (version 3)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(answers)")}
    if "user_id" in columns:
        conn.execute("ALTER TABLE answers DROP COLUMN user_id")
    for name, declaration in ADDED_COLUMNS.items():
        if name not in columns:
            conn.execute(f"ALTER TABLE answers ADD COLUMN {name} {declaration}")
    vote_columns = {row[1] for row in conn.execute("PRAGMA table_info(votes)")}
    for name, declaration in ADDED_VOTE_COLUMNS.items():
        if name not in vote_columns:
            conn.execute(f"ALTER TABLE votes ADD COLUMN {name} {declaration}")


def _stored(row: tuple[Any, ...] | None) -> StoredAnswer | None:
    if row is None:
        return None
    answer_id, channel_id, created_at, private, message_id, link, conversation, answer_json = row[
        :8
    ]
    written_json = row[8]
    return StoredAnswer(
        answer_id,
        channel_id,
        created_at,
        answer_from_json(answer_json),
        private=bool(private),
        message_id=message_id,
        link=link,
        conversation=conversation,
        written=written_from_dict(json.loads(written_json)) if written_json else None,
    )
