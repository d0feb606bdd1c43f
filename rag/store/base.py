"""The narrow waist between the pipeline and where chunks live: what a store reads and writes.

The chain and the UI only see :class:`Store`; ingest only sees :class:`StoreWriter`. Two
implementations: the local FAISS + BM25 directory (:mod:`rag.store.local`, the default) and
Milvus (:mod:`rag.store.milvus`); :mod:`rag.store.factory` picks one from the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.schema import Chunk


@dataclass(frozen=True)
class DocRow:
    """A document as stored in ``chunks.sqlite``."""

    doc_id: str
    title: str
    source: str
    lang: str
    sha256: str
    origin: str
    n_chunks: int
    text: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class ChunkRow(Chunk):
    """A chunk as stored: its fields and the key of its embedded text (``embed_key``).

    Its position in the list written is its numeric id.
    """

    embed_key: str = ""


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
        self,
        terms: list[str],
        k: int,
        *,
        query: str | None = None,
        groups: Sequence[Any] | None = None,
    ) -> list[tuple[int, float]]:
        """Top ``k`` chunk ids by BM25 over pre-tokenized query terms.

        ``query`` is the question's BM25 text (the retriever passes ``SparseQuery.text``, the
        terms as text, see :mod:`rag.retrieval.query`), for stores that tokenize it themselves
        (Milvus's BM25 function); stores with their own BM25 index use ``terms`` and ignore it.
        ``groups`` (``RAG_BM25_COMPOUNDS``, ``RAG_BM25_SYNONYMS``) structures the terms: each
        group's alternatives score as one word (:mod:`rag.store.structured`); a store may
        ignore it and sum every term (Milvus does).

        A store may also offer ``known_terms(terms) -> list[str]`` (the terms its BM25 index
        has seen); the retriever then adds only Chinese renderings that can match; and
        ``vocabulary() -> Collection[str]`` (every such term), which lets it find the Chinese
        names an English question writes in pinyin (:mod:`rag.retrieval.pinyin_names`). Stores that
        keep sentence vectors (:class:`SentenceVectors`; the local one) also offer
        ``sentence_scores(vector, ids) -> {id: best sentence cosine}`` and
        ``sentences(ids) -> [(offsets, vectors)]``; the retriever uses them when present.
        """
        ...

    def sparse_scores(
        self,
        terms: list[str],
        ids: Sequence[int],
        *,
        query: str | None = None,
        groups: Sequence[Any] | None = None,
    ) -> dict[int, float]:
        """BM25 scores for given chunk ids (``query`` and ``groups`` as in
        :meth:`sparse_search`)."""
        ...

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        """Records of the given chunk ids, in that order."""
        ...

    def document_text(self, doc_id: str) -> str | None:
        """The full text of a document (for showing a passage in context)."""
        ...

    def documents(self) -> list[dict[str, Any]]:
        """Every document's id, title, source, language and chunk count, by id."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts, embedder, size on disk."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


@dataclass(frozen=True)
class SentenceVectors:
    """One e5 passage vector per evidence sentence of each chunk (the retriever's sentence score).

    Rows are sorted by chunk: ``chunk[r]`` is the numeric id of row ``r``'s chunk (its position
    in :attr:`IndexChange.chunks`), ``spans[r]`` its ``(start, end)`` offsets in that chunk's
    text (:func:`rag.text.sentences.evidence_spans`), ``vectors[r]`` its normalized vector.
    """

    chunk: np.ndarray  # int32 [n]
    spans: np.ndarray  # int32 [n, 2]
    vectors: np.ndarray  # float32 [n, dim]

    def __len__(self) -> int:
        return int(self.chunk.shape[0])


@dataclass
class IndexChange:
    """What an ingest writes.

    Attributes:
        docs: Every document of the new index (carried ones may have an empty ``text`` when the
            writer does not rewrite them).
        chunks: Chunks to write: every chunk for a full rewrite, else those of ``rewritten``.
        vectors: One normalized vector per entry of ``chunks``.
        manifest: Store-independent manifest fields (embedder, chunker, versions, roots).
        rewritten: Documents whose chunks are in ``chunks`` (new, changed, re-chunked).
        removed: Documents of the previous index that are gone.
        rebuild: The previous index is not reused at all.
        title_prefix: Chunks are embedded and BM25-indexed as ``"{title}\\n{text}"``.
        n_chunks: Chunks in the index after the write.
        sentences: Sentence vectors of ``chunks`` (chunk ids index ``chunks``); stores that
            cannot keep them ignore them.
    """

    docs: list[DocRow]
    chunks: list[ChunkRow]
    vectors: np.ndarray
    manifest: dict[str, Any]
    rewritten: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    rebuild: bool = False
    title_prefix: bool = True
    n_chunks: int = 0
    sentences: SentenceVectors | None = None


class StoreWriter(Protocol):
    """The write side of a store, as the ingest pipeline uses it."""

    label: str  # for messages
    lock_path: Path  # held while an ingest runs
    cache_path: Path  # the embedding cache
    full_rewrite: bool  # True: write() needs every chunk and vector, and the cache is pruned
    keeps_sentences: bool  # True: write() stores IndexChange.sentences (else none are made)
    dirty: bool  # True: an interrupted ingest left work to finish, even if no file changed

    def prepare(self) -> None:
        """Connect, clean up after crashed runs."""
        ...

    def previous_manifest(self) -> tuple[dict[str, Any], str] | None:
        """The live index's manifest and generation name, or None (nothing, or unreadable)."""
        ...

    def incompatibilities(self, manifest: dict[str, Any]) -> list[str]:
        """Store-specific reasons why the previous index cannot be updated in place."""
        ...

    def previous_rows(self, with_text: bool) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
        """Documents of the live index, and (for full rewrites) their chunks."""
        ...

    def write(self, change: IndexChange) -> str:
        """Apply the change; returns the new generation's name."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
