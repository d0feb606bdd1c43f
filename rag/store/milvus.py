"""A store on Milvus: the same chunks, vectors and BM25 as the local store, in a vector database.

Set ``RAG_VECTOR_STORE`` (or ``--store``) to one of::

    milvus://host:19530                       a Milvus server or cluster (gRPC)
    milvus://host:19530/dbname?collection=x   another database / collection name
    milvus://user:password@host:19530?secure=1  with authentication over TLS
    milvus-lite:///abs/path/index.db          embedded Milvus Lite, data in that folder
    path/to/index.db                          the same, shorter

Layout in Milvus (``<c>`` is the collection name, ``rag_chunks`` by default):

``<c>``
    one row per chunk: ``pk`` (INT64, stable hash of ``chunk_id``), ``chunk_id``, ``doc_id``,
    ``title``, ``source``, ``start``, ``end``, ``text``, ``n_tokens``, ``embed_key``, ``vector``
    (FLOAT_VECTOR, inner product; FLAT below :data:`FLAT_MAX_CHUNKS` chunks, HNSW above,
    IVF_SQ8 above :data:`IVF_MIN_CHUNKS`), ``bm25_text`` (the title line and text, analyzed
    with jieba) and ``sparse`` (SPARSE_FLOAT_VECTOR filled by Milvus's own BM25 function).
``<c>_docs``
    documents: ``doc_id``, ``title``, ``source``, ``lang``, ``sha256``, ``origin``,
    ``n_chunks``, ``meta`` and the text, split into parts of :data:`TEXT_PART_CHARS`.
``<c>_meta``
    the manifest (embedder, chunker, counts) and the ids of documents an interrupted ingest left
    half-written.

pymilvus is imported only when a Milvus store is opened.

Example:
    >>> parse_milvus_uri("milvus://10.0.0.5:19530/prod?collection=articles").client_uri
    'http://10.0.0.5:19530'
    >>> parse_milvus_uri("data/milvus.db").collection
    'rag_chunks'
    >>> store = MilvusStore.open(Settings.load(vector_store="data/milvus.db"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from rag.store.base import ChunkRecord, IndexCorrupt, IndexNotFound, StoreError

if TYPE_CHECKING:
    from rag.config import Settings

DEFAULT_COLLECTION = "rag_chunks"
DEFAULT_PORT = 19530
MILVUS_FORMAT = 1  # bump when the collections' schema changes (forces a rebuild)

# Index choice by collection size (chunks). Below FLAT_MAX_CHUNKS an exact scan costs a few
# milliseconds and is exact; HNSW (~1.7 KB per 384-d vector with its graph) serves up to ~10M;
# beyond that IVF_SQ8 (~0.4 KB per vector) keeps memory in check. Measured in docs/scale-out.md.
FLAT_MAX_CHUNKS = 100_000
IVF_MIN_CHUNKS = 10_000_000
HNSW_BUILD = {"M": 16, "efConstruction": 200}
HNSW_EF = 96
IVF_NLIST = 1024  # per segment (Milvus builds one index per sealed segment of ~1 GB)
IVF_NPROBE = 32

TEXT_PART_CHARS = 16_000  # at most 64 KB of UTF-8 per VARCHAR (Milvus's limit is 65,535 bytes)
ID_CHARS = 1024
LABEL_CHARS = 8192
BATCH_ROWS = 512
FILTER_IDS = 512  # ids per `in [...]` filter expression

PK, VECTOR, SPARSE, BM25_TEXT = "pk", "vector", "sparse", "bm25_text"
CHUNK_FIELDS = ["pk", "chunk_id", "doc_id", "title", "source", "start", "end", "text"]
DOC_FIELDS = ["doc_id", "title", "source", "lang", "sha256", "origin", "n_chunks", "meta"]

# Punctuation and function words dropped by the analyzer, like the local BM25 tokenizer does
# (rag.text.tokenize_zh). Milvus's jieba tokenizer keeps punctuation as tokens; a stop filter works
# both on Milvus and on Milvus Lite (which ignores the `removepunct` filter).
_PUNCT = list("，。、；：？！“”‘’（）《》【】「」『』…—～·,.;:?!\"'()[]{}<>-_/\\|@#$%^&*+=~`")


def analyzer_params() -> dict[str, Any]:
    """The BM25 analyzer: jieba in search mode (as the local store), lowercase, stop words.

    Milvus's built-in ``{"type": "chinese"}`` analyzer is jieba plus a filter that drops tokens
    such as ``gpt-4``; Milvus Lite 3.2 does not know it. This explicit form works on both.

    Example:
        >>> analyzer_params()["tokenizer"]["type"]
        'jieba'
    """
    from rag.text.tokenize_zh import _STOP_SINGLE_CJK, STOPWORDS

    stop = sorted(set(STOPWORDS) | set(_STOP_SINGLE_CJK) | set(_PUNCT))
    return {
        "tokenizer": {"type": "jieba", "mode": "search", "hmm": True},
        "filter": ["lowercase", {"type": "stop", "stop_words": stop}],
    }


BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # the local store's bm25s settings


# ---------------------------------------------------------------------------- addresses
@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus index lives, parsed from ``RAG_VECTOR_STORE``.

    Attributes:
        uri: The setting as given (secrets removed).
        client_uri: What :class:`pymilvus.MilvusClient` connects to (``http://host:port`` or a
            ``.db`` path for Milvus Lite).
        lite: True for embedded Milvus Lite.
        collection: The chunks collection; ``<collection>_docs`` and ``<collection>_meta`` too.
        db_name: Milvus database ("" for the default one).
        token: ``user:password`` or an API token (from the URI or ``MILVUS_TOKEN``).
        index: Vector index type forced by ``?index=`` (else chosen by size).
        timeout: Seconds to wait for the server when connecting (``?timeout=``).
        shards: Shards of the chunks collection when it is created (``?shards=``; Milvus's
            default is 1): parallel write channels.
        replicas: In-memory replicas when the store loads the chunks collection
            (``?replicas=``): read throughput and availability on a cluster.
    """

    uri: str
    client_uri: str
    lite: bool
    collection: str = DEFAULT_COLLECTION
    db_name: str = ""
    token: str = field(default="", repr=False)
    index: str | None = None
    timeout: float = 30.0
    shards: int | None = None
    replicas: int | None = None

    @property
    def docs_collection(self) -> str:
        """The documents collection."""
        return f"{self.collection}_docs"

    @property
    def meta_collection(self) -> str:
        """The manifest collection."""
        return f"{self.collection}_meta"

    @property
    def label(self) -> str:
        """For messages: the address and the collection."""
        return f"{self.uri} (collection {self.collection})"


