"""Choose the FAISS index type by measurement: latency and recall@10 against exact search.

Data: random unit vectors of dim 384 (100k and 1M; the worst case for approximate indexes, no
cluster structure) and, when the large benchmark index exists, the real e5 vectors of the large
corpus (held-out chunk vectors as queries). For each index type: build seconds (train + add),
serialized bytes, single-query latency p50/p95 (the product searches one question at a time),
and recall@10 against ``Flat`` (exact inner product). ``IVF`` lists: ``4*sqrt(n)`` rounded to a
power of two (1024 at 100k, 4096 at 1M); searched at two ``nprobe``; ``HNSW32`` at two
``efSearch``. Also the open time and RSS of reading a Flat index with and without mmap flags.

Example:
    >>> nlist_for(1_000_000), nlist_for(100_000)
    (4096, 1024)
"""

from __future__ import annotations

import math
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import WORK, percentiles, say

DIM = 384


def nlist_for(n: int) -> int:
    """Inverted lists for ``n`` vectors: 4*sqrt(n) rounded to a power of two."""
    return 2 ** round(math.log2(4 * math.sqrt(n)))


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """``n`` random unit vectors (float32), generated in blocks to bound memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for begin in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - begin), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[begin : begin + len(block)] = block
    return out


def _search_params(factory: str, value: int) -> tuple[str, int]:
    if factory.startswith("HNSW"):
        return "efSearch", value
    if factory.startswith("IVF"):
        return "nprobe", value
    return "", 0


def measure(
    base: np.ndarray, queries: np.ndarray, factories: list[tuple[str, list[int]]], k: int = 10
) -> list[dict[str, Any]]:
    """Build each index type over ``base`` and measure it against exact search."""
    import faiss

    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    _, truth = exact.search(queries, k)
    rows = []
    for factory, values in factories:
        say(f"  {factory} over {len(base):,} vectors")
        t = time.perf_counter()
        index = faiss.index_factory(base.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            n_train = min(len(base), max(256 * 39, 39 * nlist_for(len(base))))
            index.train(base[:n_train])
        index.add(base)
        build_s = time.perf_counter() - t
        size = int(faiss.serialize_index(index).nbytes)
        for value in values or [0]:
            name, v = _search_params(factory, value)
            if name:
                faiss.ParameterSpace().set_index_parameter(index, name, v)
            lat, found = [], []
            for q in queries:
                t = time.perf_counter()
                _, ids = index.search(q.reshape(1, -1), k)
                lat.append(time.perf_counter() - t)
                found.append(ids[0])
            recall = float(
                np.mean([len(set(f) & set(tr)) / k for f, tr in zip(found, truth, strict=True)])
            )
            rows.append(
                {
                    "factory": factory,
                    "param": f"{name}={v}" if name else "",
                    "n": len(base),
                    "build_s": build_s,
                    "bytes": size,
                    "latency": percentiles(lat),
                    "recall@10": recall,
                }
            )
        del index
    return rows


def mmap_open(n: int = 200_000) -> dict[str, Any]:
    """Open time and RSS growth of reading a Flat index normally vs with mmap flags."""
    import faiss

    base = unit_vectors(n, DIM, 7)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    index.add_with_ids(base, np.arange(n, dtype=np.int64))
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        path = str(Path(tmp) / "flat.faiss")
        faiss.write_index(index, path)
        out: dict[str, Any] = {"n": n, "bytes": os.path.getsize(path)}
        flags = {"none": 0, "IO_FLAG_MMAP": faiss.IO_FLAG_MMAP}
        if hasattr(faiss, "IO_FLAG_MMAP_IFC"):
            flags["IO_FLAG_MMAP_IFC"] = faiss.IO_FLAG_MMAP_IFC
        for name, flag in flags.items():
            before = _rss_now_mb()
            t = time.perf_counter()
            try:
                idx = faiss.read_index(path, flag)
            except RuntimeError as exc:
                out[name] = {"error": str(exc)[:200]}
                continue
            out[name] = {"open_s": time.perf_counter() - t, "rss_growth_mb": _rss_now_mb() - before}
            del idx
    return out


def _rss_now_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_vectors(n_queries: int = 200) -> tuple[np.ndarray, np.ndarray] | None:
    """The large benchmark index's e5 vectors: (base, held-out queries), or None."""
    from rag.store.local.layout import VECTORS, current_generation

    for name in ("large", "large-onnx-int8"):
        gen = current_generation(WORK / "idx" / name)
        if gen is not None and (gen / VECTORS).exists():
            vecs = np.load(gen / VECTORS)
            rng = np.random.default_rng(3)
            pick = rng.permutation(len(vecs))
            q, b = pick[:n_queries], pick[n_queries:]
            return np.ascontiguousarray(vecs[b]), np.ascontiguousarray(vecs[q])
    return None


def run(
    sizes: list[int], n_queries: int = 200, hnsw_max: int = 1_000_000, threads: int = 2
) -> dict[str, Any]:
    """The whole FAISS benchmark; returns the result payload."""
    import faiss

    faiss.omp_set_num_threads(threads)
    out: dict[str, Any] = {
        "dim": DIM,
        "queries": n_queries,
        "threads": threads,
        "random": [],
        "note": "single-query latency; recall@10 against exact Flat IP",
    }
    for n in sizes:
        say(f"faiss: {n:,} random unit vectors")
        base = unit_vectors(n, DIM, 1)
        queries = unit_vectors(n_queries, DIM, 2)
        nl = nlist_for(n)
        factories: list[tuple[str, list[int]]] = [
            ("Flat", []),
            (f"IVF{nl},Flat", [16, 64]),
            (f"IVF{nl},PQ48", [16, 64]),
        ]
        if n <= hnsw_max:
            factories.insert(1, ("HNSW32,Flat", [64, 128]))
        out["random"].extend(measure(base, queries, factories))
        del base
    real = real_vectors(n_queries)
    if real is not None:
        base, queries = real
        say(f"faiss: {len(base):,} real e5 vectors of the large corpus")
        nl = nlist_for(len(base))
        out["real"] = measure(
            base, queries, [("Flat", []), ("HNSW32,Flat", [64, 128]), (f"IVF{nl},Flat", [8, 32])]
        )
    out["mmap_open"] = mmap_open()
    return out
