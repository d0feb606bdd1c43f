"""FAISS types side by side on the same vectors: one-query dense search and recall@10.

Each type is built with the product's ``build_faiss`` and searched through the product's read
path (``rag.store.local.reader.dense_top_k``: one OpenMP thread per query, and every type but
Flat returns a shortlist re-ranked with the exact float32 vectors). The types of one vector
set are timed interleaved, round by round, on the same questions, with the load average of
every round. ``Flat, FAISS threads`` is the old read path (FAISS's own thread count, no
re-rank) for comparison.

Vector sets (queries: the real e5 question vectors of ``bench/scale.py``):

- ``real``: the 10,000 real e5 passage vectors of the large Debian corpus, alone;
- ``mix``: ``bench/scale.py``'s set: the real vectors, then convex mixes of two of them (many
  near-duplicates: the exact top 10 of a question lie within ~0.005 cosine of each other);
- ``noisy``: the same mixes plus Gaussian noise of norm 0.15, normalized again (less
  degenerate).

recall@10 is against exact inner product on the same vectors.

Example:
    >>> vector_set(np.eye(4, dtype=np.float32), "noisy", 6).shape
    (6, 4)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.common import loadavg, percentiles, say, write_result
from bench.scale import mixed


def vector_set(real: np.ndarray, kind: str, n: int) -> np.ndarray:
    """``n`` unit vectors of set ``kind`` (see the module doc) built from ``real``."""
    if kind == "real" or n <= len(real):
        return np.ascontiguousarray(real[:n])
    out = np.concatenate([real, mixed(real, n - len(real), seed=n)])
    if kind == "noisy":
        rng = np.random.default_rng(1)
        noise = rng.standard_normal((n - len(real), real.shape[1])).astype(np.float32)
        noise *= 0.15 / np.linalg.norm(noise, axis=1, keepdims=True)
        out[len(real) :] += noise
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


# (label, factory, nprobe or None for the reader's default, read path)
Variant = tuple[str, str, int | None, str]

DEFAULT_VARIANTS: dict[str, list[Variant]] = {
    "real": [
        ("Flat", "Flat", None, "product"),
        ("SQ8", "SQ8", None, "product"),
        ("PQ{dim}x4fs", "PQ{dim}x4fs", None, "product"),
        ("IVF{nlist},SQ8", "IVF{nlist},SQ8", None, "product"),
        ("HNSW32,Flat", "HNSW32,Flat", None, "product"),
    ],
    "100000": [
        ("Flat, FAISS threads (old)", "Flat", None, "old"),
        ("Flat", "Flat", None, "product"),
        ("SQfp16", "SQfp16", None, "product"),
        ("SQ8", "SQ8", None, "product"),
        ("PQ{dim}x4fs", "PQ{dim}x4fs", None, "product"),
        ("IVF{nlist},SQ8", "IVF{nlist},SQ8", None, "product"),
    ],
    "1000000": [
        ("Flat", "Flat", None, "product"),
        ("SQfp16", "SQfp16", None, "product"),
        ("SQ8", "SQ8", None, "product"),
        ("PQ{dim}x4fs", "PQ{dim}x4fs", None, "product"),
        ("IVF{nlist},SQ8 nprobe 256", "IVF{nlist},SQ8", 256, "product"),
        ("IVF{nlist},SQ8", "IVF{nlist},SQ8", None, "product"),
        ("IVF{nlist},SQ8 nprobe 1024", "IVF{nlist},SQ8", 1024, "product"),
    ],
    "noisy": [
        ("SQfp16", "SQfp16", None, "product"),
        ("SQ8", "SQ8", None, "product"),
        ("PQ{dim}x4fs", "PQ{dim}x4fs", None, "product"),
        ("IVF{nlist},SQ8", "IVF{nlist},SQ8", None, "product"),
    ],
}


def _truth(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    out = []
    for begin in range(0, len(queries), 50):
        sims = queries[begin : begin + 50] @ vectors.T
        out.append(np.argsort(-sims, axis=1)[:, :k])
    return np.concatenate(out)


def measure(
    vectors: np.ndarray, queries: np.ndarray, variants: list[Variant], rounds: int, k: int = 30
) -> list[dict[str, Any]]:
    """Build each variant, then time one-query searches of ``k`` interleaved over ``rounds``."""
    import faiss

    from rag.config import ivf_lists
    from rag.store.local.reader import _is_exact, _set_search_params, dense_top_k
    from rag.store.local.writer import build_faiss

    n = len(vectors)
    truth = _truth(vectors, queries, 10)
    built = []
    cache: dict[str, tuple[Any, float]] = {}
    for label, factory, nprobe, path in variants:
        dim = str(vectors.shape[1])
        factory = factory.replace("{nlist}", str(ivf_lists(n))).replace("{dim}", dim)
        label = label.replace("{nlist}", str(ivf_lists(n))).replace("{dim}", dim)
        if factory not in cache:  # variants of one factory share the index
            say(f"scale-types {n:,}: building {factory}")
            t = time.perf_counter()
            cache[factory] = (build_faiss(vectors, factory), time.perf_counter() - t)
        index, build_s = cache[factory]
        _set_search_params(index, faiss)
        base = faiss.downcast_index(index.index)
        ivf = faiss.try_extract_index_ivf(base)
        probes = int(nprobe or ivf.nprobe) if ivf is not None else 0
        exact = _is_exact(index, faiss)
        if path == "old":

            def search(q: np.ndarray, index: Any = index) -> list[int]:
                return [int(i) for i in index.search(q.reshape(1, -1), k)[1][0] if i >= 0]
        else:

            def search(
                q: np.ndarray, index: Any = index, exact: bool = exact, ivf: Any = ivf, p=probes
            ) -> list[int]:
                if ivf is not None:
                    ivf.nprobe = p
                return [i for i, _ in dense_top_k(index, vectors, q, k, exact=exact)]

        got = [search(q) for q in queries]
        hits = sum(len(set(g[:10]) & set(t.tolist())) for g, t in zip(got, truth, strict=True))
        row: dict[str, Any] = {
            "type": label,
            "factory": factory,
            "read_path": path,
            "nprobe": probes or None,
            "efSearch": int(base.hnsw.efSearch) if hasattr(base, "hnsw") else None,
            "exact_rerank": not exact and path != "old",
            "build_s": round(build_s, 2),
            "recall@10": hits / (10 * len(queries)),
            "rounds": [],
        }
        built.append((row, search))
    times: list[list[float]] = [[] for _ in built]
    for r in range(rounds):
        la = loadavg()
        for j, (row, search) in enumerate(built):
            ts = []
            for q in queries:
                t = time.perf_counter()
                search(q)
                ts.append(time.perf_counter() - t)
            times[j] += ts
            p = percentiles(ts)
            row["rounds"].append({"round": r, "p50_ms": p["p50"] * 1000, "loadavg": la})
    out = []
    for (row, _), ts in zip(built, times, strict=True):
        p = percentiles(ts)
        row.update(p50_ms=p["p50"] * 1000, p95_ms=p["p95"] * 1000, searches=p["n"])
        say(
            f"scale-types {n:,} {row['type']}: p50 {row['p50_ms']:.2f} ms, "
            f"p95 {row['p95_ms']:.2f} ms, recall@10 {row['recall@10']:.4f}"
        )
        out.append(row)
    return out


def run(
    sizes: list[int], kinds: list[str], rounds: int = 3, name: str = "scale-types"
) -> dict[str, Any]:
    """Every set and size: build the variants, measure interleaved, write ``<name>.json``."""
    from bench.runs import index_dir
    from bench.scale import _questions
    from rag.config import Settings, configure_native_threads
    from rag.embed.embedder import Embedder
    from rag.store.local.reader import LocalStore

    configure_native_threads()
    settings = Settings.load()
    source = index_dir("large", "" if settings.embed_backend == "torch" else settings.embed_backend)
    store = LocalStore.open(source)
    real = np.asarray(store.vectors, dtype=np.float32)
    store.close()
    questions = _questions()
    queries = np.asarray(
        Embedder.load(settings, progress=False).embed_queries(questions), dtype=np.float32
    )
    payload: dict[str, Any] = {
        "source": source.name,
        "questions": len(questions),
        "k": 30,
        "sets": [],
    }
    todo = [("real", len(real))] if "real" in kinds else []
    todo += [(kind, n) for n in sizes for kind in kinds if kind != "real"]
    for kind, n in todo:
        variants = DEFAULT_VARIANTS[kind if kind in ("real", "noisy") else str(n)]
        vectors = vector_set(real, kind, n)
        la = loadavg()
        rows = measure(vectors, queries, variants, rounds)
        payload["sets"].append(
            {"set": kind, "n": n, "loadavg_before": la, "loadavg_after": loadavg(), "types": rows}
        )
        write_result(name, payload)  # after each set: a failure at 1M keeps the rest
    return payload
