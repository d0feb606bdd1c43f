"""The benchmark runs behind ``python -m bench``: each writes one JSON file to bench/results/.

Every comparison is measured in the same run, interleaved (ours, the raw encoder, the peers one
after another on the same corpus), because this 2-core machine is shared and its speed drifts:
ratios measured together are meaningful, absolute numbers across runs much less.

Example:
    >>> index_dir("small")                                      # doctest: +SKIP
    PosixPath('.../bench/work/idx/small')
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench.common import (
    CORPORA,
    ROOT,
    WORK,
    loadavg,
    percentiles,
    read_result,
    run_worker,
    say,
    write_result,
)

PIPELINES = ("ours", "raw", "llamaindex", "langchain")


def index_dir(corpus: str, tag: str = "") -> Path:
    """Where a benchmark index of ``corpus`` lives (git-ignored)."""
    return WORK / "idx" / (corpus + (f"-{tag}" if tag else ""))


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# ---------------------------------------------------------------------------- ingest + peers
def ingest(
    corpus: str,
    pipelines: tuple[str, ...] = PIPELINES,
    repeats: int = 1,
    raw_limit: int | None = None,
    threads: int = 2,
) -> dict[str, Any]:
    """Ingest ``corpus`` with each pipeline, interleaved, ``repeats`` rounds; ratios to ours."""
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in pipelines}
    for r in range(repeats):
        for p in pipelines:
            say(f"ingest {corpus}: {p} (round {r + 1}/{repeats})")
            la = loadavg()
            if p == "ours":
                res = run_worker(
                    "ingest_ours",
                    {"corpus": corpus, "index_dir": str(index_dir(corpus))},
                    threads=threads,
                )
            elif p == "raw":
                if not runs.get("ours") and not (index_dir(corpus) / "CURRENT").exists():
                    raise RuntimeError(
                        "the raw encoder needs our index's chunk texts: run ours first"
                    )
                res = run_worker(
                    "encode_raw",
                    {"index_dir": str(index_dir(corpus)), "limit": raw_limit},
                    threads=threads,
                )
            else:
                res = run_worker(
                    f"peer_{p}",
                    {"corpus": corpus, "persist_dir": str(index_dir(corpus, p))},
                    threads=threads,
                )
            res["loadavg_before"] = la
            runs[p].append(res)
    payload: dict[str, Any] = {
        "corpus": corpus,
        "repeats": repeats,
        "threads": threads,
        "batch_size": 32,
        "runs": runs,
    }
    payload["summary"] = summarize_ingest(runs)
    write_result(f"ingest-{corpus}", payload)
    return payload


def summarize_ingest(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per pipeline and the ratios the README reports."""
    out: dict[str, Any] = {}
    ours = runs.get("ours") or []
    if ours:
        rep = [r["report"] for r in ours]
        sec = {
            k: _median([x["seconds"].get(k, 0.0) for x in rep])
            for k in ("load", "load_embedder", "chunk", "embed", "index", "total")
        }
        chunks, docs = rep[0]["chunks"], rep[0]["documents"]
        work = sec["total"] - sec["load_embedder"]  # model load is a one-off, reported apart
        out["ours"] = {
            "documents": docs,
            "chunks": chunks,
            "seconds": sec,
            "docs_per_s": docs / work,
            "chunks_per_s": chunks / work,
            "embed_chunks_per_s": chunks / sec["embed"] if sec["embed"] else None,
            "peak_rss_mb": _median([r["peak_rss_mb"] for r in ours]),
            "index_bytes": ours[-1]["index_bytes"],
            "index_files_bytes": ours[-1]["index_files_bytes"],
            "embed_cache_bytes": ours[-1]["embed_cache_bytes"],
        }
    raw = runs.get("raw") or []
    if raw:
        out["raw"] = {
            "texts": raw[0]["texts"],
            "passages_per_s": _median([r["passages_per_s"] for r in raw]),
            "peak_rss_mb": _median([r["peak_rss_mb"] for r in raw]),
        }
        if "ours" in out and out["ours"]["embed_chunks_per_s"]:
            out["ratio_ours_embed_to_raw"] = (
                out["ours"]["embed_chunks_per_s"] / out["raw"]["passages_per_s"]
            )
            out["ratio_ours_ingest_to_raw"] = (
                out["ours"]["chunks_per_s"] / out["raw"]["passages_per_s"]
            )
    for peer in ("llamaindex", "langchain"):
        rs = runs.get(peer) or []
        if not rs:
            continue
        total = _median([r["seconds"]["total"] for r in rs])
        out[peer] = {
            "documents": rs[0]["documents"],
            "chunks": rs[0]["chunks"],
            "seconds_total": total,
            "seconds": rs[-1]["seconds"],
            "docs_per_s": rs[0]["documents"] / total,
            "chunks_per_s": rs[0]["chunks"] / total,
            "query_p50_s": _median([r["query"]["p50"] for r in rs]),
            "query_p95_s": _median([r["query"]["p95"] for r in rs]),
            "peak_rss_mb": _median([r["peak_rss_mb"] for r in rs]),
            "index_bytes": rs[-1]["index_bytes"],
        }
        if "ours" in out:
            ours_work = out["ours"]["seconds"]["total"] - out["ours"]["seconds"]["load_embedder"]
            out[peer]["ingest_time_ratio_to_ours"] = total / ours_work
            out[peer]["docs_per_s_ratio_ours_over_peer"] = (
                out["ours"]["docs_per_s"] / out[peer]["docs_per_s"]
            )
    return out


