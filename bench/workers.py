"""Benchmark tasks, each run in a fresh interpreter by :func:`bench.common.run_worker`.

``python -m bench.workers TASK ARGS_JSON OUT_FILE`` runs one task and writes its JSON result
(with the process's own peak RSS) to ``OUT_FILE``. A fresh process per task gives honest cold
starts and per-task peak memory; thread counts come from the environment (``RAG_THREADS``,
``OMP_NUM_THREADS``) and are also set explicitly in torch for the peers.

Example:
    >>> sorted(TASKS)[:3]
    ['answer', 'embed_flops', 'embed_ours']
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T_PROCESS = time.perf_counter()

from bench import peer_tasks  # noqa: E402  (after the clock: cold starts count imports)
from bench.common import bench_questions, rss_mb, task_threads  # noqa: E402


def _chunk_texts(index_dir: Path, limit: int | None) -> list[str]:
    """The exact texts the pipeline embedded (title line + chunk), in id order."""
    from rag.schema import embedding_text
    from rag.store.local.layout import CHUNKS_DB, current_generation, read_manifest

    gen = current_generation(index_dir)
    assert gen is not None, f"no index at {index_dir}"
    prefix = bool(read_manifest(gen).get("chunker", {}).get("title_prefix", True))
    db = sqlite3.connect(f"file:{gen / CHUNKS_DB}?mode=ro", uri=True)
    rows = db.execute("SELECT title, text FROM chunks ORDER BY id").fetchall()
    db.close()
    if limit and limit < len(rows):  # an evenly spread sample keeps the length distribution
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]
    return [embedding_text(t, x, prefix) for t, x in rows]


# ---------------------------------------------------------------------------- ours
def ingest_ours(a: dict[str, Any]) -> dict[str, Any]:
    """Ingest a corpus into ``index_dir`` with the product's pipeline; report + sizes."""
    from bench.common import corpus_path, dir_size
    from ingest.pipeline import ingest
    from rag.config import Settings
    from rag.store.local.layout import CACHE_DB, current_generation

    index_dir = Path(a["index_dir"])
    if a.get("fresh", True):
        shutil.rmtree(index_dir, ignore_errors=True)
    settings = Settings.load(index_dir=index_dir, **a.get("overrides", {}))
    t = time.perf_counter()
    report = ingest(
        [corpus_path(a["corpus"])],
        settings,
        rebuild=a.get("rebuild", False),
        progress=False,
        log=lambda _m: None,
    )
    seconds = time.perf_counter() - t
    gen = current_generation(index_dir)
    files = {f.name: dir_size(f) for f in gen.iterdir()} if gen else {}
    return {
        "report": {k: v for k, v in report.__dict__.items() if k not in ("skipped", "errors")},
        "n_skipped": len(report.skipped),
        "n_errors": len(report.errors),
        "ingest_call_s": seconds,
        "index_bytes": dir_size(gen) if gen else 0,
        "index_files_bytes": files,
        "embed_cache_bytes": dir_size(index_dir / CACHE_DB)
        if (index_dir / CACHE_DB).exists()
        else 0,
        "threads": settings.n_threads,
        "embed_backend": settings.embed_backend,
        "peak_rss_mb": rss_mb(),
    }