def is_milvus_uri(uri: str | None) -> bool:
    """True when ``uri`` names a Milvus store rather than the local directory.

    Example:
        >>> [is_milvus_uri(u) for u in ("local", "milvus://h:19530", "x.db", "milvus-lite:///a.db?collection=c")]
        [False, True, True, True]
    """
    if not uri:
        return False
    uri = str(uri).strip()
    return uri.startswith(("milvus://", "milvus-lite://")) or uri.split("?", 1)[0].endswith(".db")


def parse_milvus_uri(uri: str, environ: dict[str, str] | None = None) -> MilvusTarget:
    """Parse a store setting into a :class:`MilvusTarget`.

    Query parameters: ``collection`` (name), ``index`` (FLAT, HNSW, IVF_FLAT, IVF_SQ8,
    AUTOINDEX), ``secure`` (1: TLS), ``token``, ``timeout`` (seconds to connect, default 30),
    ``shards`` and ``replicas`` (cluster layout); the path of ``milvus://`` names the database.

    Raises:
        StoreError: the setting is not a Milvus address.

    Example:
        >>> t = parse_milvus_uri("milvus://u:p@db.example:29530/team?collection=kb&index=HNSW")
        >>> t.client_uri, t.db_name, t.collection, t.index, t.token, t.uri
        ('http://db.example:29530', 'team', 'kb', 'HNSW', 'u:p', 'milvus://db.example:29530/team?collection=kb&index=HNSW')
        >>> parse_milvus_uri("milvus-lite:///tmp/x.db?collection=a").client_uri
        '/tmp/x.db'
    """
    env = os.environ if environ is None else environ
    raw = str(uri).strip()
    base, _, query_str = raw.partition("?")
    query = {k: v[-1] for k, v in parse_qs(query_str).items()}
    collection = query.get("collection") or DEFAULT_COLLECTION
    if not collection.replace("_", "").isalnum() or collection[0].isdigit():
        raise StoreError(
            f"collection name {collection!r} in {raw!r}: use letters, digits and underscores"
        )
    index = (query.get("index") or "").upper() or None
    try:
        timeout = float(query.get("timeout") or 30.0)
        shards = int(query["shards"]) if query.get("shards") else None
        replicas = int(query["replicas"]) if query.get("replicas") else None
    except ValueError as exc:
        raise StoreError(f"timeout, shards and replicas in {raw!r} must be numbers") from exc
    layout = {"timeout": timeout, "shards": shards, "replicas": replicas}
    token = query.get("token") or env.get("MILVUS_TOKEN", "")
    shown_query = "&".join(f"{k}={v}" for k, v in query.items() if k != "token")
    if base.startswith("milvus-lite://") or (base.endswith(".db") and "://" not in base):
        path = base[len("milvus-lite://") :] if base.startswith("milvus-lite://") else base
        path = unquote(path)
        if not path.endswith(".db"):
            raise StoreError(f"{raw!r}: a Milvus Lite path must end with .db")
        client_uri = str(Path(path).expanduser().absolute())
        return MilvusTarget(raw, client_uri, True, collection, "", token, index, **layout)
    if not base.startswith("milvus://"):
        raise StoreError(
            f"{raw!r} is not a Milvus address (milvus://host:port, milvus-lite:///path.db, x.db)"
        )
    parts = urlsplit(base)
    host = parts.hostname or "localhost"
    port = parts.port or DEFAULT_PORT
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    secure = query.get("secure", "").lower() in ("1", "true", "yes")
    db_name = parts.path.strip("/")
    shown = f"milvus://{host}:{port}" + (f"/{db_name}" if db_name else "")
    shown += f"?{shown_query}" if shown_query else ""
    scheme = "https" if secure else "http"
    return MilvusTarget(
        shown, f"{scheme}://{host}:{port}", False, collection, db_name, token, index, **layout
    )


