"""Talking to Milvus: connecting (Milvus Lite in-process for a ``.db``), paged queries, filters.

pymilvus is imported only when a connection is made.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.errors import IndexCorrupt, StoreError
from rag.store.milvus.schema import MILVUS_FORMAT
from rag.store.milvus.target import MilvusTarget


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
