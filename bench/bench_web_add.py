"""Adding fetched articles to a large index: the cost of `citebot add` at ~50k chunks.

    python bench/bench_web_add.py ARTICLES DATA --pages-from DIR [--count 10] [--repeats 3]

ARTICLES/DATA: an articles folder and its index, built beforehand with
`citebot index --articles ARTICLES --data DATA` (e.g. a copy of the news development articles,
~4,300 articles and ~56k chunks; ~40+ minutes of embedding on 2 cores). DIR: Markdown articles
(with front matter) to serve as web pages, e.g. other news articles; they are never modified.

A local HTTP server on 127.0.0.1 serves `--count` of them as HTML pages. Each repeat runs what
`citebot add URL...` runs, in process, timing its parts: fetching + extraction + writing the
Markdown files, then the incremental reindex: its embedding time (measured inside the
embedder), the time until it reports embedding or writing (reading the folder, finding what
changed), and its writing stage (BM25, vectors, SQLite, publishing). The added
files are then deleted and the index brought back by a reindex (timed too: "remove"). A
no-change reindex is timed as well, and one `citebot add` as a subprocess, as a user runs it
(Python start-up and model load included). Medians are printed as JSON. Never run in CI; the
articles folder gets a `web/` subfolder while it runs, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

from index.embed.embedder import make_embedder
from index.ingest.readers import load_articles
from index.ingest.web.fetch import FetchLimits
from index.ingest.web.guard import AddressPolicy
from index.ingest.web.refresh import WebConfig, add_urls
from index.ingest.web.writer import WEB_FOLDER
from index.settings import EngineSettings
from index.store import indexer


class TimedEmbedder:
    """The real embedder; counts the seconds and texts spent embedding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts, progress=progress)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)


