"""Where an ingest writes: the local FAISS + BM25 directory, or Milvus.

The pipeline (:mod:`ingest.pipeline`) decides what changed; a writer reads the previous state
and applies the change. :class:`LocalWriter` writes a whole new generation and swaps it in
atomically (it needs every chunk and vector); :class:`MilvusWriter` deletes the chunks of
removed and changed documents and inserts only the new ones (the rest stay in Milvus).

Example:
    >>> from rag.config import Settings
    >>> type(open_writer(Settings.load(env={}))).__name__
    'LocalWriter'
    >>> type(open_writer(Settings.load(env={}, vector_store="milvus://localhost:19530"))).__name__
    'MilvusWriter'
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingest.index_writer import (
    ChunkRow,
    DocRow,
    collect_garbage,
    commit_generation,
    write_generation,
)
from rag.config import Settings
from rag.store.base import IndexCorrupt, StoreError
from rag.store.local import CACHE_DB, CHUNKS_DB, LOCK, current_generation, read_manifest
from rag.store.milvus import is_milvus_uri


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


class StoreWriter(Protocol):
    """The write side of a store, as the ingest pipeline uses it."""

    label: str  # for messages
    lock_path: Path  # held while an ingest runs
    cache_path: Path  # the embedding cache
    full_rewrite: bool  # True: write() needs every chunk and vector, and the cache is pruned
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


def _overlap(a: list[str], b: list[str]) -> bool:
    """True when a path of ``a`` equals, contains or lies within a path of ``b``.

    Example:
        >>> _overlap(["/data/a"], ["/data"]), _overlap(["/data/a"], ["/data/b"])
        (True, False)
    """
    for x in map(Path, a):
        for y in map(Path, b):
            if x == y or x.is_relative_to(y) or y.is_relative_to(x):
                return True
    return False


def open_writer(settings: Settings) -> StoreWriter:
    """The writer for ``settings.vector_store`` (the local directory unless a Milvus URI)."""
    if is_milvus_uri(settings.vector_store):
        return MilvusWriter(settings)
    return LocalWriter(settings)


# ---------------------------------------------------------------------------- local
def read_rows(gen: Path) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
    """Documents and chunks (in id order) of a local generation's ``chunks.sqlite``."""
    import json

    db = sqlite3.connect(f"file:{gen / CHUNKS_DB}?mode=ro", uri=True)
    try:
        docs = {
            r[0]: DocRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8] or "{}"))
            for r in db.execute(
                "SELECT doc_id, title, source, lang, sha256, origin, n_chunks, text, meta "
                "FROM documents"
            )
        }
        chunks: dict[str, list[ChunkRow]] = {}
        for r in db.execute(
            "SELECT chunk_id, doc_id, title, source, start, end, text, n_tokens, embed_key "
            "FROM chunks ORDER BY id"
        ):
            chunks.setdefault(r[1], []).append(ChunkRow(*r))
        return docs, chunks
    finally:
        db.close()


