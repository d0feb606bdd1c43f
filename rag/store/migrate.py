"""Copy a local index into Milvus without embedding anything again (``rag migrate``).

The vectors (``vectors.npy``), chunks and documents (``chunks.sqlite``) and the manifest of the
live generation are copied; Milvus computes the BM25 vectors from the chunk text itself. After
that, ``RAG_VECTOR_STORE=<the same URI>`` (or ``--store``) serves the same index from Milvus.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexCorrupt, IndexNotFound, StoreError
from rag.store.base import ChunkRow, DocRow
from rag.store.local.layout import CHUNKS_DB, VECTORS, current_generation, read_manifest
from rag.store.milvus.target import is_milvus_uri, parse_milvus_uri

_LOCAL_ONLY = ("faiss", "bm25", "documents", "counts", "generation", "format")


@dataclass
class MigrateReport:
    """What a migration copied."""

    source: str
    target: str
    documents: int
    chunks: int
    generation: str
    seconds: float

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"migrated {self.documents} documents and {self.chunks} chunks from {self.source} to "
            f"{self.target} (no re-embedding) in {self.seconds:.1f}s"
        )


def migrate(index_dir: Path, to: str, force: bool = False, log: Any = None) -> MigrateReport:
    """Copy the live generation of the local index at ``index_dir`` into the Milvus store ``to``.

    Args:
        index_dir: The local index directory.
        to: A Milvus store URI (``milvus://host:port``, ``milvus-lite:///x.db``, ``x.db``).
        force: Replace an index already in the target collection.
        log: Where to send progress messages (default: stderr).

    Raises:
        IndexNotFound: no local index at ``index_dir``.
        StoreError: the target is not a Milvus URI, holds an index (without ``force``), or is
            unreachable.

    Example:
        >>> migrate(Path("data/index"), "data/milvus.db").summary()   # doctest: +SKIP
        'migrated 37 documents and 42 chunks from data/index/gen-... to data/milvus.db ...'
    """
    from rag.store.milvus.writer import MilvusIndexWriter  # pymilvus on connect only

    say = log or (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    if not is_milvus_uri(to):
        raise StoreError(f"--to {to!r} is not a Milvus address (milvus://host:port or x.db)")
    gen = current_generation(Path(index_dir))
    if gen is None:
        raise IndexNotFound(f"no local index at {index_dir}; build one with `rag ingest`")
    manifest = read_manifest(gen)
    db = sqlite3.connect(f"file:{gen / CHUNKS_DB}?mode=ro", uri=True)
    try:
        docs = [
            DocRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8] or "{}"))
            for r in db.execute(
                "SELECT doc_id, title, source, lang, sha256, origin, n_chunks, text, meta "
                "FROM documents ORDER BY doc_id"
            )
        ]
        rows = db.execute(
            "SELECT id, chunk_id, doc_id, title, source, start, end, text, n_tokens, embed_key "
            "FROM chunks ORDER BY id"
        ).fetchall()
    except sqlite3.Error as exc:
        raise IndexCorrupt(f"{gen / CHUNKS_DB} is unreadable ({exc})") from exc
    finally:
        db.close()
    vectors = np.load(gen / VECTORS, mmap_mode="r")
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    if len(rows) != int(manifest.get("counts", {}).get("chunks", len(rows))) or (
        len(ids) and int(ids.max()) >= vectors.shape[0]
    ):
        raise IndexCorrupt(
            f"index at {gen} is inconsistent; rebuild it with `rag ingest --rebuild`"
        )
    chunks = [ChunkRow(*r[1:]) for r in rows]

    target = parse_milvus_uri(to)
    writer = MilvusIndexWriter(target)
    try:
        existing = writer.manifest()
        if existing is not None and not force:
            raise StoreError(
                f"{target.label} already holds an index ({existing.get('counts', {}).get('chunks')} "
                "chunks); add --force to replace it"
            )
        base = {k: v for k, v in manifest.items() if k not in _LOCAL_ONLY}
        base["migrated_from"] = {"index_dir": str(index_dir), "generation": gen.name}
        say(f"copying {len(docs)} documents and {len(chunks)} chunks to {target.label}...")
        in_order = bool(np.array_equal(ids, np.arange(len(ids))))
        generation = writer.apply(
            docs,
            chunks,
            vectors[: len(ids)] if in_order else vectors[ids],
            base,
            rebuild=True,
            n_documents=len(docs),
            n_chunks=len(chunks),
            title_prefix=bool(manifest.get("chunker", {}).get("title_prefix", True)),
        )
    finally:
        writer.close()
    return MigrateReport(
        str(gen), target.uri, len(docs), len(chunks), generation, time.perf_counter() - t0
    )
