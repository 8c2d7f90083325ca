"""Ingestion: article readers, publication dates, sentence-aligned chunking."""
