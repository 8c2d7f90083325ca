"""An article as citebot reads it, and the one-line reason a file cannot become one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One article: the normalised body that is chunked and quoted, plus its metadata."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    author: str | None = None
    published: str | None = None
    path: str = ""

    @property
    def content_hash(self) -> str:
        """sha256 hex of the title, text and metadata; the id and path are left out, so a
        moved or renamed file keeps its hash."""
        fields = [self.title, self.text, self.url, self.source, self.author, self.published]
        payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class NotAnArticle(Exception):
    """The file cannot become an article; the message says why, in one line."""
