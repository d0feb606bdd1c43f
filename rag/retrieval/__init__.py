"""Retrieval: dense, BM25 or hybrid search over a store (z-score fusion, or reciprocal rank fusion)."""
