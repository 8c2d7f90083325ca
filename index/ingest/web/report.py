"""What adding URLs or refreshing feeds did, page by page and feed by feed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PageStatus = Literal["added", "updated", "unchanged", "skipped", "failed"]
FeedStatus = Literal["ok", "not modified", "failed"]
PAGE_STATUSES: tuple[PageStatus, ...] = ("added", "updated", "unchanged", "skipped", "failed")


@dataclass(frozen=True)
class PageOutcome:
    """One page: written (added / updated), unchanged, skipped or failed, and why."""

    url: str
    status: PageStatus
    path: str | None = None  # relative to the articles folder
    title: str | None = None
    reason: str | None = None
    feed: str | None = None
    retry: bool = False  # a failure that may pass later (timeout, 5xx): a refresh retries it


@dataclass(frozen=True)
class FeedOutcome:
    """One feed: read (entries, of which `new` were fetched), not modified (304), or failed."""

    url: str
    status: FeedStatus
    title: str | None = None
    entries: int = 0
    new: int = 0
    seen: int = 0  # entries fetched on an earlier refresh, not fetched again
    error: str | None = None


@dataclass
class FetchReport:
    """Everything one `add` or `refresh` did; `removed` lists articles retention deleted."""

    pages: list[PageOutcome] = field(default_factory=list)
    feeds: list[FeedOutcome] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def count(self, status: PageStatus) -> int:
        """How many pages ended with `status`; skipped includes entries seen before."""
        pages = sum(1 for p in self.pages if p.status == status)
        return pages + (sum(f.seen for f in self.feeds) if status == "skipped" else 0)

    @property
    def changed(self) -> bool:
        """Whether any article file was written or removed (so a reindex is due)."""
        return bool(self.removed) or any(p.status in ("added", "updated") for p in self.pages)

    @property
    def failures(self) -> list[str]:
        """One line per failed feed or page."""
        lines = [f"{f.url}: {f.error}" for f in self.feeds if f.status == "failed"]
        return lines + [p.reason or p.url for p in self.pages if p.status == "failed"]

    def summary(self) -> str:
        """One line: the counts."""
        counts = ", ".join(f"{self.count(s)} {s}" for s in PAGE_STATUSES)
        text = f"{counts}, {len(self.removed)} removed"
        if self.feeds:
            failed = sum(1 for f in self.feeds if f.status == "failed")
            feeds = "1 feed" if len(self.feeds) == 1 else f"{len(self.feeds)} feeds"
            text = f"{feeds} ({failed} failed): {text}"
        return text

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict: counts, then every feed and page."""
        return {
            **{status: self.count(status) for status in PAGE_STATUSES},
            "removed": list(self.removed),
            "feeds": [asdict(f) for f in self.feeds],
            "pages": [asdict(p) for p in self.pages],
        }
