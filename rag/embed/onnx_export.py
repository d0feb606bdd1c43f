"""Build the ONNX Runtime files of a sentence-transformers folder, once (this is where torch runs).

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which pins
``transformers<4.58`` (this project uses 5.x), so the export is done here:

1. ``torch.onnx.export`` of the BERT encoder with eager attention (dynamic batch and length);
2. ONNX Runtime's BERT fusions (``EmbedLayerNormalization``, ``Attention``,
   ``SkipLayerNormalization``, ``BiasGelu``): the fused graph runs ~1.3-1.6x faster on CPU;
3. for ``int8``: dynamic quantization of the fused graph, weights int8 per output channel
   (per-tensor scales cost 0.01-0.02 MRR@10 on our questions, per-channel ones do not;
   ``bench/results/backends.json``);
4. verification against the torch model (``SentenceTransformer``) on fixed sentences through
   the runtime's own tokenizer and pooling (:class:`rag.embed.onnx_runtime.OnnxEncoder`):
   cosine >= :data:`MIN_COSINE` per precision, or the build fails.

Only the files the runtime loads are kept: ``model_int8.onnx`` (and/or ``model.onnx`` for
fp32), each a small graph plus its weights in ``<name>.data`` (memory-mapped by ONNX Runtime),
and ``export_info.json`` (sizes, sha256, the verification's cosines). The intermediate
exports are written to a temporary folder that is deleted. The folder is
``<cache_dir>/embedders/<model>-onnx<EXPORT_VERSION>-<hash of the model path>``; a file lock
makes concurrent builders wait for the winner.

Example:
    >>> files = ensure_onnx(Path("~/.cache/rag-articles/embedders/e5").expanduser(),
    ...                     Path("~/.cache/rag-articles").expanduser(), {"int8"})  # doctest: +SKIP
    >>> files["int8"].name                                                      # doctest: +SKIP
    'model_int8.onnx'
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rag.embed.model_info import ModelInfo, read_json
from rag.errors import EmbedderError

#: Bump when the exported files would differ (a new folder is built; old ones are left alone).
EXPORT_VERSION = 2
FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx"}
INFO_FILE = "export_info.json"
#: The question tokenizer's vocabulary (rag/embed/unigram.py), written on first use.
VOCAB_CACHE = "tokenizer_vocab.marshal"
#: Verification: cosine to the torch vectors on every check sentence, per precision.
MIN_COSINE = {"fp32": 0.9999, "int8": 0.98}
_LOCK_TIMEOUT_S = 1800.0


def export_dir(model_dir: Path, cache_dir: Path) -> Path:
    """Where the ONNX files of ``model_dir`` live."""
    key = hashlib.sha1(str(Path(model_dir).resolve()).encode("utf-8")).hexdigest()[:8]
    return Path(cache_dir) / "embedders" / f"{Path(model_dir).name}-onnx{EXPORT_VERSION}-{key}"


def source_digest(info: ModelInfo) -> str:
    """A digest of the model folder's files (what the export was made from)."""
    blob = json.dumps(info.file_hashes(), sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def current_files(
    out: Path, precisions: Iterable[str], digest: str
) -> dict[str, dict[str, Any]] | None:
    """The export_info entries of ``precisions`` if all are built from ``digest``, else None."""
    info = read_json(out / INFO_FILE)
    if info.get("export_version") != EXPORT_VERSION or info.get("source_digest") != digest:
        return None
    files = info.get("files") or {}
    entries = {}
    for p in precisions:
        entry = files.get(p)
        if not isinstance(entry, dict) or not (out / FILES[p]).is_file():
            return None
        data = _data_file(out / FILES[p])
        if (out / FILES[p]).stat().st_size != entry.get("bytes") or not data.is_file():
            return None
        if data.stat().st_size != entry.get("data_bytes"):
            return None
        entries[p] = entry
    return entries


def ensure_onnx(
    info: ModelInfo, cache_dir: Path, precisions: Iterable[str], progress: bool = True
) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Build (once) the ONNX files of ``precisions`` (``fp32``, ``int8``) for a model folder.

    Returns:
        The export folder and, per precision, its ``export_info.json`` entry (``file``,
        ``bytes``, ``sha256``, ``min_cosine``).

    Raises:
        EmbedderError: the export or its verification failed, or ONNX tools are missing.
    """
    from filelock import FileLock, Timeout

    wanted = sorted(set(precisions))
    out = export_dir(info.folder, cache_dir)
    digest = source_digest(info)
    found = current_files(out, wanted, digest)
    if found is not None:
        return out, found
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out) + ".lock", timeout=_LOCK_TIMEOUT_S)
    try:
        with lock:
            found = current_files(out, wanted, digest)
            if found is not None:
                return out, found
            with _quiet_tools():
                _build(info, out, wanted, digest, progress)
    except Timeout as exc:
        raise EmbedderError(
            f"waited {_LOCK_TIMEOUT_S:.0f} s for another process exporting {out}; if none is "
            f"running, delete {lock.lock_file} and retry"
        ) from exc
    found = current_files(out, wanted, digest)
    if found is None:  # pragma: no cover - _build raises instead
        raise EmbedderError(f"the ONNX export into {out} did not produce {wanted}")
    return out, found


@contextlib.contextmanager
def _quiet_tools() -> Iterator[None]:
    """The exporters' own noise stays inside the build: tracer warnings are not shown, and the
    logging set-up some of them do on import (a root handler, a level) is undone afterwards,
    so later library debug messages (bm25s while indexing) don't reach the user's terminal."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"[onnx-export] {msg}", file=sys.stderr, flush=True)


def _build(info: ModelInfo, out: Path, wanted: list[str], digest: str, progress: bool) -> None:
    """Export into a temporary folder next to ``out``, verify, then move the files in."""
    try:
        import onnx  # noqa: F401  (the fusions and the quantizer need it)
        import onnxruntime
        import torch
    except ImportError as exc:
        raise EmbedderError(
            f"building the ONNX embedder needs torch, onnx and onnxruntime ({exc}); "
            "reinstall the project (`make install`) or use RAG_EMBED_BACKEND=torch"
        ) from exc
    if info.pooling != "mean" or not info.include_prompt:
        raise EmbedderError(
            f"{info.folder}: the ONNX backend supports mean pooling over the whole input only "
            f"(this model pools {info.pooling!r}); use RAG_EMBED_BACKEND=torch"
        )
    t0 = time.monotonic()
    _say(progress, f"building the ONNX Runtime files of {info.folder.name} (once, ~1 min)")
    keep = {}  # precisions already built from this model (a backend switch adds the other)
    for p in FILES:
        entry = current_files(out, [p], digest)
        if entry is not None:
            keep[p] = entry[p]
    todo = [p for p in wanted if p not in keep]
    for leftover in out.parent.glob(f".{out.name}.tmp-*"):  # crashed builds (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        fused = _export_fused(info.folder, work, torch)
        made: dict[str, Path] = {}
        for p in todo:
            src = fused
            if p == "int8":
                _say(progress, "quantizing to int8 (dynamic, per-channel weights)")
                src = _quantize(fused, work / "int8.onnx")
            made[p] = _save_external(src, work / p / FILES[p])
        _say(progress, "verifying against the torch model")
        cosines = _verify(info, made)
        entries = dict(keep)
        out.mkdir(parents=True, exist_ok=True)
        for p, path in made.items():
            for f in (path, _data_file(path)):
                os.replace(f, out / f.name)
            final = out / FILES[p]
            entries[p] = {
                "file": FILES[p],
                "bytes": final.stat().st_size,
                "data_bytes": _data_file(final).stat().st_size,
                "sha256": _sha256(final, _data_file(final)),
                "min_cosine": round(cosines[p], 6),
                "quantization": "dynamic; weights int8 per channel, activations uint8"
                if p == "int8"
                else None,
            }
        export_info = {
            "export_version": EXPORT_VERSION,
            "source": str(info.folder),
            "source_digest": digest,
            "files": entries,
            "graph": "torch.onnx.export (opset 17, eager attention) + ORT BERT fusions",
            "versions": {"onnxruntime": onnxruntime.__version__, "torch": torch.__version__},
            "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.monotonic() - t0, 1),
        }
        tmp_info = out / (INFO_FILE + ".tmp")
        tmp_info.write_text(json.dumps(export_info, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp_info, out / INFO_FILE)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the unfused export and anything unwanted
    _say(progress, f"ready in {time.monotonic() - t0:.0f} s: {out}")


def _export_fused(model_dir: Path, work: Path, torch: Any) -> Path:
    """torch.onnx.export with eager attention, then ORT's BERT fusions; returns the fp32 file."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    config = AutoConfig.from_pretrained(str(model_dir))
    model = _Encoder(AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")).eval()
    raw = work / "export.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    del model
    heads = int(getattr(config, "num_attention_heads", 0) or 0)
    hidden = int(getattr(config, "hidden_size", 0) or 0)
    fused = optimize_model(
        str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
    )
    out = work / FILES["fp32"]
    fused.save_model_to_file(str(out))
    raw.unlink()
    return out


def _quantize(src: Path, dst: Path) -> Path:
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's "consider pre-processing" hint
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return dst


def _verify(info: ModelInfo, files: dict[str, Path]) -> dict[str, float]:
    """Min cosine of each file's vectors (through the runtime) to SentenceTransformer's."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from rag.embed.e5_build import CHECK_TEXTS
    from rag.embed.onnx_runtime import OnnxEncoder
    from rag.embed.tokens import Tokens

    texts = [
        prompt + t
        for prompt in {info.prompts.get("query", ""), info.prompts.get("passage", "")}
        for t in CHECK_TEXTS
    ]
    ref = SentenceTransformer(str(info.folder), device="cpu").encode(
        texts, batch_size=8, convert_to_numpy=True, normalize_embeddings=True
    )
    tokens = Tokens(info.folder, info.max_seq_length)
    out = {}
    for p, path in files.items():
        got = OnnxEncoder(path, tokens, threads=2).encode(texts, batch_size=8)
        cos = float(np.min(np.sum(got * ref, axis=1)))
        if not cos >= MIN_COSINE[p]:
            raise EmbedderError(
                f"the {p} ONNX export of {info.folder} does not reproduce the model (cosine "
                f"{cos:.5f} < {MIN_COSINE[p]}); use RAG_EMBED_BACKEND=torch and report it"
            )
        out[p] = cos
    return out


def _data_file(model: Path) -> Path:
    """The weights file next to an ONNX graph saved with external data."""
    return model.with_name(model.name + ".data")


def _save_external(src: Path, dst: Path) -> Path:
    """``src`` re-saved as a small graph file plus one weights file (``<name>.data``).

    ONNX Runtime memory-maps external weights: a session opens in 0.2-0.5 s instead of 1-4 s,
    and only the pages it reads count in the process's memory (the 250k-row embedding table is
    mostly never touched by a query): 80 MB instead of 177 MB resident for int8, 139 MB instead
    of 515 MB for fp32 (``bench/results/backends.json``).
    """
    import onnx

    dst.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(src))
    onnx.save_model(
        model,
        str(dst),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=_data_file(dst).name,
        size_threshold=1024,
    )
    return dst


def _sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()
