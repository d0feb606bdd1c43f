"""ONNX Runtime backend for the embedder: an fp32 export, optionally int8 (dynamic) quantized.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which pins
``transformers<4.58`` (this project uses 5.x), so the export is done here with
``torch.onnx.export`` and ``onnxruntime.quantization.quantize_dynamic``. The result is a
drop-in for the ``SentenceTransformer`` methods :class:`rag.embed.embedder.Embedder` uses
(``encode``, ``tokenizer``, ``max_seq_length``, ``prompts``, ``get_embedding_dimension``) with
mean pooling and L2 normalization, as the e5 models define.

The export runs once per model folder, offline, into ``<cache_dir>/embedders/<folder>-onnx/``
(about 1-2 minutes on 2 cores; a file lock makes concurrent builders wait for the winner).

Example:
    >>> from pathlib import Path
    >>> model = load_onnx_model(Path("~/.cache/rag-articles/embedders/e5").expanduser(),
    ...                         Path("/tmp/cache"), quantized=True, threads=2)  # doctest: +SKIP
    >>> model.encode(["query: 你好"]).shape                                   # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8")
EXPORT_VERSION = 1
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
INFO_FILE = "export_info.json"


def export_dir(model_dir: Path, cache_dir: Path) -> Path:
    """Where the ONNX files of ``model_dir`` are cached."""
    key = hashlib.sha1(str(model_dir.resolve()).encode("utf-8")).hexdigest()[:8]
    return Path(cache_dir) / "embedders" / f"{model_dir.name}-onnx-{key}"


def ensure_onnx_model(
    model_dir: Path, cache_dir: Path, quantized: bool, progress: bool = True
) -> Path:
    """Export (once) and return the ONNX file for ``model_dir`` (fp32, or int8 if ``quantized``).

    Raises:
        RuntimeError: ``onnxruntime``/``onnx`` are missing or the export failed.
    """
    from filelock import FileLock

    out = export_dir(model_dir, cache_dir)
    target = out / (INT8_FILE if quantized else FP32_FILE)
    if target.is_file() and (out / INFO_FILE).is_file():
        return target
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if target.is_file() and (out / INFO_FILE).is_file():
            return target
        try:
            import onnx  # noqa: F401  (quantize_dynamic needs it)
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise RuntimeError(
                "the ONNX embedder backend needs `pip install onnxruntime onnx onnxscript`"
            ) from exc
        if progress:
            print(f"exporting {model_dir.name} to ONNX (once, ~1-2 min)...", flush=True)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            _export(model_dir, tmp)
            os.replace(tmp, out) if not out.exists() else _merge(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _merge(src: Path, dst: Path) -> None:
    for f in src.iterdir():
        os.replace(f, dst / f.name)


def _export(model_dir: Path, out: Path) -> None:
    """fp32 export with dynamic batch/sequence axes, then dynamic int8 quantization."""
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = _Encoder(AutoModel.from_pretrained(str(model_dir))).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    fp32 = out / FP32_FILE
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask),
            str(fp32),
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
    quantize_dynamic(str(fp32), str(out / INT8_FILE), weight_type=QuantType.QInt8)
    info = {
        "export_version": EXPORT_VERSION,
        "source": str(model_dir),
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "quantization": "dynamic, weights QInt8, activations QUInt8",
        "sizes": {f.name: f.stat().st_size for f in out.glob("*.onnx")},
    }
    (out / INFO_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")


class OnnxSentenceModel:
    """Mean-pooled, L2-normalized sentence vectors from an ONNX Runtime session.

    Args:
        onnx_path: The exported model.
        model_dir: The sentence-transformers folder (tokenizer, prompts, max length).
        threads: Intra-op threads (inter-op is 1: two cores are better spent inside one op).
    """

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: on a shared 2-core machine spinning workers
        # steal the core their sibling needs (the same effect as OMP_WAIT_POLICY for torch).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(onnx_path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.onnx_path = onnx_path
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        cfg = _read_json(model_dir / "sentence_bert_config.json")
        st_cfg = _read_json(model_dir / "config_sentence_transformers.json")
        self.prompts: dict[str, str] = dict(st_cfg.get("prompts") or {})
        self.max_seq_length = int(cfg.get("max_seq_length") or 512)
        pooling = _read_json(model_dir / "1_Pooling" / "config.json")
        if pooling.get("pooling_mode", "mean") != "mean" and not pooling.get(
            "pooling_mode_mean_tokens"
        ):
            raise RuntimeError(f"{model_dir}: only mean pooling is supported by the ONNX backend")
        self._dim = int(self.session.get_outputs()[0].shape[-1] or 0) or int(
            _read_json(model_dir / "config.json").get("hidden_size", 0)
        )

    def get_embedding_dimension(self) -> int:
        """Vector size."""
        return self._dim

    def encode(
        self,
        sentences: Sequence[str],
        prompt: str | None = None,
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        **_: Any,
    ) -> np.ndarray:
        """Vectors of ``sentences`` (prompt prepended), like ``SentenceTransformer.encode``."""
        texts = [(prompt or "") + s for s in sentences]
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for begin in range(0, len(texts), batch_size):
            idx = order[begin : begin + batch_size]
            enc = self.tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
            )
            mask = enc["attention_mask"].astype(np.int64)
            (hidden,) = self.session.run(
                ["last_hidden_state"],
                {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": mask},
            )
            m = mask[..., None].astype(np.float32)
            vecs = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            if normalize_embeddings:
                vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
            out[idx] = vecs
        return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_onnx_model(
    model_dir: Path, cache_dir: Path, quantized: bool, threads: int, progress: bool = True
) -> OnnxSentenceModel:
    """Export if needed, then open the ONNX model of a sentence-transformers folder."""
    path = ensure_onnx_model(model_dir, cache_dir, quantized, progress=progress)
    return OnnxSentenceModel(path, model_dir, threads)
