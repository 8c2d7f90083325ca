"""Tests for index.ingest.readers: the folder as a whole (ids, bad files, limits, what is not
read), text normalisation and dates. Each format's parsing is in test_formats.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index.errors import ArticlesFolderError
from index.ingest import formats, readers
from index.ingest.dates import parse_published
from index.ingest.readers import (
    ARTICLE_SUFFIXES,
    Article,
    IngestFailure,
    iter_article_files,
    iter_articles,
    load_articles,
)
from index.ingest.text import normalize_text
from tests.index.ingest.conftest import by_id, write

# --- the folder as a whole -------------------------------------------------------------------


def test_bad_files_are_reported_and_every_good_article_is_loaded(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", "Good title\nGood body.\n")
    write(tmp_path, "world/2024/peace-talks.txt", "Peace talks\nThey talked.\n")
    write(
        tmp_path, "cafe.txt", "Le café\nUn café crème à Zürich, très élégant.\n".encode("latin-1")
    )
    write(tmp_path, "smart.txt", "Quotes\n“Smart” quotes – and a dash.\n".encode("cp1252"))
    write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path, "empty.md", "")
    write(tmp_path, "blank.txt", " \n\t\n\u200b\n")
    write(tmp_path, "title-only.txt", "Just a title\n\n")
    write(tmp_path, "feed.jsonl", '{"text": "One."}\n{"text": "Two.",}\n{"text": "Three."}\n')
    write(tmp_path, "bad-front.md", "---\ntitle: [unclosed\n---\nBody.\n")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing-target.txt")

    result = load_articles(tmp_path)

    articles = {a.id: a for a in result.articles}
    assert sorted(articles) == [
        "cafe",
        "feed#1",
        "feed#3",
        "good",
        "smart",
        "world/2024/peace-talks",
    ]
    assert articles["cafe"].title == "Le café"
    assert articles["cafe"].text == "Un café crème à Zürich, très élégant."
    assert articles["smart"].text == "“Smart” quotes – and a dash."
    assert articles["world/2024/peace-talks"].path == "world/2024/peace-talks.txt"
    assert {(f.path, f.error) for f in result.failures} == {
        (
            "bad-front.md",
            "invalid YAML front matter: expected ',' or ']', but got '<stream end>' (line 2)",
        ),
        ("blank.txt", "empty file"),
        ("empty.md", "empty file"),
        (
            "feed.jsonl#2",
            "invalid JSON at line 2: Expecting property name enclosed in double quotes",
        ),
        ("gone.txt", "cannot read file: No such file or directory"),
        ("image.txt", "binary file (not text)"),
        ("title-only.txt", "no body text after the title line"),
    }


def test_utf8_and_utf16_byte_order_marks_are_decoded(tmp_path: Path) -> None:
    write(tmp_path, "bom8.txt", "\ufeffÜber\nStraße und Café.\n".encode())
    write(tmp_path, "bom16.txt", "Über\nStraße und Café.\n".encode("utf-16"))

    articles = by_id(tmp_path)

    for article_id in ("bom8", "bom16"):
        assert (articles[article_id].title, articles[article_id].text) == (
            "Über",
            "Straße und Café.",
        )


def test_duplicate_ids_keep_the_first_and_report_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "a/story.md", "# First\n\nFirst body.\n")
    write(tmp_path, "a/story.txt", "Second\nSecond body.\n")
    write(tmp_path, "feed.jsonl", '{"id": "a/story", "text": "Third."}\n')

    result = load_articles(tmp_path)

    assert [(a.id, a.title) for a in result.articles] == [("a/story", "First")]
    assert result.failures == [
        IngestFailure("a/story.txt", "duplicate article id 'a/story' (also in a/story.md)"),
        IngestFailure("feed.jsonl#1", "duplicate article id 'a/story' (also in a/story.md)"),
    ]


def test_iter_article_files_is_sorted_recursive_and_skips_hidden_and_other_files(
    tmp_path: Path,
) -> None:
    for rel in ("b.txt", "a/z.md", "a/b/c.HTML", "x.jsonl", "d.pdf", "notes.docx", ".hidden.txt"):
        write(tmp_path, rel, "Title\nBody.\n")
    write(tmp_path, ".git/HEAD.txt", "Title\nBody.\n")

    files = [p.relative_to(tmp_path).as_posix() for p in iter_article_files(tmp_path)]

    assert files == ["a/b/c.HTML", "a/z.md", "b.txt", "d.pdf", "x.jsonl"]


def test_article_paths_are_relative_to_the_folder_however_it_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for rel in ("b.txt", "a-b/c.md", "a/z.md", "a/b/c.txt"):
        write(tmp_path, rel, f"Title of {rel}\nBody.\n")
    want = ["a/b/c.txt", "a/z.md", "a-b/c.md", "b.txt"]  # Path order: "a/..." before "a-b/..."
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("HOME", str(tmp_path.parent))
    for name in (
        tmp_path,
        f"{tmp_path}/",
        tmp_path.name,
        f"./{tmp_path.name}",
        f"~/{tmp_path.name}",
    ):
        assert [rel for rel, _ in iter_articles(name)] == want, name
    monkeypatch.chdir(tmp_path)
    assert [rel for rel, _ in iter_articles(".")] == want
    assert [a.path for a in load_articles(".").articles] == want


def test_missing_folder_raises_articles_folder_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ArticlesFolderError, match=r"^Articles folder not found: .*nope\. "):
        load_articles(missing)
    write(tmp_path, "file.txt", "Title\nBody.\n")
    with pytest.raises(ArticlesFolderError, match="not a folder"):
        load_articles(str(tmp_path / "file.txt"))


def test_content_hash_covers_content_and_metadata_but_not_path() -> None:
    article = Article(id="x", title="T", text="Body.", source="The Hill", path="x.txt")
    moved = Article(id="y", title="T", text="Body.", source="The Hill", path="y/x.txt")
    retitled = Article(id="x", title="T2", text="Body.", source="The Hill", path="x.txt")
    resourced = Article(id="x", title="T", text="Body.", source="AP", path="x.txt")

    assert article.content_hash == moved.content_hash
    assert len({article.content_hash, retitled.content_hash, resourced.content_hash}) == 3
    # Pinned so that a format change (which forces re-embedding everything) is deliberate.
    assert article.content_hash == (
        "8e3fd6501e1ae3d2ae877626d61c0995d7f8ab6dd7211b0208603a4576918db0"
    )


# --- normalize_text and parse_published ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb\rc", "a\nb\nc"),
        ("one\u00a0two\tthree\u2003four\u202ffive", "one two three four five"),
        ("zero\u200bwidth\u200c\u200djoin\ufeff", "zerowidthjoin"),
        ("bell\x07 and\x00 nul", "bell and nul"),
        ("  lots    of   space  \n  indented line  ", "lots of space\nindented line"),
        ("para one\n\n\n\n\npara two\n \n \npara three", "para one\n\npara two\n\npara three"),
        ("cafe\u0301", "café"),
        ("\n\n  padded  \n\n", "padded"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_text_keeps_every_word_and_is_idempotent() -> None:
    raw = (
        "  The  “quick”\u00a0brown\tfox —\r\n\r\n\r\n jumps over\u2009the lazy dog’s 1,000 bones.  "
    )

    once = normalize_text(raw)

    assert once.split() == raw.split()
    assert once == "The “quick” brown fox —\n\njumps over the lazy dog’s 1,000 bones."
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T14:30:00Z", "2024-03-05T14:30:00+00:00"),
        ("2024-03-05T09:30:00-05:00", "2024-03-05T14:30:00+00:00"),
        ("2024-03-05 14:30", "2024-03-05T14:30:00+00:00"),
        ("2024/03/05", "2024-03-05"),
        ("Tue, 05 Mar 2024 14:30:00 +0000", "2024-03-05T14:30:00+00:00"),
        ("March 5, 2024", "2024-03-05"),
        ("5 March 2024", "2024-03-05"),
        ("Mar 5, 2024", "2024-03-05"),
        ("  5  Mar  2024 ", "2024-03-05"),
        ("yesterday", None),
        ("2024-13-45", None),
        ("", None),
        (None, None),
        (20240305, None),
    ],
)
def test_parse_published(value: object, expected: str | None) -> None:
    assert parse_published(value) == expected


def test_parse_published_accepts_yaml_date_objects() -> None:
    import datetime as dt

    assert parse_published(dt.date(2024, 3, 5)) == "2024-03-05"
    assert parse_published(dt.datetime(2024, 3, 5, 14, 30, 15, 999)) == "2024-03-05T14:30:15+00:00"


# --- what is not read, and why (issue 13 item 6, issue 15 items 4 and 5) ----------------------


def test_every_file_that_is_not_an_article_is_listed_with_the_types_read(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", "Good\nBody.\n")
    write(tmp_path, "report.docx", b"PK\x03\x04")
    write(tmp_path, "pictures/photo.JPG", b"\xff\xd8\xff")
    write(tmp_path, "README", "notes")
    write(tmp_path, ".hidden.docx", "hidden files are not articles, nor reported")

    result = load_articles(tmp_path)

    assert [a.id for a in result.articles] == ["good"]
    readable = ", ".join(sorted(ARTICLE_SUFFIXES))
    assert {(f.path, f.error) for f in result.failures} == {
        ("README", f"not an article file (citebot reads {readable})"),
        ("pictures/photo.JPG", f"not an article file (citebot reads {readable})"),
        ("report.docx", f"not an article file (citebot reads {readable})"),
    }


def test_a_newly_registered_suffix_is_read_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "notes.rst", "Notes\nBody.\n")
    assert [f.path for f in load_articles(tmp_path).failures] == ["notes.rst"]
    monkeypatch.setattr(readers, "ARTICLE_SUFFIXES", ARTICLE_SUFFIXES | {".rst"})
    monkeypatch.setitem(formats.PARSERS, ".rst", formats.parse_txt)
    result = load_articles(tmp_path)
    assert ([a.id for a in result.articles], result.failures) == (["notes"], [])


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_loaded(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", "Good\nBody.\n")
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("Cafe\nBody.\n")
    (tmp_path / os.fsdecode(b"dossier-\xe9t\xe9")).mkdir()
    (tmp_path / os.fsdecode(b"dossier-\xe9t\xe9") / "inside.txt").write_text("In\nBody.\n")

    result = load_articles(tmp_path)

    assert [a.id for a in result.articles] == ["good"]
    assert result.failures == [
        IngestFailure("caf\ufffd.txt", "the file name is not valid UTF-8: rename it"),
        IngestFailure("dossier-\ufffdt\ufffd", "the folder name is not valid UTF-8: rename it"),
    ]


def test_folders_nested_a_thousand_deep_are_read(tmp_path: Path) -> None:
    write(tmp_path, "top.txt", "Top\nBody.\n")
    levels = [tmp_path / ("d/" * n).rstrip("/") for n in range(1, 1001)]
    for level in levels:  # os.walk recursed once per level: past ~990 it raised RecursionError
        level.mkdir()
    (levels[-1] / "deep.txt").write_text("Deep\nBody.\n")
    try:
        result = load_articles(tmp_path)
    finally:  # shutil.rmtree (pytest's clean-up) would recurse as deep: undo it level by level
        (levels[-1] / "deep.txt").unlink()
        for level in reversed(levels):
            level.rmdir()

    assert sorted(a.title for a in result.articles) == ["Deep", "Top"]
    assert result.failures == []


def test_a_file_over_the_size_limit_is_skipped_at_once(tmp_path: Path) -> None:
    write(tmp_path, "good.txt", "Good\nBody.\n")
    with open(tmp_path / "huge.txt", "wb") as fh:  # sparse: 50 MB that take no time to write
        fh.truncate(50 * 1024 * 1024)
    write(tmp_path, "feed.jsonl", json.dumps({"text": "x " * 400_000}) + "\n" + '{"text": "Ok."}\n')

    result = load_articles(tmp_path, max_article_mb=0.5)

    assert sorted(a.id for a in result.articles) == ["feed#2", "good"]
    assert {(f.path, f.error) for f in result.failures} == {
        ("huge.txt", "50.0 MB, more than CITEBOT_MAX_ARTICLE_MB (0.5 MB)"),
        ("feed.jsonl#1", "text of 0.8 MB, more than CITEBOT_MAX_ARTICLE_MB (0.5 MB)"),
    }


def test_duplicate_ids_keep_the_file_already_indexed(tmp_path: Path) -> None:
    """A new file reusing an indexed article's id is the one skipped (not the article's own)."""
    write(tmp_path, "comet.txt", "Comet\nA comet was seen.\n")
    write(tmp_path, "a-feed.jsonl", '{"id": "comet", "text": "Something else."}\n')

    result = load_articles(tmp_path, indexed_paths={"comet": "comet.txt"})

    assert [(a.id, a.path) for a in result.articles] == [("comet", "comet.txt")]
    assert result.failures == [
        IngestFailure("a-feed.jsonl#1", "duplicate article id 'comet' (also in comet.txt)")
    ]
    # Without an index (or once comet.txt is gone), the first in file order wins as before.
    assert [a.path for a in load_articles(tmp_path).articles] == ["a-feed.jsonl"]
