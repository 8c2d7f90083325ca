"""The feedback store: answers given survive restarts, one vote per user per answer."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from index.answer.compose import Answer, Quote, Source
from index.answer.retrieval import Passage
from index.errors import DataDirError
from index.feedback import FeedbackStore, UnknownAnswerError, Vote, VoteCounts
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
        sources=[Source(1, "harbour-bridge", chunk.title, chunk.url, "Port Gazette", "2024-03-14")],
        # Scores come out of numpy; the store must take them as they are.
        passages=[Passage(1, chunk, np.float32(0.75), 0.5, np.float64(0.25))],
        confidence=0.9,
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite")


def test_an_answer_is_stored_whole_and_survives_a_reopen(store: FeedbackStore) -> None:
    answer = an_answer()
    answer_id = store.save_answer(answer, channel_id=10, user_id=20)
    stored = FeedbackStore(store.path).answer(answer_id)
    assert stored is not None
    assert (stored.channel_id, stored.user_id) == (10, 20)
    assert stored.answer.quotes == answer.quotes and stored.answer.sources == answer.sources
    assert stored.answer.passages[0].chunk == answer.passages[0].chunk
    assert stored.answer.passages[0].score == pytest.approx(0.75)
    assert store.answer("0" * 16) is None


def test_the_last_answer_is_per_channel(store: FeedbackStore) -> None:
    store.save_answer(an_answer("first"), channel_id=1, user_id=5)
    store.save_answer(an_answer("elsewhere"), channel_id=2, user_id=5)
    store.save_answer(an_answer("second"), channel_id=1, user_id=6)
    assert store.last_answer(1).answer.question == "second"  # type: ignore[union-attr]
    assert store.last_answer(2).answer.question == "elsewhere"  # type: ignore[union-attr]
    assert store.last_answer(3) is None


def test_one_vote_per_user_and_a_second_press_changes_it(store: FeedbackStore) -> None:
    answer_id = store.save_answer(an_answer(), channel_id=1, user_id=1)
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
    answer_id = store.save_answer(an_answer(), channel_id=1, user_id=1)
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
