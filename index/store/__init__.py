"""The on-disk index: generations, FAISS vectors, BM25, and the indexer that writes them."""
