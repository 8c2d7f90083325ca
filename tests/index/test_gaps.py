"""Coverage gaps: abstentions and answers voted down, near-duplicates grouped, most frequent
first, over the days asked for; private questions left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from index.answer.compose import Answer
from index.embed.embedder import SentenceTransformerEmbedder
from index.feedback import FeedbackStore, Vote
from index.gaps import coverage_gaps
from tests.index.test_feedback import an_answer


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def abstention(question: str) -> Answer:
    return Answer(question=question, abstained=True)


def test_abstentions_and_down_votes_are_grouped_by_meaning(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "feedback.sqlite", clock=clock)

    def ask(answer: Answer, *, link: str | None = None, private: bool = False) -> str:
        answer_id = store.save_answer(answer, channel_id=7, private=private)
        if link:
            store.posted(answer_id, message_id=1, link=link)
        clock.now += timedelta(minutes=1)
        return answer_id

    ask(abstention("How tall is the harbour bridge?"), link="https://discord.com/channels/1/7/10")
    ask(abstention("What is the height of the harbour bridge?"))
    ask(
        abstention("how high is the bridge in the harbour?"),
        link="https://discord.com/channels/1/7/12",
    )
    ask(abstention("Who is the mayor of Greenvale?"))
    ask(abstention("Who is the mayor of Greenvale?"), private=True)  # never listed
    disliked = ask(an_answer("When will the ferries stop running?"))
    store.record(disliked, 1, Vote.DOWN)
    liked = ask(an_answer("When did the bridge reopen?"))
    store.record(liked, 1, Vote.DOWN)
    store.record(liked, 2, Vote.UP)
    store.record(liked, 3, Vote.UP)  # more 👍 than 👎: not a gap

    gaps = coverage_gaps(store, real_embedder, days=30)
    summary = [(g.latest.question, g.count, g.abstentions, g.voted_down) for g in gaps]
    assert summary == [
        ("how high is the bridge in the harbour?", 3, 3, 0),
        ("When will the ferries stop running?", 1, 0, 1),
        ("Who is the mayor of Greenvale?", 1, 1, 0),
    ]
    assert gaps[0].link == "https://discord.com/channels/1/7/12"
    assert gaps[0].as_json()["questions"] == [
        "How tall is the harbour bridge?",
        "What is the height of the harbour bridge?",
        "how high is the bridge in the harbour?",
    ]
    clock.now += timedelta(days=1)
    assert coverage_gaps(store, real_embedder, days=1) == []  # all asked over a day ago