# ---------------------------------------------------------------------------- query
def query(
    corpus: str,
    n: int = 20,
    repeats: int = 3,
    threads: int = 2,
    peers: bool = True,
    tag: str = "",
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Cold start and warm latencies of ours; cold start of the peers' persisted indexes."""
    if tag in ("onnx", "onnx-int8"):  # an index built with that backend needs it for queries
        overrides = {"embed_backend": tag, **(overrides or {})}
    say(f"query {corpus}{'-' + tag if tag else ''}: ours")
    la = loadavg()
    ours = run_worker(
        "query_ours",
        {
            "corpus": corpus,
            "index_dir": str(index_dir(corpus, tag)),
            "n": n,
            "repeats": repeats,
            "overrides": overrides or {},
        },
        threads=threads,
    )
    ours["loadavg_before"] = la
    payload: dict[str, Any] = {"corpus": corpus, "tag": tag, "threads": threads, "ours": ours}
    if peers:
        for p in ("llamaindex", "langchain"):
            if index_dir(corpus, p).exists():
                say(f"query {corpus}: {p} cold start")
                payload[f"{p}_cold"] = run_worker(
                    f"peer_{p}",
                    {"corpus": corpus, "persist_dir": str(index_dir(corpus, p)), "mode": "cold"},
                    threads=threads,
                )
        ing = read_result(f"ingest-{corpus}")
        if ing:
            s = ing.get("summary", {})
            ours_dense = ours["warm"]["dense"]["total"]["p50"]
            ours_hybrid = ours["warm"]["hybrid"]["total"]["p50"]
            payload["ratios"] = {
                p: {
                    "peer_query_p50_s": s[p]["query_p50_s"],
                    "peer_over_ours_dense": s[p]["query_p50_s"] / ours_dense,
                    "peer_over_ours_hybrid": s[p]["query_p50_s"] / ours_hybrid,
                }
                for p in ("llamaindex", "langchain")
                if p in s
            }
    write_result(f"query-{corpus}{'-' + tag if tag else ''}", payload)
    return payload


# ---------------------------------------------------------------------------- cache
def cache(corpus: str = "medium", threads: int = 2) -> dict[str, Any]:
    """Re-ingest after changing chunk_overlap: how much the embedding cache saves."""
    import shutil

    idx = index_dir(corpus, "cache")
    steps = []
    src = index_dir(corpus)
    first: tuple[tuple[str, dict[str, Any], bool], ...] = (
        ("first ingest (overlap 0.15)", {}, True),
    )
    if (src / "CURRENT").exists():  # reuse the ingest benchmark's index and cache: saves time
        shutil.rmtree(idx, ignore_errors=True)
        shutil.copytree(src, idx, ignore=shutil.ignore_patterns(".lock"))
        first = ()
    for label, overrides, fresh in (
        *first,
        ("unchanged re-run", {}, False),
        ("chunk_overlap 0.15 -> 0.25", {"chunk_overlap": 0.25}, False),
    ):
        say(f"cache {corpus}: {label}")
        r = run_worker(
            "ingest_ours",
            {"corpus": corpus, "index_dir": str(idx), "fresh": fresh, "overrides": overrides},
            threads=threads,
        )
        rep = r["report"]
        steps.append(
            {
                "step": label,
                "chunks": rep["chunks"],
                "embedded": rep["embedded"],
                "reused_vectors": rep["reused_vectors"],
                "rebuilt": rep["rebuilt"],
                "up_to_date": rep["up_to_date"],
                "seconds": rep["seconds"],
            }
        )
    payload = {"corpus": corpus, "steps": steps}
    write_result(f"cache-{corpus}", payload)
    return payload


# ---------------------------------------------------------------------------- backends, threads
def backends(
    threads_list: tuple[int, ...] = (1, 2),
    sample: int = 48,
    names: tuple[str, ...] = ("torch", "onnx-int8"),
) -> dict[str, Any]:
    """Embedding throughput of torch / onnx / onnx-int8 at 1 and 2 threads (same texts,
    interleaved), and the retrieval quality of onnx-int8 against torch on the eval questions."""
    src = index_dir("medium") if (index_dir("medium") / "CURRENT").exists() else index_dir("small")
    rows = []
    for backend in names:
        for th in threads_list:
            say(f"backends: {backend} x{th} threads")
            r = run_worker(
                "embed_ours",
                {
                    "index_dir": str(src),
                    "limit": sample,
                    "overrides": {"embed_backend": backend, "threads": th},
                },
                threads=th,
            )
            q = run_worker(
                "query_embed",
                {"overrides": {"embed_backend": backend, "threads": th, "query_threads": th}},
                threads=th,
            )
            rows.append({"backend": backend, "threads": th, **r, "query_latency": q["latency"]})
    policies = []
    for rnd in range(2):  # OpenMP waiting policy, torch, 2 threads, interleaved
        for policy in ("", "PASSIVE"):  # "": set but empty, so libgomp keeps its default
            say(f"backends: OMP_WAIT_POLICY={policy or '(library default)'} (round {rnd + 1})")
            q = run_worker(
                "query_embed",
                {"overrides": {"threads": 2, "query_threads": 2}},
                threads=2,
                env={"OMP_WAIT_POLICY": policy},
            )
            policies.append(
                {
                    "policy": policy or "library default (spin, then sleep)",
                    "threads": 2,
                    "latency": q["latency"],
                    "loadavg_after": q["loadavg_after"],
                }
            )
    say("backends: quality of onnx-int8 vs torch on data/eval/questions.jsonl")
    quality: dict[str, Any] = {}
    for backend in ("torch", "onnx-int8"):
        tag = "" if backend == "torch" else backend
        idx = index_dir("small", tag)
        if not (idx / "CURRENT").exists() or backend != "torch":
            run_worker(
                "ingest_ours",
                {"corpus": "small", "index_dir": str(idx), "overrides": {"embed_backend": backend}},
            )
        quality[backend] = run_worker(
            "quality_ours",
            {"corpus": "small", "index_dir": str(idx), "overrides": {"embed_backend": backend}},
        )
    payload = {
        "texts_from": src.name,
        "sample": sample,
        "throughput": rows,
        "omp_wait_policy": policies,
        "quality": quality,
    }
    write_result("backends", payload)
    return payload


# ---------------------------------------------------------------------------- answer
def answer(
    budgets: tuple[int, ...] = (400, 800), n: int = 3, questions: list[str] | None = None
) -> dict[str, Any]:
    """TTFT and total of the embedded LLM on the small corpus at two context budgets.

    ``questions``: ask these (e.g. the README's) instead of the first ``n`` eval questions;
    the result then goes to ``answer-small-questions.json``.
    """
    say("answer: embedded LLM")
    r = run_worker(
        "answer",
        {
            "index_dir": str(index_dir("small")),
            "budgets": list(budgets),
            "n": n,
            "questions": questions or [],
        },
    )
    by_budget: dict[str, Any] = {}
    for b in budgets:
        rs = [x for x in r["runs"] if x["context_tokens"] == b]
        by_budget[str(b)] = {
            "ttft": percentiles([x["ttft_s"] for x in rs if x["ttft_s"] is not None]),
            "total": percentiles([x["total_s"] for x in rs]),
        }
    payload = {"result": r, "by_budget": by_budget}
    write_result("answer-small-questions" if questions else "answer-small", payload)
    return payload


WARMUP_QUESTIONS = [
    "DDIM 相比 DDPM 采样快多少倍?",
    "How many parameters does DeepSeek-V3 activate per token?",
]


def _compared(p50: dict[str, float | None], before: str, after: str) -> dict[str, Any]:
    """First token p50 of two variants and ``after / before`` (None when one is missing)."""
    a, b = p50[before], p50[after]
    return {
        f"ttft_p50_{before}_s": a,
        f"ttft_p50_{after}_s": b,
        f"ratio_{after}_over_{before}": b / a if a and b else None,
    }


def warmup(rounds: int = 2) -> dict[str, Any]:
    """The first Chinese and first English answer of a fresh session on the articles, with the
    embedded model only started (the previous preload) or started and its prompt cache warmed
    (:mod:`rag.answer.warmup`, what `rag ui` and `rag serve` now do); fresh processes,
    alternating, ``rounds`` each. Ratios are warm / cold time to first token, per question."""
    say("warmup: first answers of a session, cold vs warmed prompt cache")
    by: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": []}
    for _ in range(rounds):
        for variant in ("cold", "warm"):
            r = run_worker(
                "first_answers",
                {
                    "index_dir": str(ROOT / "data" / "index"),
                    "questions": WARMUP_QUESTIONS,
                    "warm": variant == "warm",
                },
            )
            by[variant].append(r)
    summary: dict[str, Any] = {}
    for i, q in enumerate(WARMUP_QUESTIONS):
        ttft = {v: [r["runs"][i]["ttft_s"] for r in by[v] if r["runs"][i]["ttft_s"]] for v in by}
        p50 = {v: percentiles(ttft[v])["p50"] if ttft[v] else None for v in by}
        summary[q] = _compared(p50, "cold", "warm")
    payload = {
        "runs": by,
        "summary": summary,
        "ready_s": {v: [r["ready_s"] for r in by[v]] for v in by},
    }
    write_result("warmup", payload)
    return payload


def prompt_state(rounds: int = 3) -> dict[str, Any]:
    """One question per fresh process, as `rag ask` asks it (the embedded model started by the
    question): the shared prompt start read every time (``llm_prompt_state`` off, as before) or
    restored from the state an earlier process saved (:mod:`rag.llm.prompt_state`).
    Interleaved, ``rounds`` each after one uncounted round that saves the states; ratios are
    restored / read time to first token, per question."""
    say("prompt-state: one question per process, start read vs restored")
    by: dict[str, list[dict[str, Any]]] = {"read": [], "restored": []}
    for n in range(rounds + 1):
        for q in WARMUP_QUESTIONS:
            for variant in ("read", "restored"):
                r = run_worker(
                    "first_answers",
                    {
                        "index_dir": str(ROOT / "data" / "index"),
                        "questions": [q],
                        "lazy": True,
                        "prompt_state": variant == "restored",
                    },
                )
                if n:  # the first round saves the states
                    by[variant].append(r)
    summary: dict[str, Any] = {}
    for q in WARMUP_QUESTIONS:
        ttft = {
            v: [r["runs"][0]["ttft_s"] for r in by[v] if r["runs"][0]["question"] == q] for v in by
        }
        p50 = {v: percentiles([x for x in ttft[v] if x])["p50"] if ttft[v] else None for v in by}
        summary[q] = _compared(p50, "read", "restored")
    payload = {"runs": by, "summary": summary}
    write_result("prompt-state", payload)
    return payload


# ---------------------------------------------------------------------------- faiss
def faiss_types(sizes: list[int], hnsw_max: int, n_queries: int) -> dict[str, Any]:
    """See :mod:`bench.faiss_types`."""
    from bench import faiss_types as ft

    payload = ft.run(sizes, n_queries=n_queries, hnsw_max=hnsw_max)
    write_result("faiss" if sizes else "faiss-real", payload)
    return payload


def corpora(large_chunks: int) -> dict[str, Any]:
    """Build the corpora (see :mod:`bench.corpora`)."""
    from bench.corpora import build_all

    info = build_all(large_chunks)
    print(json.dumps(info, ensure_ascii=False, indent=1))
    return info


def corpus_info() -> dict[str, Any]:
    path = CORPORA / "corpora.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def ingest_large(
    backend: str = "onnx-int8", sample: int = 400, threads: int = 2, reuse: Path | None = None
) -> dict[str, Any]:
    """The bounded large corpus (>= 10k chunks) with our pipeline on ``backend``, then the raw
    torch encoder and our embedder (same backend) on an even sample of the same chunk texts.

    ``reuse``: a JSON file with an ``ingest_ours`` result already measured (the 10k ingest takes
    20-60 minutes on this shared machine), so the sample runs can be added to it.
    """
    tag = "" if backend == "torch" else backend
    idx = index_dir("large", tag)
    if reuse is not None and reuse.exists():
        ours = json.loads(reuse.read_text(encoding="utf-8"))
    else:
        say(f"ingest large ({backend})")
        la = loadavg()
        ours = run_worker(
            "ingest_ours",
            {"corpus": "large", "index_dir": str(idx), "overrides": {"embed_backend": backend}},
            threads=threads,
        )
        ours["loadavg_before"] = la
    say(f"ingest large: raw torch encode and our {backend} embedder on {sample} chunks")
    raw = run_worker("encode_raw", {"index_dir": str(idx), "limit": sample}, threads=threads)
    mine = run_worker(
        "embed_ours",
        {"index_dir": str(idx), "limit": sample, "overrides": {"embed_backend": backend}},
        threads=threads,
    )
    runs_ = {"ours": [ours], "raw": [raw]}
    summary = summarize_ingest(runs_)
    summary["sample_embed_ours"] = {
        "backend": backend,
        "passages_per_s": mine["passages_per_s"],
        "texts": mine["texts"],
    }
    summary["ratio_ours_backend_to_raw_torch_same_sample"] = (
        mine["passages_per_s"] / raw["passages_per_s"]
    )
    payload = {
        "corpus": "large",
        "backend": backend,
        "threads": threads,
        "runs": runs_,
        "embed_ours_sample": mine,
        "summary": summary,
    }
    write_result("ingest-large", payload)
    return payload
