"""Rendering answers, passages and reports: what readers see, always within Discord's limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import discord
import pytest

from bot import render
from index.answer.compose import NOT_COVERED, Answer, Quote, Source
from index.answer.retrieval import Filters, Passage
from index.engine import IndexStatus
from index.ingest.readers import IngestFailure
from index.store.generations import ArticleRecord, ChunkRecord
from index.store.indexer import IndexReport

BRIDGE = Source(
    n=1,
    article_id="harbour-bridge",
    title="Harbour bridge reopens after two-year repair",
    url="https://example.org/news/harbour-bridge-reopens",
    source="Port Gazette",
    published="2024-03-14",
)
ARTICLE = (
    "The Eastport harbour bridge reopened to traffic on Thursday. Engineers replaced all 212 "
    "steel cables. Mayor Ana Ruiz said the toll stays. Ferries will stop running."
)


def quote(text: str, n: int = 1, article_id: str = "harbour-bridge") -> Quote:
    start = ARTICLE.find(text) if text in ARTICLE else 0
    return Quote(n=n, text=text, article_id=article_id, start=start, end=start + len(text), score=1)


def passage(text: str = ARTICLE, rank: int = 1) -> Passage:
    chunk = ChunkRecord(
        id=rank,
        article_id="harbour-bridge",
        start=0,
        end=len(text),
        text=text,
        title=BRIDGE.title,
        url=BRIDGE.url,
        source=BRIDGE.source,
        published=BRIDGE.published,
    )
    return Passage(rank=rank, chunk=chunk, score=0.69, dense=0.38, lexical=0.78)


def embed_size(embeds: list[discord.Embed]) -> int:
    return sum(len(e) for e in embeds)


# -- shortening --------------------------------------------------------------------------------


def test_shorten_keeps_text_that_fits() -> None:
    assert render.shorten("One. Two.", 9) == "One. Two."


def test_shorten_cuts_after_the_last_whole_sentence() -> None:
    text = "The bridge reopened. The toll stays at one euro. Ferries stop next month."
    cut = render.shorten(text, 55)
    assert cut == "The bridge reopened. The toll stays at one euro. …"
    assert len(cut) <= 55


def test_shorten_does_not_take_a_decimal_point_for_a_sentence_end() -> None:
    text = "It cost 3.5 million euros and took two years to finish the whole repair."
    cut = render.shorten(text, 30)
    assert cut == "It cost 3.5 million euros and…" and len(cut) <= 30


def test_shorten_falls_back_to_a_word_when_the_first_sentence_is_too_long() -> None:
    cut = render.shorten("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("word…")


# -- answers -----------------------------------------------------------------------------------


def test_an_answer_quotes_with_markers_then_lists_its_sources() -> None:
    answer = Answer(
        question="When did the bridge reopen?",
        abstained=False,
        quotes=[quote("The Eastport harbour bridge reopened to traffic on Thursday.")],
        sources=[BRIDGE],
    )
    embed = render.answer_embed(answer)
    assert embed.title == "When did the bridge reopen?"
    assert embed.description == (
        "“The Eastport harbour bridge reopened to traffic on Thursday.” [1]\n\n"
        "**Sources**\n"
        "**[1]** [Harbour bridge reopens after two-year repair]"
        "(https://example.org/news/harbour-bridge-reopens) — Port Gazette · 2024-03-14"
    )
    assert embed.footer.text == "Sources published 2024-03-14"


def test_an_abstention_is_said_plainly_without_sources() -> None:
    embed = render.answer_embed(Answer(question="What is QCD?", abstained=True))
    assert embed.description is not None and embed.description.startswith(NOT_COVERED)
    assert "Sources" not in embed.description


def test_quoted_markdown_and_mentions_are_shown_literally() -> None:
    answer = Answer(
        question="*bold* @everyone",
        abstained=False,
        quotes=[quote("Prices rose *sharply* for __all__ [members].")],
        sources=[replace(BRIDGE, url=None, source=None, published=None)],
    )
    embed = render.answer_embed(answer)
    assert embed.title == "\\*bold\\* @everyone"
    assert "\\*sharply\\* for \\_\\_all\\_\\_ \\[members\\]" in (embed.description or "")
    assert "**[1]** Harbour bridge reopens after two-year repair" in (embed.description or "")


def test_a_link_that_would_break_markdown_or_is_not_http_is_not_linked() -> None:
    odd = replace(BRIDGE, url="https://example.org/a_(b)")
    assert "(https://example.org/a_%28b%29)" in render.source_line(odd)
    local = replace(BRIDGE, url="file:///etc/passwd")
    assert "file:" not in render.source_line(local)


def test_an_oversized_answer_is_cut_at_sentences_and_stays_within_limits() -> None:
    sentence = "Engineers replaced every cable of the bridge. "
    sources = [
        replace(BRIDGE, n=n, title="Headline " * 40, url="https://example.org/" + "x" * 400)
        for n in range(1, 31)
    ]
    quotes = [quote(sentence * 12, n=i % 30 + 1) for i in range(40)]
    answer = Answer(question="q " * 500, abstained=False, quotes=quotes, sources=sources)
    embed = render.answer_embed(answer, Filters(source="x" * 3000))
    assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
    assert len(embed.title or "") <= render.TITLE_LIMIT
    assert embed_size([embed]) <= render.MESSAGE_EMBED_LIMIT
    quotes_part, sources_part = (embed.description or "").split("\n\n**Sources**\n")
    assert re.search(r"bridge\.( …)?” \[\d+\]$", quotes_part)
    assert sources_part.endswith("more: press Sources.")


def test_filters_are_named_in_the_footer() -> None:
    filters = Filters(source="Port Gazette", since=date(2024, 1, 1), until=date(2024, 6, 30))
    assert render.filters_note(filters) == (
        "Only articles from Port Gazette, published on or after 2024-01-01, "
        "published on or before 2024-06-30"
    )
    assert render.filters_note(Filters()) is None


# -- passages ----------------------------------------------------------------------------------


def test_passages_show_the_quoted_sentences_in_bold_with_scores() -> None:
    quoted = quote("Engineers replaced all 212 steel cables.")
    content, embeds = render.passages_message([passage()], [quoted], heading="Sources for @here")
    assert content == "Sources for @\u200bhere"  # never a ping, even if mentions were allowed
    (embed,) = embeds
    assert embed.title == "1. Harbour bridge reopens after two-year repair"
    assert embed.url == BRIDGE.url
    assert "**Engineers replaced all 212 steel cables.**" in (embed.description or "")
    assert embed.footer.text == (
        "Port Gazette · 2024-03-14 · score 0.69 (meaning 0.38, words 0.78)"
    )


def test_many_long_passages_share_one_message() -> None:
    long_text = "The harbour bridge was repaired over two long years of work. " * 200
    passages = [passage(long_text, rank=r) for r in range(1, 13)]
    _, embeds = render.passages_message(passages, heading="h")
    assert len(embeds) == render.MAX_EMBEDS
    assert embed_size(embeds) <= render.MESSAGE_EMBED_LIMIT
    assert all((e.description or "").endswith("work. …") for e in embeds)


def test_a_short_passage_is_shown_whole_beside_long_ones() -> None:
    long_text = "The harbour bridge was repaired over two long years of work. " * 200
    passages = [passage(long_text, rank=1), passage("Short and whole.", rank=2)]
    _, embeds = render.passages_message(passages, heading="h")
    assert embeds[1].description == "Short and whole."
    assert embed_size(embeds) <= render.MESSAGE_EMBED_LIMIT


# -- index status and reports ------------------------------------------------------------------


def article(n: int, published: str | None = "2024-03-14") -> ArticleRecord:
    return ArticleRecord(
        id=f"a{n}",
        title=f"Article {n}",
        url=f"https://example.org/{n}",
        source="Port Gazette",
        author=None,
        published=published,
        path=f"a{n}.md",
        content_hash="h",
        indexed_at="2024-03-14T00:00:00+00:00",
    )


STATUS = IndexStatus(
    articles=23, chunks=40, updated_at="2024-03-14T10:00:00+00:00", model="m", generation=3
)


@pytest.mark.parametrize(("page", "first", "last"), [(0, 1, 10), (2, 21, 23)])
def test_the_article_list_is_paged(page: int, first: int, last: int) -> None:
    embed = render.articles_embed([article(n) for n in range(1, 24)], STATUS, page)
    description = embed.description or ""
    assert description.startswith("**23 articles, 40 chunks** · index updated <t:1710410400:f>")
    assert f"**{first}.** [Article {first}](https://example.org/{first})" in description
    assert f"**{last}.**" in description and f"**{last + 1}.**" not in description
    assert embed.footer.text == f"Page {page + 1} of 3 · model m"


def test_an_article_without_outlet_or_date_shows_its_file() -> None:
    line = render.article_line(4, replace(article(4, published=None), source=None))
    assert line.endswith("`a4.md`")


def test_a_reindex_report_gives_the_counts_and_the_skipped_files() -> None:
    report = IndexReport(
        added=1,
        updated=2,
        removed=3,
        unchanged=4,
        failed=[IngestFailure(path=f"bad-{n}.json", error="not JSON " * 30) for n in range(40)],
        articles=7,
        chunks=9,
        seconds=1.25,
    )
    text = render.reindex_report(report)
    assert text.startswith(
        "Reindex finished in 1.2 s: 1 added, 2 updated, 3 removed, 4 unchanged, 40 failed. "
        "The index holds 7 articles in 9 chunks.\nSkipped:\n- `bad-0.json`: not JSON"
    )
    assert len(text) <= render.CONTENT_LIMIT and re.search(r"… and \d+ more\.$", text)


def test_progress_names_the_stage() -> None:
    assert render.reindex_progress(None) == "Reindexing: reading the articles…"
    assert render.reindex_progress("embedding", 32, 128) == (
        "Reindexing: embedding 32 of 128 new chunks (25%)…"
    )
    assert render.reindex_progress("writing", 0, 1) == "Reindexing: writing the new index…"


# -- notes, reasons and syndicated copies (news answers) ----------------------------------------


def test_notes_follow_the_quotes() -> None:
    answer = Answer(
        question="How much does the new bridge in Stockholm cost?",
        abstained=False,
        quotes=[quote("Engineers replaced all 212 steel cables.")],
        sources=[BRIDGE],
        notes=["No article mentions Stockholm."],
    )
    description = render.answer_embed(answer).description or ""
    assert "“Engineers replaced all 212 steel cables.” [1]\n*No article mentions Stockholm.*" in (
        description
    )
    assert description.index("Stockholm") < description.index("**Sources**")


def test_an_abstention_gives_its_reason_and_notes() -> None:
    answer = Answer(
        question="Who won?",
        abstained=True,
        reason="No indexed article is from Nowhere Times: see what is indexed.",
        notes=["No article mentions Oslo."],
    )
    description = render.answer_embed(answer).description or ""
    assert description.startswith(
        "No indexed article is from Nowhere Times: see what is indexed. No article mentions Oslo."
    )
    assert NOT_COVERED not in description


def test_other_outlets_of_a_syndicated_story_are_named() -> None:
    line = render.source_line(replace(BRIDGE, also=("Coastal Post", "Valley Times")))
    assert line.endswith("(also reported by Coastal Post, Valley Times)")
