"""The buttons under answers and article lists: what they carry in their custom ids (so they
work after a restart), what they show, and that they never time out."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord

from bot.views import (
    ArticlesPageButton,
    SourcesButton,
    VoteButton,
    answer_view,
    pager_view,
)
from index.feedback import Vote, VoteCounts

ANSWER_ID = "0123456789abcdef"


def buttons(view: discord.ui.View | None) -> list[dict[str, Any]]:
    """The buttons as Discord receives them."""
    assert view is not None
    return [c for row in view.to_components() for c in row["components"]]


def in_a_loop(build: Any) -> Any:
    """discord.py views need a running event loop to be made."""

    async def main() -> Any:
        return build()

    return asyncio.run(main())


def test_an_answer_has_sources_and_both_votes_with_their_counts() -> None:
    view = in_a_loop(lambda: answer_view(ANSWER_ID, VoteCounts(up=3, down=0)))
    assert view.timeout is None
    assert [(b["custom_id"], b.get("label")) for b in buttons(view)] == [
        (f"citebot:sources:{ANSWER_ID}", "Sources"),
        (f"citebot:vote:up:{ANSWER_ID}", "3"),
        (f"citebot:vote:down:{ANSWER_ID}", None),  # no count shown for none
    ]


def test_an_answer_without_sources_has_only_the_votes() -> None:
    view = in_a_loop(lambda: answer_view(ANSWER_ID, with_sources=False))
    assert [b["custom_id"] for b in buttons(view)] == [
        f"citebot:vote:up:{ANSWER_ID}",
        f"citebot:vote:down:{ANSWER_ID}",
    ]


def test_each_button_is_rebuilt_from_its_custom_id_alone() -> None:
    """What a press after a restart relies on: the template matches, and the rebuilt button
    carries the same answer id, vote or page."""

    async def rebuild(cls: Any, custom_id: str) -> Any:
        match = re.fullmatch(cls.__discord_ui_compiled_template__, custom_id)
        assert match, custom_id
        return await cls.from_custom_id(None, None, match)

    async def main() -> None:
        sources = await rebuild(SourcesButton, f"citebot:sources:{ANSWER_ID}")
        down = await rebuild(VoteButton, f"citebot:vote:down:{ANSWER_ID}")
        page = await rebuild(ArticlesPageButton, "citebot:articles:4:next")
        assert (sources.answer_id, down.answer_id, down.vote, page.page) == (
            ANSWER_ID,
            ANSWER_ID,
            Vote.DOWN,
            4,
        )
        for cls, foreign in [
            (VoteButton, f"citebot:vote:sideways:{ANSWER_ID}"),
            (SourcesButton, "citebot:sources:not-an-answer-id"),
            (ArticlesPageButton, "citebot:articles:-1:next"),
        ]:
            assert re.fullmatch(cls.__discord_ui_compiled_template__, foreign) is None

    asyncio.run(main())


def test_the_article_pager_stops_at_both_ends() -> None:
    assert in_a_loop(lambda: pager_view(0, 1)) is None  # one page: no buttons
    first = buttons(in_a_loop(lambda: pager_view(0, 3)))
    middle = buttons(in_a_loop(lambda: pager_view(1, 3)))
    last = buttons(in_a_loop(lambda: pager_view(2, 3)))
    assert [(b["custom_id"], b.get("disabled", False)) for b in first] == [
        ("citebot:articles:0:prev", True),
        ("citebot:articles:1:next", False),
    ]
    assert [b["custom_id"] for b in middle] == [
        "citebot:articles:0:prev",
        "citebot:articles:2:next",
    ]
    assert [(b["custom_id"], b.get("disabled", False)) for b in last] == [
        ("citebot:articles:1:prev", False),
        ("citebot:articles:2:next", True),
    ]
