"""Retrieval: dense, BM25 or hybrid search over a store, fused with reciprocal rank fusion."""
