"""`citebot gaps`: the questions the articles failed to answer, as `/sources gaps` shows them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from citebot.options import Subparsers, add_command, data_option, engine_settings, json_option

DESCRIPTION = """\
The questions asked in Discord that citebot abstained on, or whose answers got more 👎 than
👍, over the last DAYS days; near-duplicates (by meaning) are grouped, most frequent first,
each with its count and a link to its latest instance. Private questions are never listed.
Questions are kept CITEBOT_KEEP_QUESTIONS_DAYS days (default 30).
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot gaps`."""
    parser = add_command(
        subparsers,
        "gaps",
        run,
        summary="list the questions the articles failed to answer",
        description=DESCRIPTION,
    )
    data_option(parser)
    parser.add_argument(
        "--days", type=_days, default=30, help="how many days back to look (default 30)"
    )
    json_option(parser, "a JSON list")


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of days from 1 to 3650")
    return days


def run(args: argparse.Namespace) -> int:
    """Print the gaps as text or JSON."""
    from index.embed.embedder import make_embedder
    from index.feedback import FEEDBACK_FILE, FeedbackStore
    from index.gaps import coverage_gaps

    settings = engine_settings(args)
    path = Path(settings.data_dir) / FEEDBACK_FILE
    gaps = []
    if path.exists():  # no file: the bot has not answered anything yet
        store = FeedbackStore(path, keep_days=settings.keep_questions_days)
        gaps = coverage_gaps(store, make_embedder(settings), args.days)
    if args.json:
        print(json.dumps([gap.as_json() for gap in gaps], ensure_ascii=False))
        return 0
    if not gaps:
        print(f"No question went unanswered or was voted down in the last {args.days} days.")
    for gap in gaps:
        why = ", ".join(
            part
            for part in (
                f"{gap.abstentions} not answered" if gap.abstentions else "",
                f"{gap.voted_down} voted down" if gap.voted_down else "",
            )
            if part
        )
        where = f" {gap.link}" if gap.link else ""
        print(f"{gap.count}× {gap.latest.question} ({why}; last {gap.latest.asked_at[:10]}){where}")
    return 0
