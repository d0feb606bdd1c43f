"""Write side of the local store: one complete generation, then an atomic pointer swap.

See :mod:`rag.store.local.layout` for the files. Nothing here modifies a live generation: a
crash at any point leaves ``CURRENT`` naming the previous, complete one. :class:`LocalWriter` is
the :class:`rag.store.base.StoreWriter` the ingest pipeline uses: it writes every chunk and
vector of the new index (unchanged ones come from the previous generation and the cache).

Example:
    >>> gen = write_generation(index_dir, docs, chunks, vectors, terms, manifest)  # doctest: +SKIP
    >>> commit_generation(index_dir, gen)                                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorrupt
from rag.schema import embedding_text
from rag.store.base import ChunkRow, DocRow, IndexChange, SentenceVectors
from rag.store.local.layout import (
    BM25_DIR,
    CACHE_DB,
    CHUNKS_DB,
    CURRENT,
    DENSE,
    LOCK,
    MANIFEST,
    SENTENCE_SPANS,
    SENTENCE_SPLITTER,
    SENTENCES,
    VECTORS,
    current_generation,
    fsync_dir,
    read_manifest,
)

# Vectors an index that needs training (IVF, SQ) learns from: a fixed random sample, so a 1M
# ingest builds IVF4096,SQ8 in ~2 minutes (108 s at load 5.5, bench/results/scale-types.json)
# instead of clustering every vector.
TRAIN_SAMPLE = 131_072


def training_sample(vectors: np.ndarray) -> np.ndarray:
    """At most ``TRAIN_SAMPLE`` of ``vectors``, deterministic (a fixed seed), in order."""
    n = vectors.shape[0]
    if n <= TRAIN_SAMPLE:
        return vectors
    rows = np.sort(np.random.default_rng(0).choice(n, TRAIN_SAMPLE, replace=False))
    return np.ascontiguousarray(vectors[rows])


def build_faiss(vectors: np.ndarray, factory: str) -> Any:
    """An ``IndexIDMap2`` over ``factory`` (inner product) holding ``vectors`` with ids 0..n-1
    (``factory`` resolved already: :meth:`rag.config.Settings.faiss_factory_for`)."""
    import faiss

    dim = vectors.shape[1]
    base = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if not base.is_trained:
        if vectors.shape[0] < 1:
            raise ValueError(f"FAISS index {factory!r} needs training vectors")
        base.train(training_sample(vectors))
    index = faiss.IndexIDMap2(base)
    if vectors.shape[0]:
        index.add_with_ids(vectors, np.arange(vectors.shape[0], dtype=np.int64))
    return index


def _dim(vectors: np.ndarray) -> int | None:
    return int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else None


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        fsync_dir(path)


def write_generation(
    index_dir: Path,
    docs: Sequence[DocRow],
    chunks: Sequence[ChunkRow],
    vectors: np.ndarray,
    bm25_terms: Sequence[list[str]],
    manifest: dict[str, Any],
    faiss_factory: str = "Flat",
    sentences: SentenceVectors | None = None,
) -> Path:
    """Write a new generation directory (not yet live) and return its path.

    Args:
        index_dir: The index directory.
        docs: Every document of the new index.
        chunks: Every chunk; chunk ``i`` gets numeric id ``i``.
        vectors: ``[len(chunks), dim]`` normalized float32 vectors, row ``i`` for chunk ``i``.
        bm25_terms: BM25 terms of each chunk.
        manifest: Manifest fields; counts and the file list are added here.
        faiss_factory: FAISS index factory string.
        sentences: Sentence vectors of ``chunks`` (None: the index has none).
    """
    import bm25s

    if len(chunks) != vectors.shape[0] or len(chunks) != len(bm25_terms):
        raise ValueError("chunks, vectors and BM25 terms must have the same length")
    index_dir.mkdir(parents=True, exist_ok=True)
    # microseconds in the name: generations sort by age even when two ingests commit within one
    # second (the garbage collector keeps the newest by name)
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}"
    name = f"gen-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    try:
        db = sqlite3.connect(str(tmp / CHUNKS_DB))
        db.executescript(
            """
            CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT, source TEXT, lang TEXT,
                sha256 TEXT, origin TEXT, n_chunks INTEGER, text TEXT, meta TEXT);
            CREATE TABLE chunks (id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT,
                title TEXT, source TEXT, start INTEGER, end INTEGER, text TEXT,
                n_tokens INTEGER, embed_key TEXT);
            CREATE INDEX chunks_doc ON chunks (doc_id);
            """
        )
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    d.doc_id,
                    d.title,
                    d.source,
                    d.lang,
                    d.sha256,
                    d.origin,
                    d.n_chunks,
                    d.text,
                    json.dumps(d.meta, ensure_ascii=False, default=str),
                )
                for d in docs
            ],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    i,
                    c.chunk_id,
                    c.doc_id,
                    c.title,
                    c.source,
                    c.start,
                    c.end,
                    c.text,
                    c.n_tokens,
                    c.embed_key,
                )
                for i, c in enumerate(chunks)
            ],
        )
        db.commit()
        db.close()

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        np.save(tmp / VECTORS, vectors)

        import faiss

        faiss.write_index(build_faiss(vectors, faiss_factory), str(tmp / DENSE))
        if sentences is not None:
            _write_sentences(tmp, sentences)

        bm25 = bm25s.BM25()
        bm25.index([list(t) for t in bm25_terms], show_progress=False)
        bm25.save(str(tmp / BM25_DIR), show_progress=False)

        manifest = dict(manifest)
        manifest["counts"] = {"documents": len(docs), "chunks": len(chunks)}
        manifest["faiss"] = {
            "factory": faiss_factory,
            "metric": "inner_product",
            "ntotal": len(chunks),
        }
        # "stored": false when the settings left them out (RAG_SENTENCE_VECTORS_MAX_CHUNKS); an
        # index from before sentence vectors has no entry at all
        manifest["sentences"] = {
            "stored": sentences is not None,
            "count": len(sentences) if sentences is not None else 0,
            "splitter": SENTENCE_SPLITTER,
        }
        manifest["generation"] = name
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        _fsync_tree(tmp)
        final = index_dir / name
        os.replace(tmp, final)
        fsync_dir(index_dir)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_sentences(gen: Path, sentences: SentenceVectors) -> None:
    """``sentences.npy`` and ``sentence_spans.npy`` (chunk id, start, end) of a generation."""
    rows = np.column_stack([sentences.chunk, sentences.spans]).astype(np.int32).reshape(-1, 3)
    np.save(gen / SENTENCE_SPANS, rows)
    # float16: half the disk, and a cosine moves by ~1e-3 (the int8 model's own batch noise is 5e-3)
    np.save(gen / SENTENCES, np.ascontiguousarray(sentences.vectors, dtype=np.float16))


def commit_generation(index_dir: Path, gen_dir: Path, keep: int = 2) -> None:
    """Make ``gen_dir`` live (atomic rename of the pointer) and delete older generations.

    Args:
        index_dir: The index directory.
        gen_dir: A generation written by :func:`write_generation`.
        keep: Generations to keep, the live one included (readers that opened the previous one
            keep working).
    """
    pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}.tmp"
    with open(pointer_tmp, "w", encoding="utf-8") as fh:
        fh.write(gen_dir.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    fsync_dir(index_dir)
    collect_garbage(index_dir, keep)


def collect_garbage(index_dir: Path, keep: int = 2) -> None:
    """Remove leftovers of crashed ingests and generations older than the newest ``keep``."""
    live = current_generation(index_dir)
    for tmp in index_dir.glob(".gen-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    for tmp in index_dir.glob(f".{CURRENT}.*.tmp"):
        tmp.unlink(missing_ok=True)
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    old = [g for g in gens if live is None or g.name != live.name]
    for gen in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(gen, ignore_errors=True)


def read_rows(gen: Path) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
    """Documents and chunks (in id order) of a local generation's ``chunks.sqlite``."""
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
    keeps_sentences = True
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
        dim = manifest.get("embedder", {}).get("dim")
        wanted = self.settings.faiss_factory_for(int(faiss_meta.get("ntotal", 0)), dim)
        if faiss_meta.get("factory") != wanted:
            reasons.append("FAISS index type changed")
        sentences = manifest.get("sentences") or {}
        wanted = int(faiss_meta.get("ntotal", 0)) <= self.settings.sentence_vectors_max_chunks
        if sentences.get("splitter") != SENTENCE_SPLITTER or (
            wanted and not sentences.get("stored")
        ):
            reasons.append("sentence vectors missing or split differently")
        return reasons

    def previous_rows(self, with_text: bool) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
        if self._gen is None:
            return {}, {}
        return read_rows(self._gen)

    def write(self, change: IndexChange) -> str:
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
            self.settings.faiss_factory_for(len(change.chunks), _dim(change.vectors)),
            change.sentences,
        )
        commit_generation(self.index_dir, gen)
        return gen.name

    def close(self) -> None:
        pass
