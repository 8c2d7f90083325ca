"""Check chunk invariants over a folder of articles (e.g. the squad-dev articles).

    python bench/check_chunks.py PATH/TO/articles

Every chunk's offsets must reproduce its text exactly, and no chunk (with the title prefix
that is embedded with it) may exceed the model's window. Prints the figures; exits 1 if not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from index.embed.embedder import SentenceTransformerEmbedder, passage_for_embedding
from index.ingest.chunking import chunk_text
from index.ingest.readers import load_articles
from index.settings import EngineSettings
from index.store.indexer import effective_chunk_tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path)
    args = parser.parse_args()
    settings = EngineSettings()
    embedder = SentenceTransformerEmbedder(settings.model)  # tokenizer only; no weights loaded
    max_tokens = effective_chunk_tokens(embedder, settings.chunk_tokens)
    loaded = load_articles(args.articles)
    chunks = exact = fits = 0
    lengths = []
    for article in loaded.articles:
        for chunk in chunk_text(
            article.text, embedder.count_tokens, max_tokens, settings.chunk_overlap
        ):
            embedded = passage_for_embedding(article.title, chunk.text, embedder)
            pieces = embedder.count_tokens([embedded])[0] + 2  # [CLS] and [SEP]
            chunks += 1
            exact += article.text[chunk.start : chunk.end] == chunk.text
            fits += pieces <= embedder.max_tokens + 2
            lengths.append(pieces)
    print(
        f"{len(loaded.articles)} articles, {len(loaded.failures)} failures, {chunks} chunks; "
        f"offsets exact: {exact}/{chunks}; within the {embedder.max_tokens + 2}-piece window "
        f"(title prefix and special tokens included): {fits}/{chunks}; word pieces per "
        f"embedded chunk: median {statistics.median(lengths):.0f}, max {max(lengths)}"
    )
    return 0 if exact == fits == chunks else 1


if __name__ == "__main__":
    sys.exit(main())
