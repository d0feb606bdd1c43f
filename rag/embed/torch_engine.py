"""The torch backend (``RAG_EMBED_BACKEND=torch``): ``SentenceTransformer`` on the CPU.

Imported only when that backend embeds something; the default ONNX backend never loads it.

Example:
    >>> enc = TorchEncoder("/path/to/folder", threads=2, query_threads=1)  # doctest: +SKIP
    >>> enc.encode(["query: 你好"], prompt=None, query=True).shape            # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.config import configure_native_threads


class TorchEncoder:
    """A loaded ``SentenceTransformer`` with thread settings for batches and single questions.

    Args:
        path: A folder or a model name (offline: already in the Hugging Face cache).
        threads: torch threads for batches.
        query_threads: torch threads for questions (0: same as batches).
    """

    def __init__(self, path: str, threads: int, query_threads: int) -> None:
        configure_native_threads()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        torch.set_num_threads(max(1, threads))
        self._torch = torch
        self.model: Any = SentenceTransformer(path, device="cpu")
        self.threads = max(1, threads)
        self.query_threads = max(0, query_threads)
        self._lock = threading.Lock()  # torch's thread count is process-wide

    @property
    def tokenizer(self) -> Any:
        """The model's (transformers) tokenizer."""
        return self.model.tokenizer

    def dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None)
        get = get or self.model.get_sentence_embedding_dimension
        return int(get() or 0)

    def encode(
        self,
        texts: Sequence[str],
        prompt: str | None,
        batch_size: int = 32,
        query: bool = False,
    ) -> np.ndarray:
        """L2-normalized float32 vectors; ``prompt`` is prepended by sentence-transformers."""
        few = query and self.query_threads and self.query_threads != self.threads
        with self._lock if few else contextlib.nullcontext():
            if few:  # a short question gains nothing from a second thread
                self._torch.set_num_threads(min(self.query_threads, self.threads))
            try:
                vecs = self.model.encode(
                    list(texts),
                    prompt=prompt or None,
                    batch_size=batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            finally:
                if few:
                    self._torch.set_num_threads(self.threads)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)