def encode_raw(a: dict[str, Any]) -> dict[str, Any]:
    """The limit: ``SentenceTransformer.encode`` on the chunk texts the pipeline embedded."""
    import torch
    from sentence_transformers import SentenceTransformer

    from bench.common import EMBEDDER_DIR

    texts = _chunk_texts(Path(a["index_dir"]), a.get("limit"))
    torch.set_num_threads(task_threads())
    t = time.perf_counter()
    model = SentenceTransformer(str(EMBEDDER_DIR), device="cpu")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    model.encode(
        texts,
        prompt="passage: ",
        batch_size=a.get("batch_size", 32),
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    encode_s = time.perf_counter() - t
    return {
        "texts": len(texts),
        "load_s": load_s,
        "encode_s": encode_s,
        "passages_per_s": len(texts) / encode_s,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": rss_mb(),
    }


def embed_ours(a: dict[str, Any]) -> dict[str, Any]:
    """``Embedder.embed_passages`` alone on the same texts (backend/threads from settings)."""
    from rag.config import Settings
    from rag.embed.embedder import Embedder

    texts = _chunk_texts(Path(a["index_dir"]), a.get("limit"))
    settings = Settings.load(**a.get("overrides", {}))
    t = time.perf_counter()
    emb = Embedder.load(settings, progress=False)
    load_s = time.perf_counter() - t
    emb.embed_passages(texts[:8], settings.embed_batch_size)  # warm-up (graph/allocator)
    t = time.perf_counter()
    step = max(settings.embed_batch_size * 4, 64) if a.get("pipeline_steps", True) else len(texts)
    for begin in range(0, len(texts), step):
        emb.embed_passages(texts[begin : begin + step], settings.embed_batch_size)
    encode_s = time.perf_counter() - t
    return {
        "texts": len(texts),
        "load_s": load_s,
        "encode_s": encode_s,
        "passages_per_s": len(texts) / encode_s,
        "threads": settings.n_threads,
        "backend": settings.embed_backend,
        "peak_rss_mb": rss_mb(),
    }


def embed_flops(a: dict[str, Any]) -> dict[str, Any]:
    """The embedder's achieved FLOP/s on chunk texts (padding included; see bench/limit.py)."""
    from bench.limit import batch_lengths, encoder_flops
    from rag.config import Settings
    from rag.embed.embedder import Embedder

    texts = _chunk_texts(Path(a["index_dir"]), a.get("limit"))
    settings = Settings.load(**a.get("overrides", {}))
    emb = Embedder.load(settings, progress=False)
    batch = settings.embed_batch_size
    counts = [min(n, emb.max_tokens) for n in emb.count_passage_tokens(texts)]
    lengths = batch_lengths(counts, [len(t) for t in texts], batch)
    flops = encoder_flops(lengths, hidden=384, ffn=1536, layers=12)
    emb.embed_passages(texts[:batch], batch)  # warm-up (sessions, arena)
    runs = []
    for _ in range(a.get("repeats", 2)):
        t = time.perf_counter()
        emb.embed_passages(texts, batch)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    return {
        "texts": len(texts),
        "tokens": sum(counts),
        "padded_tokens": sum(lengths),
        "flops": flops,
        "seconds": runs,
        "gflops_best": flops / best / 1e9,
        "passages_per_s_best": len(texts) / best,
        "threads": settings.n_threads,
        "backend": settings.embed_backend,
        "peak_rss_mb": rss_mb(),
    }


def gemm_limits(a: dict[str, Any]) -> dict[str, Any]:
    """This machine's GEMM throughput, fp32 and int8 (see bench/limit.py)."""
    from bench.limit import gemm_limits as measure

    return {**measure(int(a.get("threads") or task_threads())), "peak_rss_mb": rss_mb()}


def query_embed(a: dict[str, Any]) -> dict[str, Any]:
    """Latency of embedding one question at a time (backend/threads from the overrides)."""
    import torch

    from bench.common import percentiles
    from rag.config import Settings
    from rag.embed.embedder import Embedder

    settings = Settings.load(**a.get("overrides", {}))
    emb = Embedder.load(settings, progress=False)
    if a.get("torch_threads"):
        torch.set_num_threads(int(a["torch_threads"]))
    questions = [q["question"] for q in bench_questions("small", a.get("n", 20))]
    emb.embed_queries(questions[:1])
    lat = []
    for _ in range(a.get("repeats", 2)):
        for q in questions:
            t = time.perf_counter()
            emb.embed_queries([q])
            lat.append(time.perf_counter() - t)
    return {
        "latency": percentiles(lat),
        "threads": settings.n_threads,
        "torch_threads": torch.get_num_threads(),
        "backend": settings.embed_backend,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "peak_rss_mb": rss_mb(),
    }


def query_ours(a: dict[str, Any]) -> dict[str, Any]:
    """Cold start (imports, open, first query) and warm per-step latencies of ``Retriever.run``."""
    t_imp = time.perf_counter()
    from bench.common import percentiles
    from rag.api import Assistant
    from rag.config import Settings

    import_s = time.perf_counter() - t_imp
    settings = Settings.load(index_dir=Path(a["index_dir"]), **a.get("overrides", {}))
    questions = [q["question"] for q in bench_questions(a["corpus"], a.get("n", 20))]
    t = time.perf_counter()
    assistant = Assistant.open(settings=settings, llm="none", auto_ingest=False, progress=False)
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    assistant.retrieve(questions[0])
    first_s = time.perf_counter() - t
    cold = {
        "interpreter_to_ready_s": time.perf_counter() - T_PROCESS,
        "import_s": import_s,
        "open_s": open_s,
        "first_query_s": first_s,
    }
    steps: dict[str, dict[str, list[float]]] = {}
    for _ in range(a.get("repeats", 3)):
        for q in questions:
            for mode in ("hybrid", "dense", "bm25"):
                r = assistant.retriever.run(q, mode=mode)
                for step, sec in r.timings.items():
                    steps.setdefault(mode, {}).setdefault(step, []).append(sec)
    warm = {mode: {s: percentiles(v) for s, v in d.items()} for mode, d in steps.items()}
    stats = assistant.stats() if hasattr(assistant, "stats") else {}
    assistant.close()
    return {
        "cold": cold,
        "warm": warm,
        "questions": len(questions),
        "chunks": stats.get("chunks"),
        "faiss": stats.get("faiss"),
        "peak_rss_mb": rss_mb(),
    }


def quality_ours(a: dict[str, Any]) -> dict[str, Any]:
    """hit@5 and MRR@10 (document level) on the answerable questions of a question file."""
    from rag.api import Assistant
    from rag.config import Settings

    settings = Settings.load(index_dir=Path(a["index_dir"]), **a.get("overrides", {}))
    rows = [q for q in bench_questions(a["corpus"], a.get("n", 10_000)) if q.get("gold_doc_ids")]
    assistant = Assistant.open(settings=settings, llm="none", auto_ingest=False, progress=False)
    out: dict[str, Any] = {"questions": len(rows)}
    for mode in ("dense", "hybrid", "bm25"):
        hits, rr = 0, 0.0
        for q in rows:
            docs: list[str] = []
            for p in assistant.retrieve(q["question"], k=30, mode=mode):
                if p.doc_id not in docs:
                    docs.append(p.doc_id)
            gold = set(q["gold_doc_ids"])
            hits += any(d in gold for d in docs[:5])
            rank = next((i for i, d in enumerate(docs[:10], 1) if d in gold), None)
            rr += 1 / rank if rank else 0.0
        out[mode] = {"hit@5": hits / len(rows), "mrr@10": rr / len(rows)}
    assistant.close()
    return out


def answer(a: dict[str, Any]) -> dict[str, Any]:
    """Time to first token and total of the embedded LLM at several context budgets."""
    from rag.api import Assistant
    from rag.config import Settings

    settings = Settings.load(index_dir=Path(a["index_dir"]))
    questions = (
        a.get("questions")
        or [q["question"] for q in bench_questions("small", 40) if q.get("gold_doc_ids")][
            : a.get("n", 3)
        ]
    )
    assistant = Assistant.open(settings=settings, auto_ingest=False, progress=False)
    llm = assistant.llm
    t = time.perf_counter()
    if hasattr(llm, "start"):
        llm.start()
    start_s = time.perf_counter() - t
    runs = []
    for budget in a.get("budgets", [400, 800]):
        chain = assistant.chain(context_tokens=budget)
        for q in questions:
            t = time.perf_counter()
            first = None
            tokens = 0
            final = None
            for ev in chain.stream(q):
                if ev.kind == "token":
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - t
                elif ev.kind == "answer":
                    final = ev.answer
            total = time.perf_counter() - t
            usage = dict(getattr(final, "usage", {}) or {})
            runs.append(
                {
                    "context_tokens": budget,
                    "question": q,
                    "ttft_s": first,
                    "total_s": total,
                    "pieces": tokens,
                    "usage": usage,
                    "abstained": bool(getattr(final, "abstained", False)),
                    "answer": getattr(final, "text", None),
                    "cited": [p.doc_id for p in getattr(final, "citations", [])],
                    "notice": getattr(final, "notice", None),
                    "llm_timings": dict(getattr(final, "timings", {}) or {}),
                }
            )
    assistant.close()
    return {
        "llm_start_s": start_s,
        "runs": runs,
        "llm_threads": settings.llm_threads,
        "llm_batch_threads": settings.llm_batch_threads,
        "peak_rss_mb": rss_mb(),
    }


def imports(a: dict[str, Any]) -> dict[str, Any]:
    """Which heavy modules a code path imports (for the start-up benchmark)."""
    import importlib

    t = time.perf_counter()
    for name in a["modules"]:
        importlib.import_module(name)
    heavy = [
        m
        for m in (
            "torch",
            "sentence_transformers",
            "transformers",
            "faiss",
            "bm25s",
            "gradio",
            "fastapi",
            "onnxruntime",
            "openai",
            "jieba",
            "scipy",
        )
        if m in sys.modules
    ]
    return {"import_s": time.perf_counter() - t, "heavy_loaded": heavy, "peak_rss_mb": rss_mb()}


def first_answers(a: dict[str, Any]) -> dict[str, Any]:
    """The first answers of a fresh session: start the embedded model (and warm its prompt
    cache when ``warm``; nothing when ``lazy``, as `rag ask` does), then ask each question once;
    time to first token of each (``prompt_state``: ``Settings.llm_prompt_state``)."""
    from rag.answer.warmup import warm_up_embedded
    from rag.api import Assistant
    from rag.config import Settings

    settings = Settings.load(
        index_dir=Path(a["index_dir"]), llm_prompt_state=a.get("prompt_state", False)
    )
    assistant = Assistant.open(settings=settings, auto_ingest=False, progress=False)
    llm = assistant.llm
    t = time.perf_counter()
    if a.get("lazy"):  # as `rag ask`: the question starts everything
        pass
    elif a["warm"]:
        assistant.retrieve("warm-up", k=1)  # the question encoder and BM25, as the servers do
        warm_up_embedded(llm, settings)
    else:
        assistant.retrieve("warm-up", k=1)
        llm.start()  # type: ignore[union-attr]
    ready_s = time.perf_counter() - t
    runs = []
    for q in a["questions"]:
        t = time.perf_counter()
        first = None
        final = None
        for ev in assistant.ask_stream(q):
            if ev.kind == "token" and first is None:
                first = time.perf_counter() - t
            elif ev.kind == "answer":
                final = ev.answer
        runs.append(
            {
                "question": q,
                "ttft_s": first,
                "total_s": time.perf_counter() - t,
                "usage": dict(getattr(final, "usage", {}) or {}),
                "answer": getattr(final, "text", None),
            }
        )
    assistant.close()
    return {"warm": a.get("warm"), "ready_s": ready_s, "runs": runs}


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "first_answers": first_answers,
    "ingest_ours": ingest_ours,
    "encode_raw": encode_raw,
    "embed_ours": embed_ours,
    "query_ours": query_ours,
    "query_embed": query_embed,
    "embed_flops": embed_flops,
    "gemm_limits": gemm_limits,
    "quality_ours": quality_ours,
    "answer": answer,
    "peer_llamaindex": lambda a: peer_tasks.peer_llamaindex(a, T_PROCESS),
    "peer_langchain": lambda a: peer_tasks.peer_langchain(a, T_PROCESS),
    "imports": imports,
}


def main(argv: list[str]) -> int:
    task, args, out = argv[0], json.loads(argv[1]), Path(argv[2])
    result = TASKS[task](args)
    result.setdefault("peak_rss_mb", rss_mb())
    out.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
