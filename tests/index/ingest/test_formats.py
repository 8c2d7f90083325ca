"""Tests for index.ingest.formats: each format's title, body and metadata, and its failures."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from index.ingest.readers import Article, IngestFailure, load_articles
from tests.index.ingest.conftest import FIXTURES, by_id, write


def test_txt_first_line_is_title_and_body_is_kept_as_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        "peace-talks.txt",
        "US, Taliban  officials discussing talks: report\r\n\r\n"
        "US, Taliban officials discussing talks: report\r\n"
        "© Getty Images\r\n\r\n\r\n\r\n"
        "U.S. and Afghan Taliban officials have started conversations.   \r\n",
    )

    [article] = load_articles(tmp_path).articles

    assert article == Article(
        id="peace-talks",
        title="US, Taliban officials discussing talks: report",
        text="US, Taliban officials discussing talks: report\n© Getty Images\n\n"
        "U.S. and Afghan Taliban officials have started conversations.",
        path="peace-talks.txt",
    )


def test_markdown_front_matter_gives_metadata_and_body_keeps_markdown(tmp_path: Path) -> None:
    write(
        tmp_path,
        "notes/budget.md",
        "---\n"
        "title: Budget  passes\n"
        "link: https://example.org/budget\n"
        "outlet: The Hill\n"
        "authors:\n  - Ada Byron\n  - Alan Turing\n"
        "date: 2024-03-05\n"
        "---\n\n"
        "The **budget** passed on Friday.\n\n## Reactions\n\n- Senators cheered.\n",
    )

    article = by_id(tmp_path)["notes/budget"]

    assert article.title == "Budget passes"
    assert article.url == "https://example.org/budget"
    assert article.source == "The Hill"
    assert article.author == "Ada Byron, Alan Turing"
    assert article.published == "2024-03-05"
    assert article.text == "The **budget** passed on Friday.\n\n## Reactions\n\n- Senators cheered."
    assert article.path == "notes/budget.md"


def test_markdown_title_from_heading_else_from_file_stem(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "\n# Rates rise again #\n\nThe bank raised rates.\n")
    write(tmp_path, "rates_cut-2024.markdown", "The bank cut rates.\n")

    articles = by_id(tmp_path)

    assert articles["a"].title == "Rates rise again"
    assert articles["a"].text == "The bank raised rates."
    assert articles["rates_cut-2024"].title == "rates cut 2024"
    assert articles["rates_cut-2024"].text == "The bank cut rates."


def test_html_main_text_and_metadata_come_from_trafilatura(tmp_path: Path) -> None:
    write(tmp_path, "world/peace-talks.html", (FIXTURES / "peace-talks.html").read_text())

    article = by_id(tmp_path)["world/peace-talks"]

    assert article.title == "Peace talks resume in Doha"
    assert article.url == "https://planet.example.com/world/peace-talks"
    assert article.source == "The Daily Planet"
    assert article.author == "Lois Lane"
    assert article.published == "2024-03-05"
    assert "Negotiators from both sides met on Tuesday in Doha" in article.text
    assert "officials said.\n\nThe talks are expected" in article.text
    assert "“We are cautiously optimistic,” a spokesperson said" in article.text
    for boilerplate in ("Home", "Sport", "Reader comment", "All rights reserved"):
        assert boilerplate not in article.text


def test_html_date_is_not_guessed_from_page_text(tmp_path: Path) -> None:
    html = (FIXTURES / "peace-talks.html").read_text()
    undated = "\n".join(line for line in html.splitlines() if "published_time" not in line)
    write(tmp_path, "undated.htm", undated)

    assert by_id(tmp_path)["undated"].published is None  # not 2021 from the footer


def test_html_without_article_text_is_a_failure(tmp_path: Path) -> None:
    write(tmp_path, "menu.html", "<html><body><nav><a href='/'>Home</a></nav></body></html>")

    result = load_articles(tmp_path)

    assert result.articles == []
    assert result.failures == [IngestFailure("menu.html", "no article text found in HTML")]


def test_json_object_and_list_ids_titles_and_dates(tmp_path: Path) -> None:
    write(tmp_path, "one.json", json.dumps({"text": "Solo body.", "date": "March 5, 2024"}))
    write(tmp_path, "named.json", json.dumps({"id": "custom", "title": "Named", "text": "Body."}))
    items = [
        {"id": 7, "text": "Seven.", "author": ["A", "B"], "source": " Wikipedia "},
        {"text": "Second.", "published": "2024-03-05T10:00:00Z", "url": ""},
    ]
    write(tmp_path, "feeds/list.json", json.dumps(items))

    articles = by_id(tmp_path)

    assert articles["one"].title == "one"
    assert articles["one"].published == "2024-03-05"
    assert articles["custom"].title == "Named"
    assert articles["custom"].path == "named.json"
    assert articles["7"].author == "A, B"
    assert articles["7"].source == "Wikipedia"
    second = articles["feeds/list#2"]
    assert (second.title, second.text, second.url) == ("feeds/list#2", "Second.", None)
    assert second.published == "2024-03-05T10:00:00+00:00"
    assert second.path == "feeds/list.json"


def test_jsonl_uses_id_field_else_line_number_and_skips_blank_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "alpha", "title": "Alpha", "text": "First."}),
        "",
        json.dumps({"text": "Third line."}),
    ]
    write(tmp_path, "news/feed.jsonl", "\n".join(lines) + "\n\n")

    result = load_articles(tmp_path)

    assert [(a.id, a.title, a.text) for a in result.articles] == [
        ("alpha", "Alpha", "First."),
        ("news/feed#3", "news/feed#3", "Third line."),
    ]
    assert result.failures == []


def test_bad_json_records_are_reported_and_the_rest_still_load(tmp_path: Path) -> None:
    write(tmp_path, "broken.json", '{"text": "x",\n "title" "y"}')
    write(tmp_path, "list.json", json.dumps([{"title": "no text"}, "oops", {"text": "Good."}]))
    write(tmp_path, "scalar.json", "42")
    write(tmp_path, "feed.jsonl", '{"text": " \\u200b "}\n{"text": "ok", "id": [1]}\n')

    result = load_articles(tmp_path)

    assert [a.id for a in result.articles] == ["list#3"]
    assert result.failures == [
        IngestFailure("broken.json", "invalid JSON at line 2: Expecting ':' delimiter"),
        IngestFailure("feed.jsonl#1", "empty 'text' field"),
        IngestFailure("feed.jsonl#2", "'id' must be a string or an integer, got a list"),
        IngestFailure("list.json#1", "no 'text' field"),
        IngestFailure("list.json#2", "expected a JSON object, got a string"),
        IngestFailure("scalar.json", "expected a JSON object or a list of objects, got a number"),
    ]


class Collected(logging.Handler):
    """Every record that reaches the root logger, as a user's log configuration would see it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_html_that_trafilatura_cannot_parse_is_reported_once_and_logs_only_debug(
    tmp_path: Path,
) -> None:
    write(tmp_path, "garbage.html", b"\xff\xfe\x00garbage")  # trafilatura logged ERROR lines
    write(tmp_path, "empty-body.html", "<html><head><title>t</title></head><body><p>")
    root, seen = logging.getLogger(), Collected()
    level = root.level
    root.addHandler(seen)
    root.setLevel(logging.DEBUG)
    try:
        result = load_articles(tmp_path)
    finally:
        root.removeHandler(seen)
        root.setLevel(level)

    assert result.failures == [
        IngestFailure("empty-body.html", "no article text found in HTML"),
        IngestFailure("garbage.html", "no article text found in HTML"),
    ]
    assert [r.getMessage() for r in seen.records if r.levelno >= logging.WARNING] == []
    routed = [r.getMessage() for r in seen.records if r.name == "index.ingest.library_logs"]
    assert any(m.startswith("trafilatura.") and "ERROR" in m for m in routed), routed
