"""ONNX Runtime inference of an exported encoder: mean-pooled, L2-normalized vectors.

This is the whole query-time embedding path: ``onnxruntime``, ``tokenizers`` (via
:mod:`rag.embed.tokens`) and numpy. Nothing here imports torch or transformers; the files it
runs are made once by :mod:`rag.embed.onnx_export`.

Example:
    >>> enc = OnnxEncoder(Path("model_int8.onnx"), tokens, threads=1)   # doctest: +SKIP
    >>> enc.encode(["query: 你好"]).shape                                # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.embed.tokens import Tokens


class OnnxEncoder:
    """One ONNX Runtime session over an exported encoder (``last_hidden_state`` output).

    ``session.run`` is thread-safe, so one encoder serves concurrent requests; each run uses
    ``threads`` intra-op threads (1 for questions: two requests then use the two cores).

    Args:
        path: The ``.onnx`` file.
        tokens: The model's tokenizer.
        threads: Intra-op threads of the session.
    """

    def __init__(self, path: Path, tokens: Tokens, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: on a shared 2-core machine spinning workers
        # steal the core their sibling needs (the same effect as OMP_WAIT_POLICY for torch).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.path = Path(path)
        self.tokens = tokens
        self.threads = opts.intra_op_num_threads
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """L2-normalized float32 vectors of ``texts`` (prompts already prepended).

        Texts are sorted by length so each batch pads to similar lengths.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for begin in range(0, len(texts), max(1, batch_size)):
            idx = order[begin : begin + batch_size]
            out[idx] = self._run([texts[i] for i in idx])
            if on_batch:
                on_batch(len(idx))
        return out

    def encode_with_prompt(
        self, texts: Sequence[str], prompt: str, batch_size: int, query: bool = False
    ) -> np.ndarray:
        """:meth:`encode` of ``prompt + text`` (the signature :class:`Embedder` calls)."""
        return self.encode([prompt + t for t in texts], batch_size)

    def _run(self, texts: list[str]) -> np.ndarray:
        input_ids, mask = self.tokens.batch(texts)
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self.session.run(None, feed)
        m = mask[..., None].astype(np.float32)
        vecs = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        return vecs.astype(np.float32, copy=False)
