"""Hybrid retrieval at 100k and 1M chunks: the real store and retriever, e5 vectors.

The large Debian corpus, ingested with the default embedder (``python -m bench large``), gives
real chunks, their real e5 vectors and their BM25 terms. A scale index of ``n`` chunks repeats
those chunks (each copy its own document) and is written with the product's own
``write_generation`` and FAISS choice (``Settings.faiss_factory_for(n)``), so BM25's posting
lists grow like a real corpus's. Vectors: the real ones first; every further vector is
``normalize(a * x_i + (1 - a) * x_j)`` of two real vectors (``a`` uniform in [0.55, 0.95]): new
points inside the cloud the model really produces, not uniform noise (the worst case, see
``faiss.json``) and not exact duplicates (which no index can rank). Queries are real question
vectors: the eval questions of the articles, the CMRC trial and the large corpus.

For each size: recall@10 of the index the product builds against exact search on the same
vectors (recall on purely real vectors is in ``faiss-real.json``), and the warm latency of
``Retriever.run`` in every mode, per step, through an ``Assistant`` as a user gets it.

Example:
    >>> mixed(np.eye(3, dtype=np.float32), 2, seed=0).shape
    (2, 3)
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CORPORA, ROOT, WORK, loadavg, percentiles, say, write_result


def mixed(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors, each a random convex mix of two real ones (see the module doc)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for begin in range(0, n, 100_000):
        m = min(100_000, n - begin)
        i, j = rng.integers(0, len(real), m), rng.integers(0, len(real), m)
        a = rng.uniform(0.55, 0.95, (m, 1)).astype(np.float32)
        block = a * real[i] + (1 - a) * real[j]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[begin : begin + m] = block
    return out


def _questions() -> list[str]:
    out = []
    for path in (
        ROOT / "data" / "eval" / "questions.jsonl",
        CORPORA / "medium-questions.jsonl",
        CORPORA / "large-questions.jsonl",
    ):
        if path.exists():
            rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
            out += [r["question"] for r in rows][:100]
    return out


def build(source: Path, n: int, dest: Path, factory: str | None = None) -> dict[str, Any]:
    """Write a scale index of ``n`` chunks at ``dest`` from the ingested ``source`` index
    (FAISS: ``factory``, else the product's choice for ``n``)."""
    from rag.config import Settings
    from rag.schema import embedding_text
    from rag.store.base import ChunkRow, DocRow
    from rag.store.local.layout import read_manifest
    from rag.store.local.reader import LocalStore
    from rag.store.local.writer import commit_generation, write_generation
    from rag.text.tokenize_zh import TOKENIZER_VERSION, BM25Tokenizer

    store = LocalStore.open(source)
    manifest = read_manifest(store.gen_dir)
    s = int(store.vectors.shape[0])
    rows = store.chunks(list(range(s)))
    real = np.asarray(store.vectors, dtype=np.float32)
    store.close()
    prefix = bool(manifest.get("chunker", {}).get("title_prefix", True))
    say(f"scale {n:,}: BM25 terms of the {s:,} real chunks")
    tok = BM25Tokenizer(Path(Settings.load().cache_dir) / "jieba")
    terms = [tok(embedding_text(r.title, r.text, prefix)) for r in rows]
    chunks, docs, seen = [], [], set()
    for i in range(n):
        r, copy = rows[i % s], i // s
        doc_id = r.doc_id if copy == 0 else f"{r.doc_id}~{copy}"
        chunk_id = r.chunk_id if copy == 0 else f"{r.chunk_id}~{copy}"
        chunks.append(
            ChunkRow(
                chunk_id=chunk_id, doc_id=doc_id, title=r.title, source=r.source,
                start=r.start, end=r.end, text=r.text, n_tokens=0, embed_key="",
            )
        )  # fmt: skip
        if doc_id not in seen:
            seen.add(doc_id)
            docs.append(DocRow(doc_id, r.title, r.source, "zh", "", "", 0, "", {}))
    vectors = real[:n] if n <= s else np.concatenate([real, mixed(real, n - s, seed=n)])
    factory = factory or Settings.load().faiss_factory_for(n, real.shape[1])
    say(f"scale {n:,}: writing the index ({factory})")
    t = time.perf_counter()
    shutil.rmtree(dest, ignore_errors=True)
    new_manifest = {
        **{k: v for k, v in manifest.items() if k not in ("counts", "faiss", "generation")},
        "documents": {},
        "bm25": {"tokenizer": TOKENIZER_VERSION, "library": "bm25s", "k1": 1.5, "b": 0.75},
    }
    gen = write_generation(
        dest, docs, chunks, vectors, [terms[i % s] for i in range(n)], new_manifest, factory
    )
    commit_generation(dest, gen)
    return {
        "n": n,
        "real_vectors": min(n, s),
        "factory": factory,
        "build_s": time.perf_counter() - t,
    }


def recall(dest: Path, queries: np.ndarray, k: int = 10) -> dict[str, Any]:
    """recall@k of the built index against exact inner product on the same vectors."""
    from rag.store.local.reader import LocalStore

    store = LocalStore.open(dest)
    vecs = np.asarray(store.vectors, dtype=np.float32)
    exact = []
    for begin in range(0, len(queries), 50):
        sims = queries[begin : begin + 50] @ vecs.T
        exact.append(np.argsort(-sims, axis=1)[:, :k])
    truth = np.concatenate(exact)
    hits = 0
    for q, want in zip(queries, truth, strict=True):
        got = [i for i, _ in store.dense_search(q, k)]
        hits += len(set(got) & set(want.tolist()))
    store.close()
    return {"recall@10": hits / (k * len(queries)), "queries": len(queries)}


def latency(dest: Path, questions: list[str], repeats: int = 2) -> dict[str, Any]:
    """Warm ``Retriever.run`` per mode and step (an Assistant on the scale index)."""
    from rag.api import Assistant
    from rag.config import Settings

    settings = Settings.load(index_dir=dest)
    a = Assistant.open(settings=settings, llm="none", auto_ingest=False, progress=False)
    for q in questions[:3]:
        a.retriever.run(q)
    steps: dict[str, dict[str, list[float]]] = {}
    for _ in range(repeats):
        for q in questions:
            for mode in ("hybrid", "dense", "bm25"):
                r = a.retriever.run(q, mode=mode)
                for step, sec in r.timings.items():
                    steps.setdefault(mode, {}).setdefault(step, []).append(sec)
    a.close()
    return {m: {s: percentiles(v) for s, v in d.items()} for m, d in steps.items()}


def run(sizes: list[int], source: Path | None = None, factory: str | None = None) -> dict[str, Any]:
    """Build, measure recall and latency at each size; writes scale.json (with ``factory``
    instead of the product's choice: scale-<factory>.json, e.g. scale-hnsw32-flat.json)."""
    from bench.runs import index_dir
    from rag.config import Settings
    from rag.embed.embedder import Embedder

    if source is None:  # where `python -m bench large` wrote it: tagged unless torch
        backend = Settings.load().embed_backend
        source = index_dir("large", "" if backend == "torch" else backend)
    if not (source / "CURRENT").exists():
        raise SystemExit(f"no index at {source}: run `python -m bench large` first")
    questions = _questions()
    emb = Embedder.load(Settings.load(), progress=False)
    queries = emb.embed_queries(questions)
    rows: list[dict[str, Any]] = []
    payload: dict[str, Any] = {}
    name = "scale" if not factory else "scale-" + re.sub(r"[^a-z0-9]+", "-", factory.lower())
    for n in sizes:
        dest = WORK / "idx" / f"scale-{n}"
        info = build(source, n, dest, factory)
        say(f"scale {n:,}: recall@10 and warm latency")
        la = loadavg()
        row = {**info, **recall(dest, queries), "loadavg_before": la}
        row["latency"] = latency(dest, questions)
        row["loadavg_after"] = loadavg()
        h = row["latency"]["hybrid"]["total"]
        say(f"scale {n:,}: hybrid p50 {h['p50'] * 1000:.1f} ms, recall {row['recall@10']:.4f}")
        rows.append(row)
        shutil.rmtree(dest, ignore_errors=True)  # GBs at 1M
        payload = {"source": source.name, "questions": len(questions), "sizes": rows}
        write_result(name, payload)  # after each size: a failure at 1M keeps 100k
    return payload
