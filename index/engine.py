"""The engine the CLI and the bot share: one model, the live index, ask / search / reindex."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from index.answer.choose import PASSAGES_READ
from index.answer.claims import MessageCheck, check_message
from index.answer.compose import Answer, compose_answer
from index.answer.followup import Reading, Turn, prefer_articles, read_question
from index.answer.retrieval import Filters, Mode, Passage, Retriever, prepare_query
from index.embed.embedder import Embedder, make_embedder
from index.errors import IndexMissingError, QuestionError
from index.ingest.text import normalize_text
from index.progress import ProgressCallback
from index.settings import EngineSettings
from index.store.generations import ArticleRecord, current_generation, open_snapshot
from index.store.indexer import IndexReport, index_params, update_index
from index.store.writer_lock import ReindexClaim, reindex_running

log = logging.getLogger(__name__)

# A longer question keeps only its end (where the ask usually is): about as much as the model
# reads (its window is 256 word pieces of ~4 characters); see `fit_question`.
MAX_QUESTION_CHARS = 1000
# A follow-up retrieves this many times the passages it keeps, so that passages of the articles
# the conversation cited can move up into the ones kept (see `prefer_articles`).
FOLLOW_UP_POOL = 2
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class IndexStatus:
    """What is indexed and since when."""

    articles: int
    chunks: int
    updated_at: str
    model: str
    generation: int


class Engine:
    """Answers questions from the live index and reindexes without interrupting answers.

    Reads take the current `Retriever` reference once and use it throughout, so a reindex
    that swaps in a new one (a single assignment) never disturbs a question in flight.
    """

    def __init__(self, settings: EngineSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.data_dir = Path(settings.data_dir)
        self._retriever: Retriever | None = None
        self._reload_lock = threading.Lock()

    @property
    def params(self) -> dict:
        return index_params(self.embedder, self.settings.chunk_tokens, self.settings.chunk_overlap)

    def retriever(self) -> Retriever:
        """The live index, opened on first use and re-opened when a new generation appears."""
        current = self._retriever
        live = current_generation(self.data_dir)
        if current is not None and live == current.snapshot.path:
            return current
        with self._reload_lock:
            if self._retriever is None or live != self._retriever.snapshot.path:
                snapshot = open_snapshot(self.data_dir, self.params)
                self._retriever = Retriever(snapshot, snapshot.lexical)
                log.info("opened index generation %d", snapshot.generation)
            return self._retriever

    def status(self) -> IndexStatus:
        snapshot = self.retriever().snapshot  # one generation for every field
        manifest = snapshot.manifest
        return IndexStatus(
            articles=manifest["articles"],
            chunks=manifest["chunks"],
            updated_at=manifest["created_at"],
            model=manifest["model"],
            generation=snapshot.generation,
        )

    def articles(self) -> list[ArticleRecord]:
        return self.retriever().snapshot.articles()

    def search(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = Mode.HYBRID,
        as_of: date | None = None,
    ) -> list[Passage]:
        """The `k` most relevant passages (published on or before `as_of`, when given)."""
        query = prepare_query(self._question(question), self.embedder)
        return self.retriever().search(query, k, with_as_of(filters, as_of), mode)

    def ask(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = Mode.HYBRID,
        as_of: date | None = None,
        prefer: Collection[str] = (),
    ) -> Answer:
        """Answer with verbatim quotes and numbered sources, or abstain.

        `as_of` is the date of asking (a Discord message's date, `--as-of`): articles published
        after it are not used. Passages of the `prefer`red articles (ids) rank higher.
        """
        retriever = self.retriever()
        if retriever.snapshot.chunk_count == 0:
            raise IndexMissingError(
                f"The index in {self.data_dir} holds no articles yet: add some and run "
                "`citebot index`."
            )
        query = prepare_query(self._question(question), self.embedder)
        wanted = max(k, PASSAGES_READ)  # the answer is composed from at least this many
        pool = wanted * FOLLOW_UP_POOL if prefer else wanted
        filters = with_as_of(filters, as_of)
        passages = retriever.search(query, pool, filters, mode)
        passages = prefer_articles(passages, prefer, wanted)
        answer = compose_answer(query, passages, retriever.lexical, self.embedder, as_of=as_of)
        answer.passages = passages[:k]
        if not passages and filters is not None and not retriever.matches_any(filters):
            answer.reason = (
                f"No indexed article is {filters.describe()}: see what is indexed with "
                "`citebot sources` (or /sources list)."
            )
        return answer

    def _question(self, question: str) -> str:
        return fit_question(clean_question(question), self.embedder)

    def ask_after(
        self,
        question: str,
        earlier: Sequence[Turn],
        k: int = 5,
        filters: Filters | None = None,
        as_of: date | None = None,
    ) -> tuple[Answer, Reading]:
        """Answer `question` as the next turn of a conversation (index/answer/followup.py).

        A follow-up is retrieved together with the earlier questions and prefers the articles
        the last answer cited; a question that stands on its own is answered on its own.
        Returns the answer (to the question as asked) and how the question was read.
        """
        reading = read_question(clean_question(question), earlier)
        answer = self.ask(
            reading.retrieval_question, k, filters, as_of=as_of, prefer=reading.prefer
        )
        answer.question = reading.question
        return answer, reading

    def check(self, message: str, as_of: date | None = None) -> MessageCheck:
        """The passages that support (or contradict) each claim of `message` (answer/claims.py)."""
        return check_message(message, lambda claim: self.ask(claim, as_of=as_of))

    def claim_reindex(self) -> ReindexClaim:
        """Claim the right to reindex, at once and without I/O (safe on an event loop).

        Raises ReindexRunningError if a reindex of this data directory is claimed in this
        process; `reindex(claim=...)` then also keeps out other processes. Use it as a context
        manager to hold it around other work that must not overlap a reindex (fetching feeds
        into the articles folder, say), then call `reindex(claim=claim)` inside.
        """
        return ReindexClaim(self.data_dir)

    @property
    def reindex_running(self) -> bool:
        """Whether a reindex of this data directory is claimed in this process."""
        return reindex_running(self.data_dir)

    def reindex(
        self,
        progress: ProgressCallback | None = None,
        rebuild: bool = False,
        claim: ReindexClaim | None = None,
    ) -> IndexReport:
        """Incrementally reindex the articles folder, then swap the new index in.

        One at a time per data directory: raises ReindexRunningError at once if another
        reindex runs (here or in another process). With `claim` (from `claim_reindex`), that
        claim is used and left to its owner to release.
        """
        report = update_index(
            Path(self.settings.articles_dir),
            self.data_dir,
            self.embedder,
            chunk_tokens=self.settings.chunk_tokens,
            overlap=self.settings.chunk_overlap,
            rebuild=rebuild,
            approximate_from=self.settings.approximate_from,
            max_article_mb=self.settings.max_article_mb,
            progress=progress,
            claim=claim,
        )
        self.retriever()  # open the new generation now, not on the next question
        return report


def with_as_of(filters: Filters | None, as_of: date | None) -> Filters | None:
    """`filters` that also leave out articles published after `as_of` (undated ones stay)."""
    if as_of is None:
        return filters
    return replace(filters or Filters(), as_of=as_of)


def clean_question(question: str) -> str:
    """The question as it is searched: text that is not valid Unicode (lone surrogates, from
    undecodable bytes) becomes U+FFFD, invisible characters go, whitespace collapses, and an
    over-long question keeps its end. An empty question is a QuestionError."""
    question = _SURROGATES.sub("\ufffd", question)
    question = " ".join(normalize_text(question).split())
    if not question:
        raise QuestionError("The question is empty: ask something about the articles.")
    if len(question) > MAX_QUESTION_CHARS:
        cut = question[-MAX_QUESTION_CHARS:]
        question = cut[cut.find(" ") + 1 :] if " " in cut else cut
    return question


def fit_question(question: str, embedder: Embedder) -> str:
    """The end of `question` that the model reads whole (`embedder.max_tokens` word pieces),
    cut at a word when it can be: the model would otherwise drop the end, where the ask is."""
    limit = embedder.max_tokens

    def fits(start: int) -> bool:
        return embedder.count_tokens([question[start:]])[0] <= limit

    if fits(0):
        return question
    starts = [0] + [i + 1 for i, char in enumerate(question) if char == " "]
    if not fits(starts[-1]):  # the last word alone is too long: cut inside it
        starts = list(range(starts[-1], len(question)))
    low, high = 0, len(starts) - 1  # starts[high] fits, starts[low] does not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(starts[middle]):
            high = middle
        else:
            low = middle
    log.info("question shortened to its last %d characters", len(question) - starts[high])
    return question[starts[high] :]
