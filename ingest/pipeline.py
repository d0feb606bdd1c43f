"""The ingest pipeline: load -> clean -> chunk -> embed -> index, incremental and crash-safe.

``ingest(paths)`` makes the index mirror the documents under ``paths``: new and changed
documents are chunked and embedded, unchanged ones reuse their chunks and vectors, documents
whose file disappeared from one of ``paths`` are dropped, and documents that came from other
places are kept. A changed embedder or chunker setting rebuilds everything (and says so).

Example:
    >>> from rag.config import Settings
    >>> report = ingest([Path("data/articles")], Settings.load())   # doctest: +SKIP
    >>> report.summary()                                             # doctest: +SKIP
    'indexed 37 documents (37 new, 0 changed, 0 unchanged, 0 removed), 41 chunks, ...'
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from tqdm.auto import tqdm

from ingest.chunker import Chunker, embedding_text
from ingest.embed_cache import EmbedCache, text_key
from ingest.embedder import Embedder
from ingest.index_writer import (
    ChunkRow,
    DocRow,
    collect_garbage,
    commit_generation,
    library_versions,
    write_generation,
)
from ingest.loaders import LoadResult, load_paths
from rag.config import Settings
from rag.schema import Document
from rag.store.base import IndexBusy, IndexCorrupt, StoreError
from rag.store.local import (
    CACHE_DB,
    CHUNKS_DB,
    FORMAT_VERSION,
    LOCK,
    current_generation,
    read_manifest,
)
from rag.tokenize_zh import TOKENIZER_VERSION, BM25Tokenizer


class NothingToIndex(StoreError):
    """The given paths hold no usable document; the message lists what was skipped."""


@dataclass
class IngestReport:
    """What an ingest did, for the CLI, the UI and the benchmarks."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    rebuilt: bool = False
    rebuild_reason: str = ""
    up_to_date: bool = False
    generation: str = ""
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the terminal."""
        if self.up_to_date:
            head = f"index is up to date: {self.documents} documents, {self.chunks} chunks"
        else:
            head = (
                f"indexed {self.documents} documents ({self.added} new, {self.changed} changed, "
                f"{self.unchanged} unchanged, {self.removed} removed), {self.chunks} chunks, "
                f"{self.embedded} embedded, {self.reused_vectors} vectors reused"
            )
        total = self.seconds.get("total")
        return head + (f" in {total:.1f}s" if total is not None else "")


def document_hash(doc: Document) -> str:
    """Changes when anything that ends up in the index changes."""
    blob = json.dumps([doc.doc_id, doc.title, doc.source, doc.lang, doc.text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _within(origin: str, roots: Sequence[str]) -> bool:
    path = Path(origin)
    return any(path == Path(r) or path.is_relative_to(Path(r)) for r in roots)


def _previous(index_dir: Path) -> tuple[dict[str, Any] | None, Path | None]:
    try:
        gen = current_generation(index_dir)
        if gen is None or not gen.is_dir():
            return None, None
        return read_manifest(gen), gen
    except IndexCorrupt:
        return None, None  # a damaged index is simply rebuilt


def _previous_rows(gen: Path) -> tuple[dict[str, DocRow], dict[str, list[ChunkRow]]]:
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


def ingest(
    paths: Sequence[Path] | None,
    settings: Settings,
    fmt: str = "auto",
    rebuild: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
    log: Callable[[str], None] | None = None,
    lock_timeout: float = 0.0,
) -> IngestReport:
    """Bring the index at ``settings.index_dir`` in line with the documents under ``paths``.

    Args:
        paths: Files or directories (default: ``settings.corpus_dir``).
        settings: Configuration.
        fmt: Loader format (``auto`` picks by extension; ``feed`` for listing pages).
        rebuild: Ignore the previous index entirely (documents from other paths are dropped).
        progress: Show progress bars on stderr.
        embedder: An already loaded embedder (else one is loaded).
        log: Where to send messages (default: stderr).
        lock_timeout: Seconds to wait for another ingest to finish (0: fail at once).

    Returns:
        An :class:`IngestReport`.

    Raises:
        IndexBusy: another ingest is running on the same index.
        NothingToIndex: no usable document under ``paths`` and nothing else in the index.
    """
    say = log or (lambda msg: print(msg, file=sys.stderr))
    index_dir = Path(settings.index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / LOCK))
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout as exc:
        raise IndexBusy(
            f"another `rag ingest` is writing {index_dir}; wait for it to finish and run again"
        ) from exc
    try:
        return _ingest_locked(paths, settings, fmt, rebuild, progress, embedder, say)
    finally:
        lock.release()


def _ingest_locked(
    paths: Sequence[Path] | None,
    settings: Settings,
    fmt: str,
    rebuild: bool,
    progress: bool,
    embedder: Embedder | None,
    say: Callable[[str], None],
) -> IngestReport:
    t0 = time.perf_counter()
    report = IngestReport()
    index_dir = Path(settings.index_dir)
    collect_garbage(index_dir)
    paths = list(paths) if paths else [Path(settings.corpus_dir)]

    # ---------------------------------------------------------------- load + clean
    bar = tqdm(desc="loading", unit="file", disable=not progress, file=sys.stderr, leave=False)
    loaded: LoadResult = load_paths(
        paths, fmt=fmt, max_bytes=int(settings.max_file_mb * 1e6), on_file=lambda _p: bar.update()
    )
    bar.close()
    report.skipped, report.errors = loaded.skipped, loaded.errors
    for msg in loaded.skipped:
        say(f"skipped: {msg}")
    for msg in loaded.errors:
        say(f"error: {msg}")
    report.seconds["load"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- compare with previous
    t1 = time.perf_counter()
    emb = embedder or Embedder.load(settings, progress=progress)
    report.seconds["load_embedder"] = time.perf_counter() - t1
    chunker = Chunker(emb.count_passage_tokens, settings.chunk_tokens, settings.chunk_overlap)
    manifest_prev, gen_prev = (None, None) if rebuild else _previous(index_dir)
    prev_docs: dict[str, DocRow] = {}
    prev_chunks: dict[str, list[ChunkRow]] = {}
    compatible = False
    if manifest_prev is not None and gen_prev is not None:
        reasons = []
        if manifest_prev.get("embedder", {}).get("fingerprint") != emb.fingerprint:
            reasons.append(
                f"embedder changed ({manifest_prev.get('embedder', {}).get('name')} -> {emb.name})"
            )
        if manifest_prev.get("chunker") != chunker.settings():
            reasons.append("chunker settings changed")
        if manifest_prev.get("bm25", {}).get("tokenizer") != TOKENIZER_VERSION:
            reasons.append("BM25 tokenizer changed")
        if manifest_prev.get("faiss", {}).get("factory") != settings.faiss_factory:
            reasons.append("FAISS index type changed")
        try:
            prev_docs, prev_chunks = _previous_rows(gen_prev)
        except sqlite3.Error:
            reasons.append("previous index unreadable")
            prev_docs, prev_chunks = {}, {}
        compatible = not reasons
        if reasons:
            report.rebuilt, report.rebuild_reason = True, "; ".join(reasons)
            say(f"{report.rebuild_reason}: rebuilding the whole index")
    elif rebuild:
        report.rebuilt, report.rebuild_reason = True, "--rebuild"

    # Documents of the previous index outside the given paths are kept as they are.
    kept = {
        d: row for d, row in prev_docs.items()
        if not _within(row.origin, loaded.roots) and d not in loaded.origins
    }
    if not loaded.documents and not kept:
        detail = "; ".join((loaded.skipped + loaded.errors)[:5]) or "no supported files"
        raise NothingToIndex(
            f"no documents to index under {', '.join(str(p) for p in paths)} ({detail}). "
            "Supported: .md .txt .html .jsonl (and --format feed)."
        )

    # ---------------------------------------------------------------- chunk
    t2 = time.perf_counter()
    doc_rows: list[DocRow] = []
    chunk_rows: list[ChunkRow] = []
    bar = tqdm(total=len(loaded.documents), desc="chunking", unit="doc", disable=not progress,
               file=sys.stderr, leave=False)
    for doc_id, row in kept.items():
        if compatible:
            doc_rows.append(row)
            chunk_rows.extend(prev_chunks.get(doc_id, []))
        else:  # re-chunk kept documents too, with the new settings
            loaded.documents.append(
                Document(row.doc_id, row.text, row.title, row.source, row.lang, row.meta)
            )
            loaded.origins[row.doc_id] = row.origin
    for doc in loaded.documents:
        sha = document_hash(doc)
        old = prev_docs.get(doc.doc_id)
        if compatible and old is not None and old.sha256 == sha:
            report.unchanged += 1
            doc_rows.append(old)
            chunk_rows.extend(prev_chunks.get(doc.doc_id, []))
            bar.update()
            continue
        if old is None:
            report.added += 1
        else:
            report.changed += 1
        chunks = chunker.split(doc)
        for c in chunks:
            etext = embedding_text(c.title, c.text, chunker.title_prefix)
            chunk_rows.append(
                ChunkRow(c.chunk_id, c.doc_id, c.title, c.source, c.start, c.end, c.text,
                         c.n_tokens, text_key(etext))
            )
        doc_rows.append(
            DocRow(doc.doc_id, doc.title, doc.source, doc.lang, sha,
                   loaded.origins.get(doc.doc_id, ""), len(chunks), doc.text, doc.meta)
        )
        bar.update()
    bar.close()
    loaded_ids = set(loaded.origins)
    report.removed = sum(1 for d in prev_docs if d not in loaded_ids and d not in kept)
    report.documents, report.chunks = len(doc_rows), len(chunk_rows)
    report.seconds["chunk"] = time.perf_counter() - t2

    if (
        compatible
        and report.added == 0
        and report.changed == 0
        and report.removed == 0
        and set(prev_docs) == {d.doc_id for d in doc_rows}
    ):
        report.up_to_date = True
        report.generation = gen_prev.name if gen_prev else ""
        report.seconds["total"] = time.perf_counter() - t0
        return report

    # ---------------------------------------------------------------- embed (cached)
    t3 = time.perf_counter()
    cache = EmbedCache(index_dir / CACHE_DB, emb.fingerprint, emb.dim)
    try:
        keys = [c.embed_key for c in chunk_rows]
        have = cache.get(set(keys))
        report.reused_vectors = sum(1 for k in keys if k in have)
        todo: dict[str, str] = {}
        for c in chunk_rows:
            if c.embed_key not in have and c.embed_key not in todo:
                todo[c.embed_key] = embedding_text(c.title, c.text, chunker.title_prefix)
        bar = tqdm(total=len(todo), desc="embedding", unit="chunk", disable=not progress,
                   file=sys.stderr, leave=False)
        todo_items = list(todo.items())
        step = max(settings.embed_batch_size * 4, 64)
        for begin in range(0, len(todo_items), step):
            part = todo_items[begin : begin + step]
            vecs = emb.embed_passages(
                [t for _, t in part], settings.embed_batch_size, on_batch=bar.update
            )
            fresh = {k: vecs[i] for i, (k, _) in enumerate(part)}
            cache.put(fresh)  # committed now: a killed ingest keeps this work
            have.update(fresh)
        bar.close()
        report.embedded = len(todo)
        vectors = (
            np.stack([have[k] for k in keys]).astype(np.float32)
            if keys
            else np.zeros((0, emb.dim), dtype=np.float32)
        )
        report.seconds["embed"] = time.perf_counter() - t3

        # ------------------------------------------------------------ index + commit
        t4 = time.perf_counter()
        tokenizer = BM25Tokenizer(Path(settings.cache_dir) / "jieba")
        terms = [tokenizer(embedding_text(c.title, c.text, chunker.title_prefix)) for c in chunk_rows]
        manifest = {
            "format": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "embedder": {
                "name": emb.name,
                "fingerprint": emb.fingerprint,
                "dim": emb.dim,
                "max_seq_length": emb.max_tokens,
                "query_prompt": emb.query_prompt,
                "passage_prompt": emb.passage_prompt,
            },
            "chunker": chunker.settings(),
            "bm25": {"tokenizer": TOKENIZER_VERSION, "library": "bm25s", "k1": 1.5, "b": 0.75},
            "versions": library_versions(),
            "roots": sorted(set(loaded.roots)),
            "documents": {d.doc_id: {"sha256": d.sha256, "title": d.title, "source": d.source,
                                     "chunks": d.n_chunks} for d in doc_rows},
        }
        gen = write_generation(
            index_dir, doc_rows, chunk_rows, vectors, terms, manifest, settings.faiss_factory
        )
        commit_generation(index_dir, gen)
        report.generation = gen.name
        cache.prune(keys)
        report.seconds["index"] = time.perf_counter() - t4
    finally:
        cache.close()
    report.seconds["total"] = time.perf_counter() - t0
    return report
