"""Offline retrieval-augmented question answering over machine-learning articles.

Example:
    >>> from rag import Assistant
    >>> assistant = Assistant.open()                                    # doctest: +SKIP
    >>> passages = assistant.retrieve("DPO 为什么不需要奖励模型?", k=5)    # doctest: +SKIP
    >>> answer = assistant.ask("What does DDIM change in DDPM sampling?")  # doctest: +SKIP
"""

from __future__ import annotations

from rag.api import Assistant
from rag.config import Settings
from rag.errors import (
    IndexBusy,
    IndexCorrupt,
    IndexMismatch,
    IndexNotFound,
    QuestionError,
    StoreError,
)
from rag.schema import Answer, Chunk, Document, Passage

__all__ = [
    "Answer",
    "Assistant",
    "Chunk",
    "Document",
    "IndexBusy",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexNotFound",
    "Passage",
    "QuestionError",
    "Settings",
    "StoreError",
]
__version__ = "0.1.0"
