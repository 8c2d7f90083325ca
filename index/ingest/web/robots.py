"""robots.txt rules (RFC 9309), read with the standard library's parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.robotparser import RobotFileParser


@dataclass(frozen=True)
class RobotsRules:
    """What one host's robots.txt allows; `why_not` explains a blanket refusal."""

    parser: RobotFileParser | None = None
    allow: bool = True
    why_not: str = ""
    text: str | None = None  # the file's text, when there was one

    @classmethod
    def allow_all(cls) -> RobotsRules:
        """No robots.txt (a 4xx answer): everything may be fetched."""
        return cls()

    @classmethod
    def disallow_all(cls, why: str) -> RobotsRules:
        """An unreadable robots.txt (a 5xx answer): nothing may be fetched."""
        return cls(allow=False, why_not=why)

    def allows(self, url: str, agent: str) -> bool:
        """Whether `agent` may fetch `url`."""
        if self.parser is None:
            return self.allow
        return self.parser.can_fetch(agent, url)

    def crawl_delay(self, agent: str) -> float | None:
        """The Crawl-delay the file asks of `agent` (seconds), if any."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay else None


class RobotsCache(Protocol):
    """Where a fetcher keeps hosts' rules between runs (RFC 9309 allows 24 hours)."""

    async def load(self, host: str) -> RobotsRules | None:
        """The rules read recently for `host` (scheme://host:port), or None."""

    async def save(self, host: str, rules: RobotsRules) -> None:
        """Remember `host`'s rules."""


def parse_robots(text: str) -> RobotsRules:
    """The rules of a robots.txt file's text."""
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return RobotsRules(parser=parser, text=text)
