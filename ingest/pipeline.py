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

from ingest.chunk import Chunker, chunk_document
from ingest.loaders import LoadResult
from ingest.vectors import embed_cached, sentence_vectors
from ingest.web.sources import load_sources
from ingest.write_errors import explained_write_errors
from rag.config import Settings
from rag.embed.cache import EmbedCache, text_key
from rag.embed.embedder import Embedder
from rag.errors import IndexBusy, NothingToIndex
from rag.schema import Document, chunk_fields, embedding_text
from rag.store.base import ChunkRow, DocRow, IndexChange, StoreWriter
from rag.store.factory import open_writer
from rag.store.local.layout import FORMAT_VERSION
from rag.versions import library_versions


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
    embedded_sentences: int = 0  # sentence vectors embedded (the rest came from the cache)
    rebuilt: bool = False
    rebuild_reason: str = ""
    up_to_date: bool = False
    generation: str = ""
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # indexed documents kept: file unreadable now
    seconds: dict[str, float] = field(default_factory=dict)
    web: list[dict[str, object]] = field(default_factory=list)  # one per crawled URL

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
            if self.embedded_sentences:
                head += f", {self.embedded_sentences} sentences embedded"
        if self.kept:
            head += f"; {len(self.kept)} kept as indexed (their files could not be read)"
        total = self.seconds.get("total")
        return head + (f" in {total:.1f}s" if total is not None else "")