class LocalWriter:
    """Writes generations of the local FAISS + BM25 + SQLite directory (see rag.store.local)."""

    full_rewrite = True
    dirty = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.label = str(self.index_dir)
        self.lock_path = self.index_dir / LOCK
        self.cache_path = self.index_dir / CACHE_DB
        self._gen: Path | None = None

    def prepare(self) -> None:
        collect_garbage(self.index_dir)

    def previous_manifest(self) -> tuple[dict[str, Any], str] | None:
        try:
            gen = current_generation(self.index_dir)
            if gen is None or not gen.is_dir():
                return None
            manifest = read_manifest(gen)
        except IndexCorrupt:
            return None  # a damaged index is simply rebuilt
        self._gen = gen
        return manifest, gen.name

    def incompatibilities(self, manifest: dict[str, Any]) -> list[str]:
        from rag.text.tokenize_zh import TOKENIZER_VERSION

        reasons = []
        if manifest.get("bm25", {}).get("tokenizer") != TOKENIZER_VERSION:
            reasons.append("BM25 tokenizer changed")
        faiss_meta = manifest.get("faiss", {})
        wanted = self.settings.faiss_factory_for(int(faiss_meta.get("ntotal", 0)))
        if faiss_meta.get("factory") != wanted:
            reasons.append("FAISS index type changed")
        return reasons

    def previous_rows(self, with_text: bool) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
        if self._gen is None:
            return {}, {}
        return read_rows(self._gen)

    def write(self, change: IndexChange) -> str:
        from ingest.chunk import embedding_text
        from rag.text.tokenize_zh import TOKENIZER_VERSION, BM25Tokenizer

        tokenizer = BM25Tokenizer(Path(self.settings.cache_dir) / "jieba")
        terms = [
            tokenizer(embedding_text(c.title, c.text, change.title_prefix)) for c in change.chunks
        ]
        manifest = dict(change.manifest)
        versions, roots = manifest.pop("versions", {}), manifest.pop("roots", [])
        manifest["bm25"] = {
            "tokenizer": TOKENIZER_VERSION,
            "library": "bm25s",
            "k1": 1.5,
            "b": 0.75,
        }
        manifest["versions"], manifest["roots"] = versions, roots
        manifest["documents"] = {
            d.doc_id: {
                "sha256": d.sha256,
                "title": d.title,
                "source": d.source,
                "chunks": d.n_chunks,
            }
            for d in change.docs
        }
        gen = write_generation(
            self.index_dir,
            change.docs,
            change.chunks,
            change.vectors,
            terms,
            manifest,
            self.settings.faiss_factory_for(len(change.chunks)),
        )
        commit_generation(self.index_dir, gen)
        return gen.name

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------- milvus
class MilvusWriter:
    """Writes to Milvus: deletes by document id, inserts new chunks, keeps the manifest beside.

    The lock and the embedding cache stay in ``settings.index_dir`` on this machine (the cache
    is shared with the local store, so switching stores does not re-embed; it is not pruned).
    """

    full_rewrite = False

    def __init__(self, settings: Settings) -> None:
        from rag.store.milvus import parse_milvus_uri

        self.settings = settings
        self.target = parse_milvus_uri(settings.vector_store)
        self.label = self.target.label
        index_dir = Path(settings.index_dir)
        self.lock_path = index_dir / LOCK
        self.cache_path = index_dir / CACHE_DB
        self._writer: Any = None
        self._pending: dict[str, list[str]] = {}

    @property
    def dirty(self) -> bool:
        """True when an interrupted ingest left documents half-written."""
        return bool(self._pending)

    @property
    def writer(self) -> Any:
        """The :class:`rag.store.milvus.MilvusIndexWriter` (connected in :meth:`prepare`)."""
        if self._writer is None:
            self.prepare()
        return self._writer

    def prepare(self) -> None:
        from rag.store.milvus import MilvusIndexWriter

        if self._writer is None:
            self._writer = MilvusIndexWriter(self.target)
        try:
            self._pending = self._writer.pending()
        except Exception as exc:
            raise StoreError(f"Milvus at {self.label}: {type(exc).__name__}: {exc}") from exc

    def previous_manifest(self) -> tuple[dict[str, Any], str] | None:
        try:
            manifest = self.writer.manifest()
        except IndexCorrupt:
            return None
        except Exception as exc:
            raise StoreError(f"Milvus at {self.label}: {type(exc).__name__}: {exc}") from exc
        if manifest is None:
            return None
        return manifest, str(manifest.get("generation", ""))

    def incompatibilities(self, manifest: dict[str, Any]) -> list[str]:
        from rag.store.milvus import BM25_PARAMS, MILVUS_FORMAT, analyzer_params

        reasons = []
        if manifest.get("milvus", {}).get("schema") != MILVUS_FORMAT:
            reasons.append("Milvus schema changed")
        bm25 = manifest.get("bm25", {})
        if (
            bm25.get("analyzer") != analyzer_params()
            or bm25.get("bm25_k1") != BM25_PARAMS["bm25_k1"]
        ):
            reasons.append("BM25 analyzer changed")
        return reasons

    def previous_rows(self, with_text: bool) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
        try:
            rows = self.writer.documents(with_text=with_text)
        except Exception as exc:
            raise StoreError(f"Milvus at {self.label}: {type(exc).__name__}: {exc}") from exc
        docs = {
            r["doc_id"]: DocRow(
                r["doc_id"],
                r["title"],
                r["source"],
                r["lang"],
                r["sha256"],
                r["origin"],
                int(r["n_chunks"]),
                r.get("text", ""),
                r.get("meta") or {},
            )
            for r in rows
            if r["doc_id"] not in self._pending  # half-written: re-done (or removed) now
        }
        return docs, {}

    def write(self, change: IndexChange) -> str:
        rewritten = {d.doc_id: d for d in change.docs if d.doc_id in change.rewritten}
        # Finish what an interrupted ingest of the same paths left; documents another ingest
        # (other paths, maybe on another machine) is writing right now are not ours to touch.
        roots = [str(r) for r in change.manifest.get("roots", [])]
        heal = {d for d, their in self._pending.items() if _overlap(their, roots)}
        return self.writer.apply(
            list(rewritten.values()),
            change.chunks,
            change.vectors,
            change.manifest,
            delete_doc_ids=change.removed | heal,
            rebuild=change.rebuild,
            n_documents=len(change.docs),
            n_chunks=change.n_chunks,
            title_prefix=change.title_prefix,
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
