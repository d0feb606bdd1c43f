"""How far the embedder is from this machine's limit: matrix-multiply throughput vs achieved.

Two measurements, each in a fresh process with the thread count pinned:

* **The limit**: the best throughput of one GEMM on this CPU through ONNX Runtime's own kernels
  (MLAS, what the embedder runs on): ``MatMul`` fp32 and ``MatMulInteger`` u8 x s8 (the kernel
  of the dynamically quantized int8 model), at the encoder's own shapes (tokens x 384 x 1536,
  tokens x 1536 x 384, tokens x 384 x 384 for 32 passages of 128 tokens) and a square 2048 one;
  numpy's fp32 GEMM (OpenBLAS) beside it as a cross-check.
* **Achieved**: the embedder on real chunk texts (batches of 32 sorted by length, as ingest
  runs them), counting the FLOPs the encoder really computes, padding included: per layer and
  sequence of ``L`` tokens, ``2L(4H^2 + 2HF)`` for the projections and feed-forward plus
  ``4L^2H`` for attention scores and mixing (H = 384, F = 1536, 12 layers). The share
  ``achieved / limit`` (int8 kernel for int8 backends, fp32 otherwise) says how much more
  engineering of the same model on the same cores could pay.

Example:
    >>> encoder_flops([10], hidden=384, ffn=1536, layers=12) == 12 * (2 * 10 * (4 * 384**2 + 2 * 384 * 1536) + 4 * 100 * 384)
    True
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

SHAPES = {  # name: (M, K, N)
    "ffn-up 4096x384x1536": (4096, 384, 1536),
    "ffn-down 4096x1536x384": (4096, 1536, 384),
    "proj 4096x384x384": (4096, 384, 384),
    "square 2048": (2048, 2048, 2048),
}


def encoder_flops(lengths: Sequence[int], hidden: int, ffn: int, layers: int) -> int:
    """FLOPs of a BERT encoder over sequences of ``lengths`` tokens (multiply-add = 2)."""
    total = 0
    for n in lengths:
        total += 2 * n * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * n * n * hidden
    return total * layers


def _session(model: Any, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _gemm_model(m: int, k: int, n: int, int8: bool) -> tuple[Any, dict[str, np.ndarray]]:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if int8:
        a = rng.integers(0, 255, size=(m, k), dtype=np.uint8)
        b = rng.integers(-127, 127, size=(k, n), dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    else:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        node = helper.make_node("MatMul", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [node],
        "gemm",
        [helper.make_tensor_value_info("A", a_type, [m, k])],
        [helper.make_tensor_value_info("Y", y_type, [m, n])],
        initializer=[numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model, {"A": a}


def _best_rate(run: Any, flops: float, seconds: float = 1.5, min_runs: int = 3) -> dict[str, float]:
    run()  # warm-up (packing, allocation)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    best, med = min(times), float(np.median(times))
    return {
        "best_gflops": flops / best / 1e9,
        "median_gflops": flops / med / 1e9,
        "runs": len(times),
    }


def gemm_limits(threads: int) -> dict[str, Any]:
    """fp32 and int8 GEMM throughput (GFLOP/s, or GOP/s for int8) at ``threads`` threads."""
    out: dict[str, Any] = {"threads": threads, "ort": {}, "numpy_fp32": {}}
    for name, (m, k, n) in SHAPES.items():
        flops = 2.0 * m * k * n
        row = {}
        for kind in ("fp32", "int8"):
            model, feed = _gemm_model(m, k, n, kind == "int8")
            sess = _session(model, threads)
            row[kind] = _best_rate(lambda s=sess, f=feed: s.run(None, f), flops)
        out["ort"][name] = row
        a = np.random.default_rng(1).standard_normal((m, k), dtype=np.float32)
        b = np.random.default_rng(2).standard_normal((k, n), dtype=np.float32)
        out["numpy_fp32"][name] = _best_rate(lambda a=a, b=b: a @ b, flops)
    out["peak"] = {
        kind: max(r[kind]["best_gflops"] for r in out["ort"].values()) for kind in ("fp32", "int8")
    }
    out["peak"]["numpy_fp32"] = max(r["best_gflops"] for r in out["numpy_fp32"].values())
    return out


def batch_lengths(token_counts: Sequence[int], texts_len: Sequence[int], batch: int) -> list[int]:
    """Padded sequence length of every sequence, batched as :meth:`Embedder.embed_passages`
    batches (sorted by character length, longest first, ``batch`` per forward pass)."""
    order = np.argsort([-n for n in texts_len], kind="stable")
    lengths = []
    for begin in range(0, len(order), batch):
        idx = order[begin : begin + batch]
        width = max(token_counts[i] for i in idx)
        lengths.extend([width] * len(idx))
    return lengths


def run(
    threads_list: Sequence[int] = (1, 2),
    backends: Sequence[str] = ("onnx-int8", "onnx", "torch"),
    corpus: str = "medium",
    sample: int = 128,
) -> dict[str, Any]:
    """GEMM limits and the embedder's achieved FLOP/s, same threads, one run; writes limit.json."""
    from bench.common import machine, run_worker, say, write_result
    from bench.runs import index_dir

    start = machine()  # the load before the run (write_result's would be the load at the end)

    candidates = [index_dir(corpus), index_dir("large", "onnx-int8"), index_dir("large")]
    candidates.append(index_dir("small-new"))  # 42 chunks: the last resort
    src = next((c for c in candidates if (c / "CURRENT").exists()), candidates[0])
    rows: list[dict[str, Any]] = []
    limits: dict[int, dict[str, Any]] = {}
    for th in threads_list:
        say(f"limit: GEMM fp32/int8 at {th} thread(s)")
        limits[th] = run_worker("gemm_limits", {"threads": th}, threads=th)
        for backend in backends:
            say(f"limit: {backend} embedder at {th} thread(s)")
            r = run_worker(
                "embed_flops",
                {"index_dir": str(src), "limit": sample, "overrides": {"embed_backend": backend}},
                threads=th,
            )
            kind = "int8" if "int8" in backend else "fp32"
            peak = limits[th]["peak"][kind]
            rows.append(
                {**r, "kernel": kind, "peak_gflops": peak, "share": r["gflops_best"] / peak}
            )
    payload = {
        "machine": start,
        "texts_from": src.name,
        "sample": sample,
        "limits": {str(k): v for k, v in limits.items()},
        "embedder": rows,
    }
    write_result("limit", payload)
    return payload
