"""Benchmark: dense search at 100k and 1M chunks, local FAISS vs Milvus, latency and recall@10.

Synthetic data: unit vectors of dimension 384 (the default embedder's) drawn around 2,000
random centres (real embeddings are clustered; uniform random vectors are the worst case for
any approximate index), queries drawn the same way. Ground truth is the exact top 10 by inner
product (numpy). Each configuration searches one query at a time, as the retriever does, and
reports p50/p95 latency and recall@10 against the exact answer.

* local: the index the local store builds (``rag.store.local.writer.build_faiss``: IndexIDMap2 over
  a FAISS factory, inner product; IVF types trained on a 100k sample) searched in-process, as
  ``LocalStore.dense_search`` does, FAISS on one thread (``--threads``).
* milvus: a collection with the chunk store's vector field, index and search parameters
  (``rag.store.milvus.schema.choose_index``), searched through ``MilvusClient.search`` over gRPC.
  By default that is Milvus Lite (pure Python) in a temporary folder; ``--milvus-uri`` points
  it at a real server instead (``milvus://host:19530``).

Usage::

    .venv/bin/python bench/vector_scale.py                       # 100k and 1M, both stores
    .venv/bin/python bench/vector_scale.py --sizes 100000 --stores milvus --milvus-index FLAT,HNSW,IVF_SQ8
    .venv/bin/python bench/vector_scale.py --sizes 1000000 --stores local --local-index "Flat;IVF{nlist},SQ8;HNSW32"
    .venv/bin/python bench/vector_scale.py --milvus-uri milvus://10.0.0.5:19530

A run replaces the results of its sizes and stores in the output file and keeps the others, so
the configurations can be measured one at a time. On Milvus Lite at 1M only IVF_SQ8 is
practical here (its HNSW build runs segment by segment and takes hours on 2 shared cores).

Writes bench/results/vector_scale.json (after every configuration, so a long run that is
stopped keeps what it measured) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "vector_scale.json"
DIM = 384
K = 10
IVF_NLIST = 1024  # as rag.store.milvus.schema.IVF_NLIST


def synthetic(n: int, dim: int, seed: int, centres: int = 2000) -> np.ndarray:
    """``n`` clustered unit vectors (float32), generated in blocks to bound memory."""
    rng = np.random.default_rng(seed)
    mu = np.random.default_rng(12345).normal(size=(centres, dim)).astype(np.float32)
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    for begin in range(0, n, 100_000):
        m = min(100_000, n - begin)
        x = mu[rng.integers(0, centres, m)] + rng.normal(scale=0.03, size=(m, dim)).astype(
            np.float32
        )
        out[begin : begin + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top ``k`` ids by inner product."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for begin in range(0, len(base), 200_000):
        sims = queries @ base[begin : begin + 200_000].T
        ids = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        s = np.take_along_axis(sims, ids, axis=1)
        cat_s = np.concatenate([best_s, s], axis=1)
        cat_i = np.concatenate([best_i, ids + begin], axis=1)
        top = np.argsort(-cat_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cat_s, top, 1), np.take_along_axis(cat_i, top, 1)
    return best_i


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f[:K]) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)])
    )


def latency_stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


# ---------------------------------------------------------------------------- local (FAISS)
def build_local(base: np.ndarray, factory: str) -> Any:
    """The local store's index (``build_faiss``); IVF types are trained on a 100k sample."""
    import faiss

    from rag.store.local.writer import build_faiss

    if not factory.startswith("IVF"):
        return build_faiss(base, factory)
    inner = faiss.index_factory(base.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    sample = base[
        np.random.default_rng(3).choice(len(base), min(len(base), 100_000), replace=False)
    ]
    inner.train(sample)
    index = faiss.IndexIDMap2(inner)
    index.add_with_ids(base, np.arange(len(base), dtype=np.int64))
    return index


def run_local(
    base: np.ndarray, queries: np.ndarray, truth: np.ndarray, factory: str
) -> dict[str, Any]:
    import faiss

    t = time.perf_counter()
    index = build_local(base, factory)
    build = time.perf_counter() - t
    inner = faiss.downcast_index(index.index)
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = 96
    if hasattr(inner, "nprobe"):
        inner.nprobe = 32
    size = len(faiss.serialize_index(index))
    found, seconds = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q.reshape(1, -1), K)
        seconds.append(time.perf_counter() - t)
        found.append([int(i) for i in ids[0]])
    return {
        "store": "local",
        "index": factory,
        "build_s": round(build, 1),
        "bytes_per_vector": round(size / len(base), 1),
        "recall@10": round(recall(found, truth), 4),
        **latency_stats(seconds),
    }


# ---------------------------------------------------------------------------- milvus
def _create_index(client: Any, name: str, kind: str, build_params: dict[str, Any]) -> None:
    """Create the vector index, tolerating the client's retry of a long build.

    Milvus Lite builds the index inside the RPC; a build of minutes outlives gRPC's keepalive,
    pymilvus retries, and the retry finds the index the first call made.
    """
    from pymilvus import MilvusException

    params = client.prepare_index_params()
    params.add_index("vector", index_type=kind, metric_type="IP", params=build_params)
    try:
        client.create_index(name, params)
    except MilvusException as exc:
        if "already exists" not in str(exc):
            raise
    made = (client.describe_index(name, "vector") or {}).get("index_type")
    if made != kind:
        raise RuntimeError(f"expected a {kind} index, found {made}")