def chunk_pk(chunk_id: str) -> int:
    """The stable INT64 primary key of a chunk: 63 bits of SHA-256 of its ``chunk_id``.

    The same chunk keeps its key across ingests, so deletions and re-inserts address it without
    a lookup table. Two ids collide with probability ~n²/2⁶⁴ (5·10⁻⁴ at 100M chunks).

    Example:
        >>> chunk_pk("dpo#0") == chunk_pk("dpo#0") != chunk_pk("dpo#1")
        True
    """
    digest = hashlib.sha256(chunk_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def choose_index(
    n_chunks: int, forced: str | None = None
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Vector index type, build parameters and search parameters for a collection size.

    Example:
        >>> choose_index(40_000)[0], choose_index(2_000_000)[0], choose_index(50_000_000)[0]
        ('FLAT', 'HNSW', 'IVF_SQ8')
        >>> choose_index(10, forced="HNSW")[2]
        {'ef': 96}
    """
    kind = (forced or "").upper()
    if not kind:
        kind = (
            "FLAT"
            if n_chunks < FLAT_MAX_CHUNKS
            else "HNSW"
            if n_chunks < IVF_MIN_CHUNKS
            else "IVF_SQ8"
        )
    if kind in ("HNSW", "HNSW_SQ"):
        return kind, dict(HNSW_BUILD), {"ef": HNSW_EF}
    if kind.startswith("IVF"):
        return kind, {"nlist": IVF_NLIST}, {"nprobe": IVF_NPROBE}
    return kind, {}, {}


def _key(doc_id: str) -> str:
    """A VARCHAR primary key for a document id (hex: pymilvus's query iterator pages with
    ``key > "<last key>"`` unescaped, so keys must not contain quotes or backslashes)."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()


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


def _quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def in_filter(field_name: str, values: Sequence[Any]) -> str:
    """``field in [...]`` with values quoted for Milvus.

    Example:
        >>> in_filter("doc_id", ['a', 'b"c'])
        'doc_id in ["a", "b\\\\"c"]'
    """
    items = ", ".join(_quote(v) if isinstance(v, str) else str(int(v)) for v in values)
    return f"{field_name} in [{items}]"


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` UTF-8 bytes (whole characters)."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def text_parts(text: str, size: int = TEXT_PART_CHARS) -> list[str]:
    """A document's text in VARCHAR-sized parts (at least one).

    Example:
        >>> [len(p) for p in text_parts("x" * 5, size=2)]
        [2, 2, 1]
    """
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------------------- connection
def connect(target: MilvusTarget, timeout: float | None = None) -> Any:
    """A :class:`pymilvus.MilvusClient` for ``target`` (starting Milvus Lite in-process for .db).

    Raises:
        StoreError: pymilvus is missing or the server cannot be reached.
    """
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StoreError(
            "the Milvus store needs pymilvus (and milvus-lite for .db files): "
            "pip install 'rag-articles[milvus]'"
        ) from exc
    if target.lite:
        # Milvus Lite runs in this process: keep jieba's and the iterator's chatter out of stderr.
        with contextlib.suppress(ImportError):
            import jieba

            jieba.setLogLevel(logging.WARNING)
        logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
        Path(target.client_uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        # A dedicated channel per store: pymilvus's shared channels are health-checked and
        # "recovered" when another client left them idle, which can fail on a busy server.
        return MilvusClient(
            uri=target.client_uri,
            token=target.token,
            db_name=target.db_name,
            timeout=timeout or target.timeout,
            dedicated=True,
        )
    except Exception as exc:
        raise StoreError(
            f"cannot connect to Milvus at {target.uri} ({type(exc).__name__}: {exc}); start the "
            "server or fix RAG_VECTOR_STORE / --store"
        ) from exc


def _rows(
    client: Any, collection: str, expr: str, fields: list[str], batch: int = 1000
) -> Iterator[dict]:
    """Every row matching ``expr`` (paged with a query iterator)."""
    it = client.query_iterator(collection, batch_size=batch, filter=expr, output_fields=fields)
    try:
        while True:
            page = it.next()
            if not page:
                return
            yield from page
    finally:
        it.close()


def read_manifest(client: Any, target: MilvusTarget) -> dict[str, Any] | None:
    """The manifest stored in ``<collection>_meta``, or None when there is none."""
    if not client.has_collection(target.meta_collection):
        return None
    client.load_collection(target.meta_collection)
    rows = client.query(target.meta_collection, filter='key == "manifest"', output_fields=["value"])
    if not rows:
        return None
    manifest = rows[0].get("value")
    if isinstance(manifest, str):
        manifest = json.loads(manifest)
    if not isinstance(manifest, dict) or manifest.get("format") != MILVUS_FORMAT:
        raise IndexCorrupt(
            f"Milvus index {target.label} has an unknown format; rebuild it with "
            f"`rag ingest --rebuild --store {target.uri}`"
        )
    return manifest


# ---------------------------------------------------------------------------- read side
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
        self, terms: list[str], k: int, *, query: str | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` chunks by Milvus's BM25 on the raw ``query`` (``terms`` joined if absent)."""
        text = self._query_text(terms, query)
        if not text:
            return []
        hits = self._search([text], SPARSE, min(k, 16_384), {"metric_type": "BM25"})
        return [(i, _bm25(s)) for i, s in hits if s != 0]

    def sparse_scores(
        self, terms: list[str], ids: Sequence[int], *, query: str | None = None
    ) -> dict[int, float]:
        """BM25 scores of given chunks (0 for chunks without a query word)."""
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
    def chunks(self, ids: Sequence[int]) -> list[ChunkRecord]:
        if not ids:
            return []
        rows = self.client.query(
            self.target.collection, filter=in_filter(PK, list(ids)), output_fields=CHUNK_FIELDS
        )
        by_id = {
            int(r[PK]): ChunkRecord(
                int(r[PK]),
                r["chunk_id"],
                r["doc_id"],
                r["title"],
                r["source"],
                int(r["start"]),
                int(r["end"]),
                r["text"],
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


# ---------------------------------------------------------------------------- write side
def _chunk_schema(client: Any, dim: int) -> Any:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(PK, DataType.INT64, is_primary=True)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=ID_CHARS + 16)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
    schema.add_field("title", DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("source", DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    schema.add_field("n_tokens", DataType.INT64)
    schema.add_field("embed_key", DataType.VARCHAR, max_length=64)
    schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field(
        BM25_TEXT,
        DataType.VARCHAR,
        max_length=65_535,
        enable_analyzer=True,
        analyzer_params=analyzer_params(),
    )
    schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=[BM25_TEXT],
            output_field_names=[SPARSE],
        )
    )
    return schema


def _docs_schema(client: Any) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=ID_CHARS)
    schema.add_field("part", DataType.INT64)
    schema.add_field("n_parts", DataType.INT64)
    for name in ("title", "source", "origin"):
        schema.add_field(name, DataType.VARCHAR, max_length=LABEL_CHARS)
    schema.add_field("lang", DataType.VARCHAR, max_length=32)
    schema.add_field("sha256", DataType.VARCHAR, max_length=64)
    schema.add_field("n_chunks", DataType.INT64)
    schema.add_field("meta", DataType.JSON)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field
    return schema


def _meta_schema(client: Any) -> Any:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("kind", DataType.VARCHAR, max_length=32)
    schema.add_field("value", DataType.JSON)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    return schema


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
        from ingest.chunk import embedding_text

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
            chunks: Their chunks (attributes of ``ingest.index_writer.ChunkRow``).
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
