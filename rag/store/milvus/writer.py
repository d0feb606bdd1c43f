"""Write side of an index in Milvus: deletions by document, inserts, the manifest beside.

:class:`MilvusIndexWriter` applies one ingest's changes to the collections;
:class:`MilvusWriter` is the :class:`rag.store.base.StoreWriter` the ingest pipeline uses (it
only rewrites new and changed documents: the rest stay in Milvus).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorrupt, StoreError
from rag.schema import embedding_text
from rag.store.base import ChunkRow, DocRow, IndexChange
from rag.store.local.layout import CACHE_DB, LOCK
from rag.store.milvus.client import _batches, _rows, connect, in_filter, read_manifest
from rag.store.milvus.schema import (
    BATCH_ROWS,
    BM25_PARAMS,
    BM25_TEXT,
    DOC_FIELDS,
    FILTER_IDS,
    LABEL_CHARS,
    MILVUS_FORMAT,
    PK,
    SPARSE,
    VECTOR,
    _chunk_schema,
    _cut_utf8,
    _docs_schema,
    _key,
    _meta_schema,
    analyzer_params,
    choose_index,
    chunk_pk,
    text_parts,
)
from rag.store.milvus.target import MilvusTarget, parse_milvus_uri


class MilvusIndexWriter:
    """Applies an ingest to the Milvus collections: deletions by document, inserts, manifest.

    Order, so that an interrupted ingest never leaves a document silently wrong: the touched
    document ids are recorded in ``<c>_meta`` first, then their document rows and chunks are
    deleted, the new chunks inserted, the document rows inserted, and the record cleared with the
    new manifest. The next ingest re-does every document still recorded.

    Example:
        >>> writer = MilvusIndexWriter(parse_milvus_uri("x.db"))         # doctest: +SKIP
        >>> writer.apply(docs, chunks, vectors, manifest, delete_doc_ids=[])  # doctest: +SKIP
    """

    def __init__(self, target: MilvusTarget, client: Any = None) -> None:
        self.target = target
        self.client = client or connect(target)

    # ------------------------------------------------------------------ reading
    def manifest(self) -> dict[str, Any] | None:
        """The current manifest (None when there is no index)."""
        return read_manifest(self.client, self.target)

    def pending(self) -> dict[str, list[str]]:
        """Documents being written (or left half-written by an interrupted ingest) -> the paths
        given to the ingest that wrote them."""
        if not self.client.has_collection(self.target.meta_collection):
            return {}
        self.client.load_collection(self.target.meta_collection)
        rows = _rows(self.client, self.target.meta_collection, 'kind == "pending"', ["value"])
        return {
            str(r["value"]["doc_id"]): list(r["value"].get("roots") or [])
            for r in rows
            if isinstance(r.get("value"), dict)
        }

    def documents(self, with_text: bool = False) -> list[dict[str, Any]]:
        """Every stored document (fields of ``DocRow``; ``text`` is "" unless ``with_text``)."""
        name = self.target.docs_collection
        if not self.client.has_collection(name):
            return []
        self.client.load_collection(name)
        fields = ["doc_id", "part", *DOC_FIELDS[1:], *(["text"] if with_text else [])]
        docs: dict[str, dict[str, Any]] = {}
        parts: dict[str, dict[int, str]] = {}
        for r in _rows(self.client, name, "" if with_text else "part == 0", fields):
            if with_text:
                parts.setdefault(r["doc_id"], {})[int(r["part"])] = r.get("text", "")
            if int(r["part"]) == 0:
                row = {k: r.get(k) for k in DOC_FIELDS}
                row["n_chunks"] = int(row["n_chunks"] or 0)
                meta = row.get("meta")
                row["meta"] = meta if isinstance(meta, dict) else json.loads(meta or "{}")
                docs[r["doc_id"]] = row
        for doc_id, row in docs.items():
            pieces = parts.get(doc_id, {})
            row["text"] = "".join(pieces[i] for i in sorted(pieces))
        return list(docs.values())

    # ------------------------------------------------------------------ writing
    def _create(self, dim: int, n_chunks: int) -> None:
        c, t = self.client, self.target
        if not c.has_collection(t.meta_collection):  # first: it marks the others as ours
            params = c.prepare_index_params()
            params.add_index("_v", index_type="FLAT", metric_type="L2")
            c.create_collection(
                t.meta_collection,
                schema=_meta_schema(c),
                index_params=params,
                consistency_level="Strong",
            )
        if not c.has_collection(t.collection):
            kind, build, _ = choose_index(n_chunks, t.index)
            params = c.prepare_index_params()
            params.add_index(VECTOR, index_type=kind, metric_type="IP", params=build)
            params.add_index(
                SPARSE,
                index_type="SPARSE_INVERTED_INDEX",
                metric_type="BM25",
                params=dict(BM25_PARAMS),
            )
            extra = {"num_shards": t.shards} if t.shards else {}
            c.create_collection(
                t.collection,
                schema=_chunk_schema(c, dim),
                index_params=params,
                consistency_level="Strong",
                **extra,
            )
        if not c.has_collection(t.docs_collection):
            params = c.prepare_index_params()
            params.add_index("_v", index_type="FLAT", metric_type="L2")
            c.create_collection(
                t.docs_collection,
                schema=_docs_schema(c),
                index_params=params,
                consistency_level="Strong",
            )
        for name in (t.collection, t.docs_collection, t.meta_collection):
            c.load_collection(name)

    def drop(self) -> None:
        """Remove the three collections (the manifest last: it marks the others as ours)."""
        for name in (
            self.target.collection,
            self.target.docs_collection,
            self.target.meta_collection,
        ):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def _delete_docs(self, doc_ids: Sequence[str]) -> None:
        t = self.target
        for part in _batches(list(doc_ids), FILTER_IDS):
            expr = in_filter("doc_id", list(part))
            self.client.delete(t.docs_collection, filter=expr)
            self.client.delete(t.collection, filter=expr)

    def _insert_chunks(
        self, chunks: Sequence[Any], vectors: np.ndarray, title_prefix: bool
    ) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        for begin in range(0, len(chunks), BATCH_ROWS):
            rows = []
            for i in range(begin, min(begin + BATCH_ROWS, len(chunks))):
                c = chunks[i]
                rows.append(
                    {
                        PK: chunk_pk(c.chunk_id),
                        "chunk_id": c.chunk_id,
                        "doc_id": c.doc_id,
                        "title": _cut_utf8(c.title, LABEL_CHARS),
                        "source": _cut_utf8(c.source, LABEL_CHARS),
                        "start": int(c.start),
                        "end": int(c.end),
                        "text": _cut_utf8(c.text, 65_535),
                        "n_tokens": int(c.n_tokens),
                        "embed_key": c.embed_key,
                        VECTOR: vectors[i].tolist(),
                        BM25_TEXT: _cut_utf8(embedding_text(c.title, c.text, title_prefix), 65_535),
                    }
                )
            self.client.insert(self.target.collection, rows)

    def _insert_docs(self, docs: Sequence[Any]) -> None:
        rows: list[dict[str, Any]] = []
        for d in docs:
            pieces = text_parts(d.text)
            for part, piece in enumerate(pieces):
                head = part == 0
                rows.append(
                    {
                        "key": f"{_key(d.doc_id)}:{part}",
                        "doc_id": d.doc_id,
                        "part": part,
                        "n_parts": len(pieces),
                        "title": _cut_utf8(d.title, LABEL_CHARS) if head else "",
                        "source": _cut_utf8(d.source, LABEL_CHARS) if head else "",
                        "origin": _cut_utf8(d.origin, LABEL_CHARS) if head else "",
                        "lang": (d.lang or "")[:32] if head else "",
                        "sha256": d.sha256 if head else "",
                        "n_chunks": int(d.n_chunks),
                        "meta": (d.meta or {}) if head else {},
                        "text": piece,
                        "_v": [0.0, 0.0],
                    }
                )
            if len(rows) >= BATCH_ROWS:
                self.client.insert(self.target.docs_collection, rows)
                rows = []
        if rows:
            self.client.insert(self.target.docs_collection, rows)

    def _set_pending(self, doc_ids: Iterable[str], roots: Sequence[str] = ()) -> None:
        rows = [
            {
                "key": f"pending:{_key(d)}",
                "kind": "pending",
                "value": {"doc_id": d, "roots": list(roots)},
                "_v": [0.0, 0.0],
            }
            for d in doc_ids
        ]
        for part in _batches(rows, BATCH_ROWS):
            self.client.upsert(self.target.meta_collection, list(part))

    def _clear_pending(self, doc_ids: Sequence[str]) -> None:
        for part in _batches(list(doc_ids), FILTER_IDS):
            self.client.delete(
                self.target.meta_collection,
                filter=in_filter("key", [f"pending:{_key(d)}" for d in part]),
            )

    def _count(self, collection: str, expr: str = "") -> int:
        rows = self.client.query(collection, filter=expr, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _reindex(self, n_chunks: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Switch the vector index type when the collection crossed a size threshold."""
        c, name = self.client, self.target.collection
        kind, build, search = choose_index(n_chunks, self.target.index)
        current = (c.describe_index(name, VECTOR) or {}).get("index_type")
        if current == kind:
            return kind, build, search
        c.release_collection(name)
        c.drop_index(name, VECTOR)
        for _ in range(100):  # the drop may finish asynchronously
            if VECTOR not in (c.list_indexes(name, field_name=VECTOR) or []):
                break
            time.sleep(0.1)
        params = c.prepare_index_params()
        params.add_index(VECTOR, index_type=kind, metric_type="IP", params=build)
        try:
            c.create_index(name, params)
        except Exception:
            # A long build can outlive the gRPC keepalive; pymilvus then retries and the retry
            # finds the index the first call made.
            if (c.describe_index(name, VECTOR) or {}).get("index_type") != kind:
                raise
        c.load_collection(name)
        return kind, build, search

    def apply(
        self,
        docs: Sequence[Any],
        chunks: Sequence[Any],
        vectors: np.ndarray,
        manifest: dict[str, Any],
        *,
        delete_doc_ids: Iterable[str] = (),
        rebuild: bool = False,
        n_documents: int,
        n_chunks: int,
        title_prefix: bool = True,
    ) -> str:
        """Write an ingest's changes; returns the new generation label.

        Args:
            docs: Documents to (re)write: new and changed ones, with their text.
            chunks: Their chunks (:class:`rag.store.base.ChunkRow`).
            vectors: One normalized vector per chunk.
            manifest: Manifest fields (counts and the Milvus section are added here).
            delete_doc_ids: Documents to remove entirely (deleted files, and documents an
                interrupted ingest of the same paths left half-written).
            rebuild: Drop and recreate the collections first.
            n_documents: Documents expected after this write (the manifest counts what Milvus
                holds, which differs when other ingests write other paths at the same time).
            n_chunks: Chunks expected after this write (picks the index type on creation).
            title_prefix: BM25 indexes ``"{title}\\n{text}"`` like the embedder sees it.
        """
        if len(chunks) != len(vectors):
            raise ValueError("chunks and vectors must have the same length")
        dim = int(manifest.get("embedder", {}).get("dim") or np.asarray(vectors).shape[-1])
        c, t = self.client, self.target
        if c.has_collection(t.collection) and not c.has_collection(t.meta_collection):
            raise StoreError(
                f"Milvus collection {t.collection!r} at {t.uri} was not made by `rag ingest`; "
                "name another one with ?collection=... or drop it"
            )
        if rebuild:
            self.drop()
        self._create(dim, n_chunks)
        touched = sorted(
            set(delete_doc_ids) | {d.doc_id for d in docs} | {c.doc_id for c in chunks}
        )
        roots = list(manifest.get("roots", []))
        self._set_pending(touched, roots)
        self._delete_docs(touched)
        self._insert_chunks(chunks, vectors, title_prefix)
        self._insert_docs(docs)
        # Counted in Milvus: other ingests (other paths) may write the same collection.
        n_chunks = self._count(t.collection)
        n_documents = self._count(t.docs_collection, "part == 0")
        kind, build, search = self._reindex(n_chunks)
        previous = None if rebuild else self.manifest()
        if previous is not None:
            roots = sorted(set(roots) | set(previous.get("roots", [])))
        generation = time.strftime("milvus-%Y%m%dT%H%M%S", time.gmtime())
        manifest = dict(manifest)
        versions = dict(manifest.get("versions", {}))
        with contextlib.suppress(Exception):
            from importlib import metadata

            versions["pymilvus"] = metadata.version("pymilvus")
            versions["milvus-server"] = str(self.client.get_server_version())
        manifest["versions"] = versions
        manifest.update(
            {
                "format": MILVUS_FORMAT,
                "generation": generation,
                "roots": roots,
                "counts": {"documents": n_documents, "chunks": n_chunks},
                "milvus": {
                    "uri": self.target.uri,
                    "collection": self.target.collection,
                    "docs_collection": self.target.docs_collection,
                    "schema": MILVUS_FORMAT,
                    "index": {
                        "type": kind,
                        "metric": "IP",
                        "build_params": build,
                        "search_params": search,
                    },
                },
                "bm25": {"library": "milvus", "analyzer": analyzer_params(), **BM25_PARAMS},
            }
        )
        self.client.upsert(
            self.target.meta_collection,
            [{"key": "manifest", "kind": "manifest", "value": manifest, "_v": [0.0, 0.0]}],
        )
        self._clear_pending(touched)
        for name in (
            self.target.collection,
            self.target.docs_collection,
            self.target.meta_collection,
        ):
            self.client.flush(name)
        return generation

    def close(self) -> None:
        """Release the connection."""
        with contextlib.suppress(Exception):
            self.client.close()


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


class MilvusWriter:
    """Writes to Milvus: deletes by document id, inserts new chunks, keeps the manifest beside.

    The lock and the embedding cache stay in ``settings.index_dir`` on this machine (the cache
    is shared with the local store, so switching stores does not re-embed; it is not pruned).
    """

    full_rewrite = False
    keeps_sentences = False

    def __init__(self, settings: Settings) -> None:
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
