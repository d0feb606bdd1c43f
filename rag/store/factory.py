"""Which store the settings name: the local directory, or Milvus for a ``milvus://`` / ``.db`` URI.

Example:
    >>> from rag.config import Settings
    >>> type(open_writer(Settings.load(env={}))).__name__
    'LocalWriter'
    >>> type(open_writer(Settings.load(env={}, vector_store="milvus://localhost:19530"))).__name__
    'MilvusWriter'
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.store.base import Store, StoreWriter
from rag.store.milvus.target import is_milvus_uri


def open_store(settings: Settings) -> Store:
    """Open the configured store for reading (pymilvus is imported only for Milvus).

    Raises:
        IndexNotFound: nothing was built there yet.
        IndexCorrupt: the index is damaged (the message says how to rebuild).
        StoreError: Milvus cannot be reached.
    """
    if is_milvus_uri(settings.vector_store):
        from rag.store.milvus.reader import MilvusStore

        return MilvusStore.open(settings)
    from rag.store.local.reader import LocalStore

    return LocalStore.open(Path(settings.index_dir))


def open_writer(settings: Settings) -> StoreWriter:
    """The writer for ``settings.vector_store`` (the local directory unless a Milvus URI)."""
    if is_milvus_uri(settings.vector_store):
        from rag.store.milvus.writer import MilvusWriter

        return MilvusWriter(settings)
    from rag.store.local.writer import LocalWriter

    return LocalWriter(settings)