class StageClock:
    """A progress callback noting when each stage of a reindex is first reported.

    Takes either progress form (a `Progress` object, or stage, done, total).
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: dict[str, float] = {}

    def __call__(self, *args: Any) -> None:
        stage = getattr(args[0], "stage", args[0])
        self.first.setdefault(str(stage), time.perf_counter())

    def phases(self, ended: float) -> dict[str, float]:
        """Seconds from the start to the first embedding or writing report (reading the
        folder and finding what changed), and from the first writing report to the end."""
        after_reading = min(
            (t for stage, t in self.first.items() if stage != "reading"), default=ended
        )
        phases = {"until_embedding_or_writing": after_reading - self.started}
        if "writing" in self.first:
            phases["writing"] = ended - self.first["writing"]
        return phases


def page_html(path: Path) -> tuple[str, str]:
    """(slug, HTML page) for a Markdown article with front matter."""
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = {
        k.strip(): v.strip().strip('"')
        for k, _, v in (line.partition(":") for line in front.splitlines())
        if k.strip()
    }
    title = html.escape(meta.get("title", path.stem))
    paragraphs = "".join(
        f"<p>{html.escape(p.strip())}</p>" for p in body.split("\n\n") if p.strip()
    )
    date = html.escape(meta.get("published", ""))
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        f'<meta property="article:published_time" content="{date}"></head><body>'
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Bench News</footer></body></html>"
    )
    return path.stem, page


@contextlib.contextmanager
def serve_pages(pages: dict[str, str]) -> Iterator[str]:
    """Serve `pages` (slug -> HTML) on 127.0.0.1 from a thread; yields the base URL."""
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        if slug not in pages:
            raise web.HTTPNotFound()
        return web.Response(text=pages[slug], content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/news/{slug}.html", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["port"] = runner.addresses[0][1]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        state["stop"] = lambda: loop.call_soon_threadsafe(stop.set)
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        state["stop"]()
        thread.join(30)


def reindex(settings: EngineSettings, embedder: Any) -> tuple[Any, dict[str, float]]:
    clock = StageClock()
    report = indexer.update_index(
        Path(settings.articles_dir),
        Path(settings.data_dir),
        embedder,
        chunk_tokens=settings.chunk_tokens,
        overlap=settings.chunk_overlap,
        approximate_from=settings.approximate_from,
        progress=clock,
    )
    return report, clock.phases(time.perf_counter())


def one_repeat(
    settings: EngineSettings, config: WebConfig, urls: list[str], embedder: TimedEmbedder
) -> dict[str, float]:
    started = time.perf_counter()
    fetched = asyncio.run(add_urls(urls, config))
    fetch_seconds = time.perf_counter() - started
    assert fetched.count("added") == len(urls), fetched.as_json()
    embedder.seconds, embedder.texts = 0.0, 0
    started = time.perf_counter()
    report, phases = reindex(settings, embedder)
    index_seconds = time.perf_counter() - started
    assert report.added == len(urls), report.as_json()
    result = {
        "fetch_extract_write_s": fetch_seconds,
        "reindex_s": index_seconds,
        "embed_s": embedder.seconds,
        "chunks_embedded": embedder.texts,
        "reindex_without_embedding_s": index_seconds - embedder.seconds,
        **{f"{k}_s": v for k, v in phases.items()},
        "index_chunks": report.chunks,
        "index_articles": report.articles,
    }
    shutil.rmtree(Path(settings.articles_dir) / WEB_FOLDER)
    started = time.perf_counter()
    removed, _ = reindex(settings, embedder)
    result["remove_reindex_s"] = time.perf_counter() - started
    assert removed.removed == len(urls), removed.as_json()
    started = time.perf_counter()
    reindex(settings, embedder)
    result["no_change_reindex_s"] = time.perf_counter() - started
    return result


def cli_add(settings: EngineSettings, urls: list[str]) -> dict[str, Any]:
    """One `citebot add` as a user runs it (then its articles removed again)."""
    env = {**os.environ, "CITEBOT_ALLOW_PRIVATE_URLS": "true", "CITEBOT_HOST_DELAY": "0"}
    command = [sys.executable, "-m", "citebot", "add", *urls, "--json", "-q"]
    command += ["--articles", str(settings.articles_dir), "--data", str(settings.data_dir)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    shutil.rmtree(Path(settings.articles_dir) / WEB_FOLDER)
    embedder = TimedEmbedder(make_embedder(settings))
    reindex(settings, embedder)
    return {"citebot_add_wall_s": wall, "citebot_add_index_s": report["index"]["seconds"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("articles", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--pages-from", type=Path, required=True)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if (args.articles / WEB_FOLDER).exists():
        parser.error(f"{args.articles / WEB_FOLDER} exists: remove it first (it is the bench's)")
    settings = EngineSettings(articles_dir=args.articles, data_dir=args.data)
    sources = sorted(args.pages_from.glob("*.md"))[: args.count]
    pages = dict(page_html(path) for path in sources)
    embedder = TimedEmbedder(make_embedder(settings))
    baseline, _ = reindex(settings, embedder)  # nothing to do: also checks the index is there
    if baseline.changed:
        parser.error(f"{args.data} was not up to date with {args.articles}: index it first")
    print(f"index: {baseline.articles} articles, {baseline.chunks} chunks", file=sys.stderr)
    runs: list[dict[str, float]] = []
    with serve_pages(pages) as base:
        urls = [f"{base}/news/{slug}.html" for slug in pages]
        config = WebConfig.from_settings(settings)
        config = WebConfig(
            **{
                **config.__dict__,
                "limits": FetchLimits(host_delay=0),
                "policy": AddressPolicy(allow_private=True),
            }
        )
        for repeat in range(args.repeats):
            runs.append(one_repeat(settings, config, urls, embedder))
            print(f"repeat {repeat + 1}: {json.dumps(runs[-1])}", file=sys.stderr)
        cli = cli_add(settings, urls)
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        json.dumps(
            {"repeats": args.repeats, "pages": len(urls), "median": medians, **cli, "runs": runs},
            indent=2,
        )
    )
    loaded = load_articles(args.articles)
    assert len(loaded.articles) == baseline.articles, "the articles folder was not restored"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
