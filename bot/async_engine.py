"""The index engine made awaitable: its CPU and disk work never runs on the event loop.

Questions, searches and feedback writes go to one small thread pool; a reindex gets a thread
of its own, so questions keep being answered (from the old index) while it runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from index.answer.claims import MessageCheck
from index.answer.compose import Answer
from index.answer.followup import Reading, Turn
from index.answer.retrieval import Filters, Passage
from index.engine import Engine, IndexStatus
from index.errors import CitebotError, ReindexAbandonedError, ReindexRunningError
from index.feedback import FeedbackStore
from index.gaps import Gap, coverage_gaps
from index.progress import ProgressCallback
from index.settings import EngineSettings
from index.store.generations import ArticleRecord
from index.store.indexer import IndexReport
from index.store.writer_lock import ReindexClaim

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

QUERY_WORKERS = 4
QUERY_THREAD_PREFIX = "citebot-engine"
REINDEX_THREAD_NAME = "citebot-reindex"
REINDEX_RUNNING = "A reindex is already running: wait for it to finish before starting another."
CLAIM_POLL_SECONDS = 0.5  # how often a waiting reindex looks again when it cannot be told
REINDEX_ABANDONED = "The bot is stopping: the reindex was abandoned; the previous index is in use."


class AsyncEngine:
    """Awaitable `Engine` calls, run in worker threads."""

    def __init__(self, engine: Engine, workers: int = QUERY_WORKERS) -> None:
        self._engine = engine
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=QUERY_THREAD_PREFIX)
        self._idle = asyncio.Event()  # set while no reindex started here is running
        self._idle.set()
        self._stopping = threading.Event()  # set once the bot stops: see `stop`
        self._outlets: tuple[int, list[str]] | None = None

    @property
    def data_dir(self) -> Path:
        """Where the index (and the bot's own files) live."""
        return self._engine.data_dir

    @property
    def settings(self) -> EngineSettings:
        """The engine's settings (articles folder, data directory, fetching)."""
        return self._engine.settings

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking `func` in the query pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(func, *args, **kwargs))

    async def ask(self, question: str, filters: Filters | None = None) -> Answer:
        """Answer with quotes and sources, or abstain."""
        return await self.run(self._engine.ask, question, filters=filters)

    async def ask_after(
        self,
        question: str,
        earlier: Sequence[Turn] = (),
        filters: Filters | None = None,
        as_of: date | None = None,
    ) -> tuple[Answer, Reading]:
        """Answer `question` as the next turn after `earlier` (a follow-up or on its own)."""
        return await self.run(
            self._engine.ask_after, question, earlier, filters=filters, as_of=as_of
        )

    async def check(self, message: str, as_of: date | None = None) -> MessageCheck:
        """The passages that support, or contradict, each claim of `message`."""
        return await self.run(self._engine.check, message, as_of)

    async def gaps(self, feedback: FeedbackStore, days: float) -> list[Gap]:
        """Questions the articles failed to answer in the last `days` days, grouped."""
        return await self.run(coverage_gaps, feedback, self._engine.embedder, days)

    async def search(self, query: str, k: int = 5) -> list[Passage]:
        """The `k` most relevant passages."""
        return await self.run(self._engine.search, query, k)

    async def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest first."""
        return await self.run(self._engine.articles)

    async def status(self) -> IndexStatus:
        """What is indexed and since when."""
        return await self.run(self._engine.status)

    async def outlets(self) -> list[str]:
        """The distinct outlets (article sources) in the index, for autocompletion."""
        return await self.run(self._outlets_now)

    def _outlets_now(self) -> list[str]:
        generation = self._engine.status().generation
        cached = self._outlets
        if cached is None or cached[0] != generation:
            names = {a.source.strip() for a in self._engine.articles() if a.source}
            cached = (generation, sorted(names, key=str.casefold))
            self._outlets = cached
        return cached[1]

    async def warm_up(self) -> None:
        """Load the model and open the index now rather than on the first question."""
        await self.run(self._warm_up)

    def _warm_up(self) -> None:
        self._engine.embedder.embed(["citebot warm-up"])
        try:
            status = self._engine.status()
        except CitebotError as exc:
            log.warning("%s Questions will fail until an admin runs /reindex.", exc)
            return
        log.info(
            "index generation %d: %d articles, %d chunks",
            status.generation,
            status.articles,
            status.chunks,
        )

    @property
    def reindexing(self) -> bool:
        """Whether a reindex of this bot's index is running in this process."""
        return self._engine.reindex_running

    def claim_reindex(self) -> ReindexClaim:
        """Claim the one reindex at once (no I/O): raises ReindexRunningError if one runs.

        Call it before the first await of a command, then pass the claim to `reindex`; or
        hold it (`with claim:`) around other work that must not overlap a reindex.
        """
        try:
            return self._engine.claim_reindex()
        except ReindexRunningError as exc:
            raise ReindexRunningError(REINDEX_RUNNING) from exc

    async def wait_for_reindex_claim(self) -> ReindexClaim:
        """Claim the one reindex, waiting for a running one (in this process) to finish."""
        while True:
            try:
                return self.claim_reindex()
            except ReindexRunningError:
                log.info("waiting for the running reindex to finish")
                if self._idle.is_set():  # run by someone else: look again shortly
                    await asyncio.sleep(CLAIM_POLL_SECONDS)
                else:
                    await self._idle.wait()

    async def reindex(
        self,
        progress: ProgressCallback | None = None,
        *,
        wait: bool = False,
        claim: ReindexClaim | None = None,
    ) -> IndexReport:
        """Reindex incrementally in a thread of its own; one at a time.

        While one runs, another is refused, or with `wait` (a scheduled refresh) started
        once the running one has finished. A reindex run by another process is refused
        (ReindexRunningError) either way. The claim (taken here unless given) is released
        when the reindex thread ends.
        """
        if claim is None:
            claim = await self.wait_for_reindex_claim() if wait else self.claim_reindex()
        if self._stopping.is_set():
            claim.release()
            raise ReindexAbandonedError(REINDEX_ABANDONED)
        watched = self._unless_stopping(progress)
        settings = self._engine.settings
        log.info("reindexing %s into %s", settings.articles_dir, settings.data_dir)

        def run() -> IndexReport:
            try:
                return self._engine.reindex(watched, claim=claim)
            finally:
                claim.release()

        self._idle.clear()
        settings = self._engine.settings
        log.info("reindexing %s into %s", settings.articles_dir, settings.data_dir)
        try:
            return await _in_daemon_thread(run)  # starts the thread before its first await
        finally:
            self._idle.set()

    def _unless_stopping(self, progress: ProgressCallback | None) -> ProgressCallback:
        """`progress`, which first abandons the reindex (at its next step) once `stop` ran."""

        def report(*args: Any) -> None:
            if self._stopping.is_set():
                raise ReindexAbandonedError(REINDEX_ABANDONED)
            if progress is not None:
                progress(*args)

        return report

    async def stop(self, timeout: float) -> bool:
        """Refuse new reindexes, abandon a running one at its next step, and wait up to
        `timeout` seconds for it to end: True once none runs. Abandoning is safe: the live
        generation is only replaced by a complete one, and the next reindex removes the rest."""
        self._stopping.set()
        if self._idle.is_set():
            return True
        log.info("abandoning the running reindex; the previous index stays in use")
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Stop accepting work; queued calls are cancelled."""
        self._pool.shutdown(wait=False, cancel_futures=True)


async def _in_daemon_thread(func: Callable[..., T], *args: object) -> T:
    """Run `func` in a daemon thread: shutting down never waits for a long reindex.

    Killing a reindex at any point is safe: the live index generation is replaced only once
    the new one is complete, and the next reindex removes the unfinished one.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            result = func(*args)
        except BaseException as exc:
            outcome = functools.partial(future.set_exception, exc)
        else:
            outcome = functools.partial(future.set_result, result)
        try:
            loop.call_soon_threadsafe(settle, outcome)
        except RuntimeError:  # the event loop closed while the thread worked
            log.debug("event loop gone before %s finished", REINDEX_THREAD_NAME)

    threading.Thread(target=target, name=REINDEX_THREAD_NAME, daemon=True).start()
    return await future
