"""Sentence splitting and chunking: exact offsets, the token window, overlap."""

from __future__ import annotations

from itertools import pairwise

from index.embed.embedder import WordPieceCounter, resolve_model_path
from index.ingest.chunking import MAX_CHARS_PER_TOKEN, chunk_text, max_chunk_chars, split_sentences
from index.ingest.readers import load_articles
from index.settings import DEFAULT_MODEL
from tests.conftest import DEMO_ARTICLES


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def test_sentences_respect_abbreviations_and_initials() -> None:
    text = (
        'Dr. Smith met Mr. J. R. Doe at 5 p.m. on Monday. "Was it fun?" she asked. '
        "The U.S. Army came."
    )
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        "Dr. Smith met Mr. J. R. Doe at 5 p.m. on Monday.",
        '"Was it fun?" she asked.',
        "The U.S. Army came.",
    ]


def test_paragraph_without_final_stop_is_a_sentence() -> None:
    text = "A headline without a stop\n\nThe body begins. It ends."
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == ["A headline without a stop", "The body begins.", "It ends."]


def test_chunks_reproduce_offsets_and_fit_window() -> None:
    text = " ".join(f"Sentence number {i} has a few words in it." for i in range(40))
    chunks = chunk_text(text, words, max_tokens=30, overlap=1)
    assert len(chunks) > 5
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.tokens <= 30
    # Adjacent chunks share exactly one sentence.
    first, second = chunks[0], chunks[1]
    shared = split_sentences(first.text)[-1]
    assert second.text.startswith(first.text[shared.start : shared.end])


def test_over_long_sentence_is_cut_at_words() -> None:
    text = "word " * 100 + "end."
    chunks = chunk_text(text.strip(), words, max_tokens=30, overlap=0)
    assert all(c.tokens <= 30 for c in chunks)
    assert " ".join(c.text for c in chunks) == text.strip()


def test_one_enormous_token_is_cut_by_characters() -> None:
    url = "https://example.org/" + "x" * 3000

    def chars(texts: list[str]) -> list[int]:
        return [len(t) // 10 for t in texts]

    chunks = chunk_text(url, chars, max_tokens=50, overlap=0)
    assert all(c.tokens <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == url


def test_demo_corpus_chunks_are_exact_and_within_model_window() -> None:
    counter = WordPieceCounter(resolve_model_path(DEFAULT_MODEL))
    result = load_articles(DEMO_ARTICLES)
    assert result.failures == []
    total = 0
    for article in result.articles:
        chunks = chunk_text(article.text, counter, max_tokens=200, overlap=1)
        assert chunks, article.id
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert counter([chunk.text])[0] <= 200  # measured by the model's own tokenizer
        total += len(chunks)
    assert total > 100


def test_no_chunk_is_longer_than_the_budget_allows_in_characters() -> None:
    """A 2 MB "word" is one word piece ([UNK]) to the model: it fits any window in tokens, and
    was stored and returned whole. Cut inside it, no chunk exceeds the budget in characters."""
    counter = WordPieceCounter(resolve_model_path(DEFAULT_MODEL))
    blob = "x" * 2_000_000
    text = f"Before the blob. {blob} After the blob, one more sentence."
    assert counter([blob]) == [1]

    chunks = chunk_text(text, counter, max_tokens=200, overlap=1)

    assert max(len(c.text) for c in chunks) <= max_chunk_chars(200) == 200 * MAX_CHARS_PER_TOKEN
    assert all(text[c.start : c.end] == c.text for c in chunks)
    covered = sorted((c.start, c.end) for c in chunks)
    assert covered[0][0] == 0 and covered[-1][1] == len(text)
    assert all(b[0] <= a[1] + 1 for a, b in pairwise(covered))  # nothing left out
    assert all(c.tokens <= 200 for c in chunks)


def test_ordinary_text_is_chunked_by_tokens_alone() -> None:
    counter = WordPieceCounter(resolve_model_path(DEFAULT_MODEL))
    [article] = [a for a in load_articles(DEMO_ARTICLES).articles if a.id == "Black_Death"]
    chunks = chunk_text(article.text, counter, max_tokens=200, overlap=1)
    assert max(c.tokens for c in chunks) > 180  # the character bound never cut these short
    assert max(len(c.text) for c in chunks) < max_chunk_chars(200) / 2
