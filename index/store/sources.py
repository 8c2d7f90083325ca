"""Where a reindex gets its articles: a folder (read twice, skipping unchanged files) or a
list of articles, and the plan that its first pass makes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from index.ingest.readers import (
    MAX_ARTICLE_MB,
    Article,
    IngestFailure,
    UnchangedFile,
    articles_folder,
    iter_articles,
    read_article_file,
)
from index.store.database import LiveArticle

# A file modified this recently before the scan may change again within its mtime's
# granularity; its size and mtime are not trusted to mean "unchanged" next time (as git does).
SETTLE_NS = 2_000_000_000

Signature = tuple[int, int] | None  # (size, mtime_ns) of the file an article was read from
Reading = Callable[[int, int], None]  # (files read, files in all, 0 if unknown)


@dataclass
class Plan:
    """What the first pass found: the changed articles (None when the source is read once),
    the ids present, and the signatures to record for unchanged articles."""

    changed: dict[str, str] | None  # article id -> content hash, for the articles to process
    seen: set[str] = field(default_factory=set)
    unchanged: int = 0
    chars: int = 0  # characters of text to process (for estimates)
    failures: list[IngestFailure] = field(default_factory=list)
    signatures: list[tuple[int, Signature]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # files holding changed articles, in order
    file_of: dict[str, str] = field(default_factory=dict)  # changed article id -> its file
    file_signatures: dict[str, Signature] = field(default_factory=dict)
    removed: int = 0

    def removed_ids(self, live: dict[str, LiveArticle]) -> list[str]:
        return [article_id for article_id in live if article_id not in self.seen]


class Source(Protocol):
    def check(self) -> None:
        """Raise a CitebotError now if the source cannot be read at all."""

    def plan(self, live: dict[str, LiveArticle], reading: Reading) -> Plan: ...

    def changed(self, plan: Plan) -> Iterator[tuple[Article, Signature]]:
        """The articles to process (for a one-pass source, every article; `plan.seen` fills)."""
        ...


class FolderSource:
    """An articles folder. Files whose size and modification time match what was indexed
    are not read at all, so a reindex of an unchanged folder costs one `stat` per file."""

    def __init__(self, folder: Path, max_article_mb: float = MAX_ARTICLE_MB) -> None:
        self.folder = folder
        self.max_article_mb = max_article_mb

    def check(self) -> None:
        articles_folder(self.folder)  # raises ArticlesFolderError if it is missing

    def plan(self, live: dict[str, LiveArticle], reading: Reading) -> Plan:
        plan = Plan(changed={})
        known = _known_files(live)
        settled = time.time_ns() - SETTLE_NS
        bad_files: set[str] = set()
        unchanged_versions: list[tuple[int, str]] = []
        files = 0

        def known_ids(rel: str, st: os.stat_result) -> Sequence[str] | None:
            entry = known.get(rel)
            return entry[1] if entry is not None and entry[0] == _signature(st) else None

        last = ""
        # An id two files give stays with the file the index holds it from.
        owners = {article_id: article.path for article_id, article in live.items()}
        found = iter_articles(
            self.folder, max_article_mb=self.max_article_mb, indexed_paths=owners, known=known_ids
        )
        for rel, item in found:
            if rel != last:
                files, last = files + 1, rel
                reading(files, 0)
            if isinstance(item, IngestFailure):
                plan.failures.append(item)
                bad_files.add(rel)
            elif isinstance(item, UnchangedFile):
                plan.seen.update(item.article_ids)
                plan.unchanged += len(item.article_ids)
            else:
                self._planned(plan, item, rel, live, settled, unchanged_versions)
        plan.signatures = [
            (version, None if rel in bad_files else plan.file_signatures.get(rel))
            for version, rel in unchanged_versions
        ]
        for rel in bad_files:
            plan.file_signatures[rel] = None
        plan.removed = len(plan.removed_ids(live))
        return plan

    def _planned(
        self,
        plan: Plan,
        article: Article,
        rel: str,
        live: dict[str, LiveArticle],
        settled: int,
        unchanged: list[tuple[int, str]],
    ) -> None:
        assert plan.changed is not None
        plan.seen.add(article.id)
        if rel not in plan.file_signatures:
            try:
                st = os.stat(self.folder / rel)
                signature = _signature(st) if st.st_mtime_ns < settled else None
            except OSError:
                signature = None
            plan.file_signatures[rel] = signature
        old = live.get(article.id)
        if old is not None and old.content_hash == article.content_hash:
            plan.unchanged += 1
            unchanged.append((old.version, rel))
            return
        plan.changed[article.id] = article.content_hash
        plan.file_of[article.id] = rel
        plan.chars += len(article.text)
        if not plan.files or plan.files[-1] != rel:
            plan.files.append(rel)

    def changed(self, plan: Plan) -> Iterator[tuple[Article, Signature]]:
        assert plan.changed is not None
        for rel in plan.files:
            for article in read_article_file(self.folder, rel, max_article_mb=self.max_article_mb):
                wanted = plan.changed.get(article.id)
                if wanted is None or plan.file_of[article.id] != rel:
                    continue  # unchanged, or a duplicate id whose other file holds it
                same = wanted == article.content_hash
                yield article, plan.file_signatures.get(rel) if same else None


class ArticleSource:
    """Articles given by the caller (a list is read twice; any other iterable once)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.articles = articles
        self.twice = isinstance(articles, Sequence)

    def check(self) -> None:
        return None

    def plan(self, live: dict[str, LiveArticle], reading: Reading) -> Plan:
        if not self.twice:
            return Plan(changed=None)
        plan = Plan(changed={})
        for article in self._unique(plan):
            old = live.get(article.id)
            if old is not None and old.content_hash == article.content_hash:
                plan.unchanged += 1
            else:
                plan.changed[article.id] = article.content_hash
                plan.chars += len(article.text)
        plan.removed = len(plan.removed_ids(live))
        return plan

    def changed(self, plan: Plan) -> Iterator[tuple[Article, Signature]]:
        if plan.changed is None:
            yield from ((a, None) for a in self._unique(plan))
            return
        for article in self._unique(Plan(changed={})):
            if plan.changed.get(article.id) == article.content_hash:
                yield article, None

    def _unique(self, plan: Plan) -> Iterator[Article]:
        """The articles, a repeated id after its first article reported as a failure."""
        for article in self.articles:
            if article.id in plan.seen:
                where = article.path or article.id
                reason = f"duplicate article id '{article.id}'"
                plan.failures.append(IngestFailure(path=where, error=reason))
                continue
            plan.seen.add(article.id)
            yield article


def _signature(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _known_files(live: dict[str, LiveArticle]) -> dict[str, tuple[Signature, list[str]]]:
    """path -> (signature, article ids) for files every article of which has a signature."""
    by_path: dict[str, tuple[Signature, list[str]]] = {}
    for article_id, article in live.items():
        signature = (
            (article.file_size, article.file_mtime_ns)
            if article.file_size is not None and article.file_mtime_ns is not None
            else None
        )
        entry = by_path.get(article.path)
        if entry is None:
            by_path[article.path] = (signature, [article_id])
        else:
            same = entry[0] if entry[0] == signature else None
            by_path[article.path] = (same, [*entry[1], article_id])
    return {path: entry for path, entry in by_path.items() if entry[0] is not None}