def run_milvus(
    base: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    kinds: list[str],
    uri: str,
    deadline: float,
) -> list[dict[str, Any]]:
    """Insert ``base`` once, then build, load and search each index type in turn."""
    from pymilvus import DataType

    from rag.store.milvus.client import connect
    from rag.store.milvus.schema import choose_index
    from rag.store.milvus.target import parse_milvus_uri

    target = parse_milvus_uri(uri)
    client = connect(target, timeout=600)
    name = f"bench_{len(base)}"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=base.shape[1])
    client.create_collection(name, schema=schema, consistency_level="Strong")
    t = time.perf_counter()
    for begin in range(0, len(base), 5000):
        rows = [{"pk": i, "vector": base[i]} for i in range(begin, min(begin + 5000, len(base)))]
        client.insert(name, rows)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"insert stopped at {begin} rows (time bound)")
    client.flush(name)
    insert = time.perf_counter() - t
    out = []
    for wanted in kinds:
        kind, build_params, search_params = choose_index(len(base), wanted)
        with contextlib.suppress(Exception):
            client.release_collection(name)
            client.drop_index(name, "vector")
        t = time.perf_counter()
        _create_index(client, name, kind, build_params)
        client.load_collection(name)
        build = time.perf_counter() - t
        found, seconds = [], []
        for q in queries:
            t = time.perf_counter()
            hits = client.search(
                name,
                data=[q.tolist()],
                anns_field="vector",
                limit=K,
                output_fields=["pk"],
                search_params={"metric_type": "IP", "params": search_params},
            )
            seconds.append(time.perf_counter() - t)
            found.append([int(h["pk"]) for h in hits[0]])
        out.append(
            {
                "store": "milvus-lite" if target.lite else "milvus",
                "index": kind,
                "build_params": build_params,
                "search_params": search_params,
                "insert_s": round(insert, 1),
                "build_s": round(build, 1),
                "recall@10": round(recall(found, truth), 4),
                **latency_stats(seconds),
            }
        )
        print(json.dumps({"n": len(base), **out[-1]}), flush=True)
    client.drop_collection(name)
    client.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200, help="queries at 100k (fewer above)")
    parser.add_argument("--stores", default="local,milvus")
    parser.add_argument(
        "--local-index",
        default="Flat;HNSW32;IVF{nlist},SQ8;IVF{nlist},PQ48",
        help="FAISS factories, ;-separated",
    )
    parser.add_argument(
        "--milvus-index",
        default="FLAT,HNSW,IVF_SQ8",
        help="Milvus index types (HNSW is skipped above --hnsw-max on Milvus Lite)",
    )
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    parser.add_argument("--milvus-uri", default="", help="default: Milvus Lite in a temp folder")
    parser.add_argument("--max-minutes", type=float, default=90.0, help="bound per Milvus config")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads (local store)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import faiss

    # One thread: this box has 2 cores shared with other jobs, where OpenMP threads spinning
    # against each other slow FAISS down tenfold; a query of the retriever is one thread anyway.
    faiss.omp_set_num_threads(args.threads)

    results: dict[str, Any] = {
        "benchmark": "dense search, synthetic clustered unit vectors (dim 384), one query at a time",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "faiss_threads": args.threads,
            "load_average_at_start": os.getloadavg()[0],
        },
        "runs": [],
    }
    if args.out.exists():
        with contextlib.suppress(Exception):
            old = json.loads(args.out.read_text(encoding="utf-8"))
            results["runs"] = [  # keep other sizes and other stores' runs
                r
                for r in old.get("runs", [])
                if str(r.get("n")) not in args.sizes.split(",")
                or str(r.get("store", "")).split("-")[0] not in args.stores.split(",")
            ]
    tmp = Path(tempfile.mkdtemp(prefix="vector-scale-"))
    uri = args.milvus_uri or str(tmp / "bench.db")

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")

    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            nq = args.queries if n <= 100_000 else max(20, args.queries // 4)
            t = time.perf_counter()
            base = synthetic(n, DIM, seed=1)
            queries = synthetic(nq, DIM, seed=2)
            truth = exact_top(base, queries, K)
            print(
                f"n={n}: data + exact top-{K} for {nq} queries in {time.perf_counter() - t:.1f}s",
                flush=True,
            )
            if "local" in args.stores:
                for factory in args.local_index.replace("{nlist}", str(IVF_NLIST)).split(";"):
                    row = {"n": n, "queries": nq, **run_local(base, queries, truth, factory)}
                    print(json.dumps(row), flush=True)
                    results["runs"].append(row)
                    save()
            if "milvus" in args.stores:
                kinds = []
                for kind in args.milvus_index.split(","):
                    if kind.startswith("HNSW") and n > args.hnsw_max and not args.milvus_uri:
                        results["runs"].append(
                            {
                                "n": n,
                                "store": "milvus-lite",
                                "index": kind,
                                "skipped": f"Milvus Lite builds HNSW segment by segment from Python; above {args.hnsw_max} rows that takes hours on 2 shared cores",
                            }
                        )
                    else:
                        kinds.append(kind)
                deadline = time.perf_counter() + args.max_minutes * 60
                try:
                    for row in run_milvus(base, queries, truth, kinds, uri, deadline):
                        results["runs"].append({"n": n, "queries": nq, **row})
                except TimeoutError as exc:
                    results["runs"].append({"n": n, "store": "milvus", "skipped": str(exc)})
                save()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| chunks | store | index | recall@10 | p50 ms | p95 ms | build s | bytes/vector |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        if "skipped" in r:
            continue
        print(
            f"| {r['n']:,} | {r['store']} | {r['index']} | {r['recall@10']:.3f} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r.get('build_s', '')} | {r.get('bytes_per_vector', '')} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
