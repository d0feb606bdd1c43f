"""The public Python API under its former name: see :mod:`rag.api` (``from rag import Assistant``)."""

from __future__ import annotations

from rag.api import Assistant, open_store
from rag.errors import IndexMismatch

__all__ = ["Assistant", "IndexMismatch", "open_store"]
