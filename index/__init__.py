"""citebot's engine: ingestion, chunking, embedding, the index store, retrieval and answers.

Nothing in this package knows about Discord; the CLI and the bot both call it.
"""
