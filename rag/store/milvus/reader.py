"""Read side of an index in Milvus: dense and BM25 search, chunks and documents.

Example:
    >>> store = MilvusStore.open(Settings.load(vector_store="data/milvus.db"))  # doctest: +SKIP
    >>> store.stats()["store"]                                                   # doctest: +SKIP
    'milvus-lite'
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import IndexCorrupt, IndexNotFound, StoreError
from rag.schema import Chunk
from rag.store.milvus.client import _quote, _rows, connect, in_filter, read_manifest
from rag.store.milvus.schema import BM25_PARAMS, CHUNK_FIELDS, PK, SPARSE, VECTOR
from rag.store.milvus.target import MilvusTarget, parse_milvus_uri

if TYPE_CHECKING:
    from rag.config import Settings


def _bm25(distance: float) -> float:
    """A Milvus BM25 distance on the local store's scale.

    Milvus scores ``idf * tf * (k1 + 1) / (tf + k1 * norm)``; bm25s (the local store) uses
    Lucene's form without the constant ``(k1 + 1)``. Dividing it out makes the scores shown
    to users (and any threshold on them) the same on both stores. Milvus Lite 3.2 returns the
    score negated, Milvus positive: larger is better on both.

    Example:
        >>> _bm25(-5.0), _bm25(5.0)
        (2.0, 2.0)
    """
    return abs(float(distance)) / (1.0 + BM25_PARAMS["bm25_k1"])


class MilvusStore:
    """Read side of an index in Milvus (see the module docstring). Thread-safe.

    Use :meth:`open`.
    """

    def __init__(self, target: MilvusTarget, client: Any, manifest: dict[str, Any]) -> None:
        self.target = target
        self.client = client
        self.manifest = manifest
        index = manifest.get("milvus", {}).get("index", {})
        self.index_type: str = index.get("type", "FLAT")
        self.search_params: dict[str, Any] = dict(index.get("search_params", {}))
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> MilvusStore:
        """Open the index named by ``settings.vector_store``.

        Raises:
            IndexNotFound: the collections do not exist yet (run ``rag ingest --store ...``).
            IndexCorrupt: a collection is missing or the manifest unreadable.
            StoreError: Milvus cannot be reached.
        """
        target = parse_milvus_uri(settings.vector_store)
        return cls.open_target(target)

    @classmethod
    def open_target(cls, target: MilvusTarget, client: Any = None) -> MilvusStore:
        """Open the index at ``target`` (with an existing client, or a new one)."""
        own = client is None
        client = client or connect(target)
        try:
            try:
                manifest = read_manifest(client, target)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"Milvus at {target.uri}: {type(exc).__name__}: {exc}") from exc
            if manifest is None:
                raise IndexNotFound(
                    f"no index in Milvus at {target.label}; build one with "
                    f"`rag ingest --store {target.uri}` (or `rag migrate --to {target.uri}`)"
                )
            for name in (target.collection, target.docs_collection):
                if not client.has_collection(name):
                    raise IndexCorrupt(
                        f"Milvus collection {name!r} at {target.uri} is missing; rebuild with "
                        f"`rag ingest --rebuild --store {target.uri}`"
                    )
                if name == target.collection and target.replicas:
                    client.load_collection(name, replica_number=target.replicas)
                else:
                    client.load_collection(name)
        except BaseException:
            if own:
                with contextlib.suppress(Exception):
                    client.close()
            raise
        return cls(target, client, manifest)

    # ------------------------------------------------------------------ search
    def _search(
        self, data: list[Any], field_name: str, k: int, params: dict[str, Any], expr: str = ""
    ) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        hits = self.client.search(
            self.target.collection,
            data=data,
            anns_field=field_name,
            limit=int(k),
            filter=expr,
            output_fields=[PK],
            search_params=params,
        )
        return [(int(h[PK]), float(h["distance"])) for h in hits[0]] if hits else []

    def _dense_params(self, k: int) -> dict[str, Any]:
        params = dict(self.search_params)
        if "ef" in params:
            params["ef"] = max(int(params["ef"]), int(k))
        return {"metric_type": "IP", "params": params}

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        return self._search([query], VECTOR, min(k, 16_384), self._dense_params(k))

    def dense_scores(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        if not ids:
            return {}
        rows = self.client.query(
            self.target.collection, filter=in_filter(PK, list(ids)), output_fields=[PK, VECTOR]
        )
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        return {int(r[PK]): float(np.asarray(r[VECTOR], dtype=np.float32) @ query) for r in rows}

    @staticmethod
    def _query_text(terms: list[str], query: str | None) -> str:
        return (query if query is not None else " ".join(terms)).strip()

    def sparse_search(
        self,
        terms: list[str],
        k: int,
        *,
        query: str | None = None,
        groups: Sequence[Any] | None = None,
    ) -> list[tuple[int, float]]:
        """Top ``k`` chunks by Milvus's BM25 on the raw ``query`` (``terms`` joined if absent;
        ``groups`` is ignored: Milvus sums every word)."""
        text = self._query_text(terms, query)
        if not text:
            return []
        hits = self._search([text], SPARSE, min(k, 16_384), {"metric_type": "BM25"})
        return [(i, _bm25(s)) for i, s in hits if s != 0]

    def sparse_scores(
        self,
        terms: list[str],
        ids: Sequence[int],
        *,
        query: str | None = None,
        groups: Sequence[Any] | None = None,
    ) -> dict[int, float]:
        """BM25 scores of given chunks (0 for chunks without a query word; ``groups`` as in
        :meth:`sparse_search`)."""
        text = self._query_text(terms, query)
        out = {int(i): 0.0 for i in ids}
        if not text or not ids:
            return out
        hits = self._search(
            [text], SPARSE, len(ids), {"metric_type": "BM25"}, in_filter(PK, list(ids))
        )
        out.update({i: _bm25(s) for i, s in hits})
        return out

    def hybrid_search(
        self, vector: np.ndarray, query: str, k: int, depth: int = 30, rrf_k: int = 60
    ) -> list[tuple[int, float]]:
        """Milvus's own hybrid search (dense + BM25 fused by its ``RRFRanker``).

        The retriever fuses :meth:`dense_search` and :meth:`sparse_search` itself with the same
        formula (so weights and every mode behave as on the local store); this is for comparison.
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        dense = AnnSearchRequest(
            data=[np.asarray(vector, dtype=np.float32).reshape(-1).tolist()],
            anns_field=VECTOR,
            param=self._dense_params(depth),
            limit=depth,
        )
        sparse = AnnSearchRequest(
            data=[query], anns_field=SPARSE, param={"metric_type": "BM25"}, limit=depth
        )
        hits = self.client.hybrid_search(
            self.target.collection,
            [dense, sparse],
            ranker=RRFRanker(rrf_k),
            limit=k,
            output_fields=[PK],
        )
        return [(int(h[PK]), float(h["distance"])) for h in hits[0]] if hits else []

    # ------------------------------------------------------------------ records
    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        if not ids:
            return []
        rows = self.client.query(
            self.target.collection, filter=in_filter(PK, list(ids)), output_fields=CHUNK_FIELDS
        )
        by_id = {
            int(r[PK]): Chunk(
                r["chunk_id"],
                r["doc_id"],
                r["title"],
                r["source"],
                int(r["start"]),
                int(r["end"]),
                r["text"],
                int(r["n_tokens"]),
            )
            for r in rows
        }
        missing = [i for i in ids if int(i) not in by_id]
        if missing:
            raise IndexCorrupt(
                f"chunks {missing[:5]} missing from Milvus collection {self.target.collection}; "
                f"rebuild with `rag ingest --rebuild --store {self.target.uri}`"
            )
        return [by_id[int(i)] for i in ids]

    def document_text(self, doc_id: str) -> str | None:
        rows = self.client.query(
            self.target.docs_collection,
            filter=f"doc_id == {_quote(doc_id)}",
            output_fields=["part", "text"],
        )
        if not rows:
            return None
        return "".join(r["text"] for r in sorted(rows, key=lambda r: int(r["part"])))

    def documents(self) -> list[dict[str, Any]]:
        """Every document's id, title, source, language and chunk count."""
        rows = _rows(
            self.client,
            self.target.docs_collection,
            "part == 0",
            ["doc_id", "title", "source", "lang", "n_chunks"],
        )
        out = [
            {
                "doc_id": r["doc_id"],
                "title": r["title"],
                "source": r["source"],
                "lang": r["lang"],
                "chunks": int(r["n_chunks"]),
            }
            for r in rows
        ]
        return sorted(out, key=lambda d: d["doc_id"])

    def count(self) -> int:
        """Chunks in the collection right now (asks Milvus)."""
        rows = self.client.query(self.target.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def stats(self) -> dict[str, Any]:
        counts = self.manifest.get("counts", {})
        emb = self.manifest.get("embedder", {})
        out: dict[str, Any] = {
            "store": "milvus-lite" if self.target.lite else "milvus",
            "uri": self.target.uri,
            "collection": self.target.collection,
            "generation": self.manifest.get("generation"),
            "created": self.manifest.get("created"),
            "documents": counts.get("documents"),
            "chunks": counts.get("chunks"),
            "embedder": emb.get("name"),
            "embedder_fingerprint": emb.get("fingerprint"),
            "dim": emb.get("dim"),
            "index": self.index_type,
            "bm25": "milvus BM25 function (jieba analyzer)",
        }
        if self.target.lite:
            root = Path(self.target.client_uri)
            out["size_bytes"] = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        return out

    def close(self) -> None:
        with self._lock, contextlib.suppress(Exception):
            self.client.close()
