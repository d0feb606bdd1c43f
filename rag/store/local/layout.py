"""The local store's directory layout: a directory with a FAISS index, a BM25 index and SQLite chunk metadata.

Layout of ``index_dir``::

    CURRENT                  name of the live generation (replaced atomically)
    .lock                    held by a running ingest
    embed-cache.sqlite       vectors by (embedder fingerprint, text hash); makes re-runs cheap
    gen-<time>-<rand>/       one complete, immutable index
        manifest.json        embedder, chunker, versions, per-document hashes, counts
        chunks.sqlite        documents and chunks (text, offsets, titles, sources)
        vectors.npy          float32 [n_chunks, dim], row i = chunk id i
        sentences.npy        float16 [n_sentences, dim]: each chunk's evidence sentences
        sentence_spans.npy   int32 [n_sentences, 3]: chunk id, start, end (sorted by chunk)
        dense.faiss          IndexIDMap2 over the configured factory (Flat by default)
        bm25/                bm25s index over jieba terms, doc i = chunk id i

An ingest writes a new generation beside the old one and then replaces ``CURRENT``, so a reader
sees the old index or the new one, never a mix, and a crash leaves the old one intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rag.errors import IndexCorrupt

CURRENT = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
CHUNKS_DB = "chunks.sqlite"
VECTORS = "vectors.npy"
SENTENCES = "sentences.npy"
SENTENCE_SPANS = "sentence_spans.npy"
SENTENCE_SPLITTER = "evidence_spans/2"  # change when rag.text.sentences.evidence_spans changes
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CACHE_DB = "embed-cache.sqlite"
FORMAT_VERSION = 1

REBUILD_HINT = "rebuild it with `rag ingest --rebuild`"


def current_generation(index_dir: Path) -> Path | None:
    """The live generation directory, or None when no index was committed yet."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(f"{pointer}: cannot read ({exc}); {REBUILD_HINT}") from exc
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"{pointer} is damaged; {REBUILD_HINT}")
    return index_dir / name


def read_manifest(gen_dir: Path) -> dict[str, Any]:
    """The manifest of a generation; raises :class:`IndexCorrupt` if missing or unreadable."""
    path = gen_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorrupt(f"{path} is missing; {REBUILD_HINT}") from exc
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is damaged ({exc}); {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(f"{path}: unknown index format; {REBUILD_HINT}")
    return manifest


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (after renames)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
