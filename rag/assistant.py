"""The public Python API under its former name: see :mod:`rag.api` (``from rag import Assistant``)."""

from __future__ import annotations

from rag.api import Assistant
from rag.errors import IndexMismatch
from rag.store.factory import open_store

__all__ = ["Assistant", "IndexMismatch", "open_store"]
