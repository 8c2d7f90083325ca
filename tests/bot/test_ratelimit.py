"""The per-user question limit: a sliding window on an injectable clock."""

from __future__ import annotations

from bot.ratelimit import QuestionRateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_question_within_the_window_is_refused() -> None:
    clock = Clock()
    limiter = QuestionRateLimiter(5, 60, clock=clock)
    for _ in range(5):
        assert limiter.acquire(1).allowed
        clock.now += 1
    verdict = limiter.acquire(1)
    assert not verdict.allowed and verdict.retry_after == 55  # the first question ages out at 60
    assert limiter.acquire(2).allowed  # limits are per user


def test_the_window_slides() -> None:
    clock = Clock()
    limiter = QuestionRateLimiter(2, 10, clock=clock)
    assert limiter.acquire(1).allowed
    clock.now += 6
    assert limiter.acquire(1).allowed
    clock.now += 3
    assert not limiter.acquire(1).allowed
    clock.now += 1  # the first question is now 10 s old
    assert limiter.acquire(1).allowed
    assert not limiter.acquire(1).allowed


def test_only_the_first_refusal_in_a_window_is_news() -> None:
    clock = Clock()
    limiter = QuestionRateLimiter(1, 10, clock=clock)
    limiter.acquire(1)
    first, second = limiter.acquire(1), limiter.acquire(1)
    assert (first.repeated, second.repeated) == (False, True)
    clock.now += 10
    assert limiter.acquire(1).allowed
    assert not limiter.acquire(1).repeated  # a new window, a new notice


def test_refused_questions_do_not_count() -> None:
    clock = Clock()
    limiter = QuestionRateLimiter(1, 10, clock=clock)
    limiter.acquire(1)
    for _ in range(20):
        clock.now += 0.1
        limiter.acquire(1)
    clock.now = 1010.0
    assert limiter.acquire(1).allowed


def test_idle_users_are_forgotten() -> None:
    clock = Clock()
    limiter = QuestionRateLimiter(1, 10, clock=clock)
    for user in range(1500):
        limiter.acquire(user)
    clock.now += 11
    limiter.acquire(99999)
    assert len(limiter._asked) == 1
