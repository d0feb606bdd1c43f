"""The narrow waist between the retrieval chain and where chunks live.

The chain and the UI only see :class:`Store`; the local FAISS + BM25 directory
(:class:`rag.store.local.LocalStore`) is the default implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rag.errors import IndexBusy, IndexCorrupt, IndexNotFound, StoreError

__all__ = ["ChunkRecord", "IndexBusy", "IndexCorrupt", "IndexNotFound", "Store", "StoreError"]


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk: what a passage is made of."""

    id: int
    chunk_id: str
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    text: str


class Store(Protocol):
    """Read side of an index: dense and sparse search over chunks, and their records."""

    manifest: dict[str, Any]

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top ``k`` chunk ids by inner product with a normalized query vector."""
        ...

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Exact inner products for given chunk ids."""
        ...

    def sparse_search(
        self, terms: list[str], k: int, *, query: str | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` chunk ids by BM25 over pre-tokenized query terms.

        ``query`` is the raw question, for stores that tokenize it themselves (Milvus's BM25
        function); stores with their own BM25 index use ``terms`` and ignore it.
        """
        ...

    def sparse_scores(
        self, terms: list[str], ids: Sequence[int], *, query: str | None = None
    ) -> dict[int, float]:
        """BM25 scores for given chunk ids (``query`` as in :meth:`sparse_search`)."""
        ...

    def chunks(self, ids: Sequence[int]) -> list[ChunkRecord]:
        """Records of the given chunk ids, in that order."""
        ...

    def document_text(self, doc_id: str) -> str | None:
        """The full text of a document (for showing a passage in context)."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts, embedder, size on disk."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...
