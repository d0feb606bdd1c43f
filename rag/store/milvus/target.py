"""Where a Milvus index lives: ``RAG_VECTOR_STORE`` parsed into a :class:`MilvusTarget`.

Example:
    >>> parse_milvus_uri("milvus://10.0.0.5:19530/prod?collection=articles").client_uri
    'http://10.0.0.5:19530'
    >>> parse_milvus_uri("data/milvus.db").collection
    'rag_chunks'
    >>> store = MilvusStore.open(Settings.load(vector_store="data/milvus.db"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from rag.errors import StoreError

DEFAULT_COLLECTION = "rag_chunks"
DEFAULT_PORT = 19530


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
