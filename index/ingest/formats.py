"""One parser per article format: text, Markdown, HTML, PDF, JSON and JSON lines.

Each yields (location, Article or the reason a record is skipped) and raises NotAnArticle when
the whole file cannot become an article. `readers` decodes files and calls these.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import yaml

from index.ingest.article import Article, NotAnArticle
from index.ingest.dates import parse_published
from index.ingest.library_logs import route_to_debug
from index.ingest.text import normalize_text

_ATX_H1 = re.compile(r"# +(.+?)(?: +#+)?")

# Accepted keys per Article field, in order of preference (front matter and JSON objects).
_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "url": ("url", "link"),
    "source": ("source", "outlet", "publisher", "site"),
    "author": ("author", "by", "authors"),
    "published": ("published", "date", "published_at"),
}
# trafilatura's baseline fallback would otherwise return menu text for a page with no article.
_HTML_BOILERPLATE_XPATHS = ["//nav", "//footer"]


def parse_txt(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    """A .txt file: the first line is the title, the rest the body."""
    title, _, body = normalize_text(text).partition("\n")
    body = body.strip()
    if not body:
        raise NotAnArticle("no body text after the title line")
    yield rel, Article(id=_base_id(rel), title=_one_line(title), text=body, path=rel)


def parse_markdown(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    """A Markdown file: metadata from YAML front matter, else the title from a leading "# "
    heading or the file name."""
    front_matter, body = _split_front_matter(text)
    fields = _metadata(front_matter)
    title = fields.pop("title")
    body = normalize_text(body)
    if title is None:
        first_line, _, rest = body.partition("\n")
        heading = _ATX_H1.fullmatch(first_line)
        if heading:
            title, body = _one_line(heading[1]), rest.strip()
            if not body:
                raise NotAnArticle("no body text after the title heading")
    if not body:
        raise NotAnArticle("no body text after the front matter")
    title = title or _title_from_stem(rel)
    yield rel, Article(id=_base_id(rel), title=title, text=body, path=rel, **fields)


def _split_front_matter(text: str) -> tuple[dict[Any, Any], str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise NotAnArticle("invalid YAML front matter: no closing '---' line")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise NotAnArticle(f"invalid YAML front matter: {_yaml_reason(exc)}") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise NotAnArticle(f"invalid YAML front matter: expected 'key: value' lines, got a {kind}")
    return meta, "\n".join(lines[end + 1 :])


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        # +1 for 0-based lines, +1 for the opening '---': the line number in the file.
        return f"{exc.problem} (line {mark.line + 2})" if mark else exc.problem
    return str(exc)


def parse_html(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    """An HTML page: the article text and metadata as trafilatura extracts them."""
    doc, body = extract_html(text)
    if not body:
        raise NotAnArticle("no article text found in HTML")
    yield (
        rel,
        Article(
            id=_base_id(rel),
            title=_meta_str(doc.title) or _title_from_stem(rel),
            text=body,
            url=_meta_str(doc.url),
            source=_meta_str(doc.sitename),
            author=_meta_str(doc.author),
            published=parse_published(doc.date),
            path=rel,
        ),
    )


def extract_html(html: str, url: str | None = None) -> tuple[Any, str]:
    """trafilatura's document for an HTML page (None when it finds nothing) and the article
    text, one paragraph per block element ("" when there is none). Shared by HTML files and
    web pages."""
    import trafilatura  # imported here: it costs ~0.5 s and only HTML needs it

    route_to_debug("trafilatura")  # its ERROR lines on bad HTML: the page is reported once
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        prune_xpath=_HTML_BOILERPLATE_XPATHS,
        # No extensive search: it guesses dates from page text, e.g. a "© 2021" footer.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    # trafilatura puts one block element per line; make each a paragraph, as in .txt and .md.
    body = normalize_text(doc.text.replace("\n", "\n\n")) if doc and doc.text else ""
    return doc, body


def parse_pdf(raw: bytes, rel: str) -> Iterator[tuple[str, Article | str]]:
    """A PDF: its text, with title, author and date from its metadata where present."""
    from index.ingest.pdf import PdfError, read_pdf  # pypdf is only needed for PDFs

    try:
        pdf = read_pdf(raw)
    except PdfError as exc:
        raise NotAnArticle(str(exc)) from exc
    fields = {"author": pdf.author, "published": parse_published(pdf.published)}
    title = _one_line(pdf.title or "") or _title_from_stem(rel)
    yield (
        rel,
        Article(id=_base_id(rel), title=title, text=normalize_text(pdf.text), path=rel, **fields),
    )


def parse_json(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    """A JSON object, or a list of them, each with a "text" field (`file.json#N` for the Nth)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotAnArticle(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    base_id = _base_id(rel)
    if isinstance(data, dict):
        yield rel, _article_from_object(data, base_id, rel)
    elif isinstance(data, list) and data:
        for index, obj in enumerate(data, start=1):
            yield f"{rel}#{index}", _article_from_object(obj, f"{base_id}#{index}", rel)
    elif isinstance(data, list):
        raise NotAnArticle("empty JSON list")
    else:
        raise NotAnArticle(f"expected a JSON object or a list of objects, got {_json_type(data)}")


def parse_jsonl(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    """One JSON object per line; a bad line is reported as `file.jsonl#LINE`, the rest kept."""
    base_id = _base_id(rel)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        location = f"{rel}#{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield location, f"invalid JSON at line {lineno}: {exc.msg}"
            continue
        yield location, _article_from_object(obj, f"{base_id}#{lineno}", rel)


def _article_from_object(obj: object, default_id: str, rel: str) -> Article | str:
    """The article a JSON object describes, or why it cannot be one."""
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {_json_type(obj)}"
    raw_text = obj.get("text")
    if raw_text is None:
        return "no 'text' field"
    if not isinstance(raw_text, str):
        return f"'text' must be a string, got {_json_type(raw_text)}"
    text = normalize_text(raw_text)
    if not text:
        return "empty 'text' field"
    raw_id = obj.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, str | int)):
        return f"'id' must be a string or an integer, got {_json_type(raw_id)}"
    article_id = (_one_line(str(raw_id)) if raw_id is not None else "") or default_id
    fields = _metadata(obj)
    title = fields.pop("title") or article_id
    return Article(id=article_id, title=title, text=text, path=rel, **fields)


def _metadata(obj: dict[Any, Any]) -> dict[str, str | None]:
    """title, url, source, author and published from a front-matter or JSON mapping."""
    lowered = {str(key).strip().lower(): value for key, value in obj.items()}
    fields: dict[str, str | None] = {}
    for name, keys in _METADATA_KEYS.items():
        value = next((lowered[k] for k in keys if lowered.get(k) not in (None, "", [])), None)
        fields[name] = parse_published(value) if name == "published" else _meta_str(value)
    return fields


def _meta_str(value: object) -> str | None:
    """A one-line metadata string; a list (of authors, say) is joined with ", "."""
    if isinstance(value, list | tuple):
        return ", ".join(filter(None, (_meta_str(item) for item in value))) or None
    if isinstance(value, str | int | float | dt.date) and not isinstance(value, bool):
        return _one_line(str(value)) or None
    return None


def _one_line(text: str) -> str:
    return " ".join(normalize_text(text).split())


def _base_id(rel: str) -> str:
    return PurePosixPath(rel).with_suffix("").as_posix()


def _title_from_stem(rel: str) -> str:
    return _one_line(PurePosixPath(rel).stem.replace("_", " ").replace("-", " "))


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


# PDFs are read from bytes (parse_pdf); every other format from decoded text.
PARSERS = {
    ".txt": parse_txt,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
}
