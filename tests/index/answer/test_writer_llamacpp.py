"""End to end against a real OpenAI-compatible server running a real small model on 127.0.0.1:
llama.cpp's server (xllamacpp) with SmolLM2-135M-Instruct, asked about a real index of the
fixture articles. A model this small rarely cites as told; whatever it writes, no quote or
[n] that fails verification may be shown."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from index.answer.writer import Writer
from index.answer.written import AnswerKind
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings, WriterSettings
from tests.conftest import FIXTURES
from tests.index.answer.written_checks import assert_shown_is_verified
from tests.llamacpp import MODEL_ALIAS, llama_server, smollm2_gguf

QUESTIONS = ["How much did the harbour bridge repair cost?", "Who discovered the new comet?"]

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    root = tmp_path_factory.mktemp("llamacpp")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    settings = EngineSettings(
        _env_file=None, articles_dir=root / "articles", data_dir=root / "data"
    )
    engine = Engine(settings, embedder=real_embedder)
    assert engine.reindex().added == 4
    return engine


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    gguf = smollm2_gguf()
    assert gguf.stat().st_size > 50_000_000 and gguf.name.endswith(".gguf")
    with llama_server(gguf) as url:
        yield url


def test_a_real_model_writes_and_only_verified_text_is_shown(engine: Engine, base_url: str) -> None:
    settings = WriterSettings(
        _env_file=None, base_url=base_url, model=MODEL_ALIAS, timeout=120, max_tokens=60
    )
    writer = Writer(settings)
    try:
        for question in QUESTIONS:
            answer = engine.ask(question)
            assert not answer.abstained
            outcome = writer.write(answer)
            # The server really answered: text and tokens, not a timeout or an error.
            assert outcome.text and outcome.completion_tokens, outcome.fallback
            if outcome.kind is AnswerKind.WRITTEN:
                assert outcome.written is not None
                assert_shown_is_verified(outcome.written, _article_text(engine))
                assert outcome.written.footer == f"written by {MODEL_ALIAS}, quotes checked"
            else:
                assert outcome.fallback and outcome.written is None
    finally:
        writer.close()


def _article_text(engine: Engine) -> Callable[[str], str]:
    def text(article_id: str) -> str:
        found = engine.retriever().snapshot.article_text(article_id)
        assert found is not None
        return found

    return text