def document_hash(doc: Document) -> str:
    """Changes when anything that ends up in the index changes."""
    blob = json.dumps([doc.doc_id, doc.title, doc.source, doc.lang, doc.text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _within(origin: str, roots: Sequence[str]) -> bool:
    path = Path(origin)
    return any(path == Path(r) or path.is_relative_to(Path(r)) for r in roots)


def ingest(
    paths: Sequence[Path | str] | None,
    settings: Settings,
    fmt: str = "auto",
    rebuild: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
    log: Callable[[str], None] | None = None,
    lock_timeout: float = 0.0,
) -> IngestReport:
    """Bring the index in line with the documents under ``paths``.

    The index is ``settings.index_dir``, or the Milvus collection named by
    ``settings.vector_store`` (see :mod:`rag.store.factory`).

    Args:
        paths: Files or directories (default: ``settings.corpus_dir``), and ``http(s)://``
            URLs as strings (a blog's listing page, feed or sitemap, an article, a PDF).
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
    with explained_write_errors(str(index_dir)):
        index_dir.mkdir(parents=True, exist_ok=True)
        writer = open_writer(settings)
        lock = FileLock(str(writer.lock_path))
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout as exc:
            raise IndexBusy(
                f"another `rag ingest` is writing {writer.label}; wait for it to finish and run "
                "again"
            ) from exc
    with explained_write_errors(writer.label):
        try:
            return _ingest_locked(paths, settings, fmt, rebuild, progress, embedder, say, writer)
        finally:
            writer.close()
            lock.release()


def _ingest_locked(
    paths: Sequence[Path | str] | None,
    settings: Settings,
    fmt: str,
    rebuild: bool,
    progress: bool,
    embedder: Embedder | None,
    say: Callable[[str], None],
    writer: StoreWriter,
) -> IngestReport:
    """The stages, in order, while this ingest holds the index lock."""
    t0 = time.perf_counter()
    report = IngestReport()
    writer.prepare()
    paths = list(paths) if paths else [Path(settings.corpus_dir)]
    loaded = _load(paths, settings, fmt, rebuild, progress, say, report)
    report.seconds["load"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    emb = embedder or Embedder.load(settings, progress=progress)
    report.seconds["load_embedder"] = time.perf_counter() - t1
    chunker = Chunker(emb.count_passage_tokens, settings.chunk_tokens, settings.chunk_overlap)
    previous = _previous_index(writer, emb, chunker, rebuild, say, report)
    kept = _kept_documents(previous, loaded, say, report)
    if not loaded.documents and not kept:
        detail = "; ".join((loaded.skipped + loaded.errors)[:5]) or "no supported files"
        raise NothingToIndex(
            f"no documents to index under {', '.join(str(p) for p in paths)} ({detail}). "
            "Supported: .md .txt .html .jsonl .pdf, http(s) URLs (and --format feed)."
        )

    t2 = time.perf_counter()
    plan = _chunk(loaded, kept, previous, chunker, writer, progress, report)
    report.seconds["chunk"] = time.perf_counter() - t2
    if _is_up_to_date(previous, plan, writer, report):
        report.up_to_date = True
        report.generation = previous.generation
        report.seconds["total"] = time.perf_counter() - t0
        return report

    cache = EmbedCache(writer.cache_path, emb.fingerprint, emb.dim)
    try:
        t3 = time.perf_counter()
        vectors = _embed(plan.chunks, cache, emb, chunker, settings, progress, report)
        sentences, sentence_keys = None, []
        if writer.keeps_sentences and len(plan.chunks) <= settings.sentence_vectors_max_chunks:
            sentences, sentence_keys, report.embedded_sentences = sentence_vectors(
                plan.chunks, cache, emb, settings, progress
            )
        report.seconds["embed"] = time.perf_counter() - t3
        t4 = time.perf_counter()
        change = IndexChange(
            docs=plan.docs,
            chunks=plan.chunks,
            vectors=vectors,
            manifest=_manifest(emb, chunker, loaded),
            rewritten=plan.rewritten,
            removed=plan.removed,
            rebuild=not previous.compatible,
            title_prefix=chunker.title_prefix,
            n_chunks=report.chunks,
            sentences=sentences,
        )
        report.generation = writer.write(change)
        if writer.full_rewrite:
            cache.prune([c.embed_key for c in plan.chunks] + sentence_keys)
        report.seconds["index"] = time.perf_counter() - t4
    finally:
        cache.close()
    report.seconds["total"] = time.perf_counter() - t0
    return report


# ---------------------------------------------------------------------------- stages
@dataclass
class _Previous:
    """The index as it was: its generation, rows, and whether it can be updated in place."""

    generation: str = ""
    docs: dict[str, DocRow] = field(default_factory=dict)
    chunks: dict[str, list[ChunkRow]] = field(default_factory=dict)
    compatible: bool = False


@dataclass
class _Plan:
    """What the new index holds: every document, the chunks to write, what changed."""

    docs: list[DocRow] = field(default_factory=list)
    chunks: list[ChunkRow] = field(default_factory=list)
    carried_chunks: int = 0  # chunks of carried documents that stay in the store as they are
    rewritten: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


def _bar(progress: bool, desc: str, unit: str, total: int | None = None) -> tqdm:
    return tqdm(
        total=total, desc=desc, unit=unit, disable=not progress, file=sys.stderr, leave=False
    )


def _load(
    paths: list[Path | str],
    settings: Settings,
    fmt: str,
    rebuild: bool,
    progress: bool,
    say: Callable[[str], None],
    report: IngestReport,
) -> LoadResult:
    """Load and clean: every supported file under ``paths``, and the URLs among them crawled
    (:mod:`ingest.web`; ``rebuild`` downloads every page again); skips are reported."""
    bar = _bar(progress, "loading", "file")
    loaded = load_sources(
        paths,
        settings,
        fmt=fmt,
        on_file=lambda _p: bar.update(),
        progress=progress,
        say=say,
        fresh=rebuild,
    )
    bar.close()
    report.skipped, report.errors, report.web = loaded.skipped, loaded.errors, loaded.web
    for msg in loaded.skipped:
        say(f"skipped: {msg}")
    for msg in loaded.errors:
        say(f"error: {msg}")
    return loaded


def _previous_index(
    writer: StoreWriter,
    emb: Embedder,
    chunker: Chunker,
    rebuild: bool,
    say: Callable[[str], None],
    report: IngestReport,
) -> _Previous:
    """Compare with the index as it is: reuse it, or say why everything is rebuilt."""
    previous = None if rebuild else writer.previous_manifest()
    if previous is None:
        if rebuild:
            report.rebuilt, report.rebuild_reason = True, "--rebuild"
        return _Previous()
    manifest, generation = previous
    out = _Previous(generation=generation)
    reasons = []
    if manifest.get("embedder", {}).get("fingerprint") != emb.fingerprint:
        reasons.append(
            f"embedder changed ({manifest.get('embedder', {}).get('name')} -> {emb.name})"
        )
    if manifest.get("chunker") != chunker.settings():
        reasons.append("chunker settings changed")
    reasons.extend(writer.incompatibilities(manifest))
    try:
        # Carried documents need their text only when everything is re-chunked.
        out.docs, out.chunks = writer.previous_rows(with_text=bool(reasons))
    except sqlite3.Error:  # a damaged local generation; Milvus errors abort instead
        reasons.append("previous index unreadable")
        out.docs, out.chunks = {}, {}
    out.compatible = not reasons
    if reasons:
        report.rebuilt, report.rebuild_reason = True, "; ".join(reasons)
        say(f"{report.rebuild_reason}: rebuilding the whole index")
    return out


def _kept_documents(
    previous: _Previous, loaded: LoadResult, say: Callable[[str], None], report: IngestReport
) -> dict[str, DocRow]:
    """Documents of the previous index kept as they are: those outside the given paths, and
    those whose file is still there but could not be read this time (only a file deleted from
    the folder removes its documents)."""
    kept = {}
    for d, row in previous.docs.items():
        if d in loaded.origins:
            continue
        if _within(row.origin, sorted(loaded.failed)):
            msg = (
                f"{row.origin}: could not be read this time; kept its indexed version of "
                f"{d!r} (delete the file to remove it from the index)"
            )
            report.kept.append(msg)
            say(f"kept: {msg}")
        elif _within(row.origin, loaded.roots):
            continue
        kept[d] = row
    return kept


def _chunk(
    loaded: LoadResult,
    kept: dict[str, DocRow],
    previous: _Previous,
    chunker: Chunker,
    writer: StoreWriter,
    progress: bool,
    report: IngestReport,
) -> _Plan:
    """Chunk new and changed documents; carry unchanged ones (and kept ones) as they are."""
    plan = _Plan()

    def carry(row: DocRow) -> None:
        plan.docs.append(row)
        if writer.full_rewrite:
            plan.chunks.extend(previous.chunks.get(row.doc_id, []))
        else:
            plan.carried_chunks += row.n_chunks

    bar = _bar(progress, "chunking", "doc", total=len(loaded.documents))
    for row in kept.values():
        if previous.compatible:
            carry(row)
        else:  # re-chunk kept documents too, with the new settings
            loaded.documents.append(
                Document(row.doc_id, row.text, row.title, row.source, row.lang, row.meta)
            )
            loaded.origins[row.doc_id] = row.origin
    for doc in loaded.documents:
        sha = document_hash(doc)
        old = previous.docs.get(doc.doc_id)
        if previous.compatible and old is not None and old.sha256 == sha:
            report.unchanged += 1
            carry(old)
        else:
            if old is None:
                report.added += 1
            else:
                report.changed += 1
            _split(doc, sha, loaded.origins.get(doc.doc_id, ""), chunker, plan)
        bar.update()
    bar.close()
    loaded_ids = set(loaded.origins)
    plan.removed = {d for d in previous.docs if d not in loaded_ids and d not in kept}
    report.removed = len(plan.removed)
    report.documents, report.chunks = len(plan.docs), len(plan.chunks) + plan.carried_chunks
    return plan


def _split(doc: Document, sha: str, origin: str, chunker: Chunker, plan: _Plan) -> None:
    """Add a new or changed document and its chunks (keyed by their embedded text) to ``plan``."""
    chunks = chunk_document(chunker, doc)  # a PDF page by page: its chunks name their page
    for c in chunks:
        etext = embedding_text(c.title, c.text, chunker.title_prefix)
        plan.chunks.append(ChunkRow(**chunk_fields(c), embed_key=text_key(etext)))
    plan.docs.append(
        DocRow(
            doc.doc_id,
            doc.title,
            doc.source,
            doc.lang,
            sha,
            origin,
            len(chunks),
            doc.text,
            doc.meta,
        )
    )
    plan.rewritten.add(doc.doc_id)


def _is_up_to_date(
    previous: _Previous, plan: _Plan, writer: StoreWriter, report: IngestReport
) -> bool:
    """Nothing to write: same documents, none changed, and no interrupted ingest to finish."""
    return (
        previous.compatible
        and report.added == 0
        and report.changed == 0
        and report.removed == 0
        and set(previous.docs) == {d.doc_id for d in plan.docs}
        and not writer.dirty
    )


def _embed(
    chunks: list[ChunkRow],
    cache: EmbedCache,
    emb: Embedder,
    chunker: Chunker,
    settings: Settings,
    progress: bool,
    report: IngestReport,
) -> np.ndarray:
    """One vector per chunk: cached ones reused, the rest embedded and cached as they finish."""
    todo = {c.embed_key: embedding_text(c.title, c.text, chunker.title_prefix) for c in chunks}
    have, fresh = embed_cached(todo, cache, emb, settings, progress, "embedding chunks")
    report.embedded = len(fresh)
    report.reused_vectors = sum(1 for c in chunks if c.embed_key not in fresh)
    if not chunks:
        return np.zeros((0, emb.dim), dtype=np.float32)
    return np.stack([have[c.embed_key] for c in chunks]).astype(np.float32)


def _manifest(emb: Embedder, chunker: Chunker, loaded: LoadResult) -> dict[str, Any]:
    """The store-independent manifest fields: embedder, chunker, library versions, roots."""
    return {
        "format": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedder": {
            "name": emb.name,
            "backend": emb.backend,
            "fingerprint": emb.fingerprint,
            "dim": emb.dim,
            "max_seq_length": emb.max_tokens,
            "query_prompt": emb.query_prompt,
            "passage_prompt": emb.passage_prompt,
        },
        "chunker": chunker.settings(),
        "versions": library_versions(),
        "roots": sorted(set(loaded.roots)),
    }
