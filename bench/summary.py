"""Write ``bench/results/SUMMARY.md`` from the JSON result files (whatever exists).

Example:
    >>> fmt(0.01234, "ms")
    '12.3'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import RESULTS, read_result


def fmt(x: Any, unit: str = "", digits: int = 1) -> str:
    """A number for a table (seconds as ms with ``unit="ms"``), '-' when missing."""
    if x is None:
        return "-"
    if unit == "ms":
        x = x * 1000
    if unit == "MB":
        x = x / 1e6
    return f"{x:,.{digits}f}"


def _day(payload: dict[str, Any]) -> str:
    """The date of a run (results of different runs sit in one table)."""
    return str(payload.get("date", "?"))[:10]


def _la(payload: dict[str, Any]) -> str:
    start = payload.get("machine", {}).get("loadavg_start", ["?"])[0]
    end = payload.get("loadavg_end", ["?"])[0]
    return f"{start} → {end}"


def ingest_section(corpora: list[str]) -> list[str]:
    out = [
        "## Ingest: ours vs the raw embedder and the peers (same corpus, same model, same run)",
        "",
        "Seconds exclude the one-off model load (reported apart). `raw` is "
        "`SentenceTransformer.encode(texts, batch_size=32)` on exactly the chunk texts our "
        "pipeline embedded (title line included). Peer ratios: peer ingest time / ours.",
        "",
        "| corpus | docs | chunks | ours s (load/chunk/embed/index) | ours chunks/s | raw passages/s | ours embed / raw | ours ingest / raw | peak RSS MB | index MB | LlamaIndex s (×ours) | LangChain s (×ours) | load avg | run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in corpora:
        p = read_result(f"ingest-{c}")
        if not p:
            continue
        s = p["summary"]
        o = s.get("ours", {})
        sec = o.get("seconds", {})
        work = (sec.get("total") or 0) - (sec.get("load_embedder") or 0)
        split = "/".join(fmt(sec.get(k), digits=1) for k in ("load", "chunk", "embed", "index"))
        peers = []
        for peer in ("llamaindex", "langchain"):
            q = s.get(peer)
            peers.append(
                f"{fmt(q['seconds_total'])} (×{q['ingest_time_ratio_to_ours']:.2f}, {q['chunks']} ch)"
                if q
                else "-"
            )
        ours_runs = p.get("runs", {}).get("ours") or [{}]
        backend = p.get("backend") or ours_runs[0].get("embed_backend") or "torch"
        label = f"{c} ({backend})"
        out.append(
            f"| {label} | {o.get('documents')} | {o.get('chunks')} | {fmt(work)} ({split}) | "
            f"{fmt(o.get('chunks_per_s'), digits=2)} | {fmt(s.get('raw', {}).get('passages_per_s'), digits=2)} | "
            f"{fmt(s.get('ratio_ours_embed_to_raw'), digits=2)} | {fmt(s.get('ratio_ours_ingest_to_raw'), digits=2)} | "
            f"{fmt(o.get('peak_rss_mb'), digits=0)} | {fmt(o.get('index_bytes'), 'MB')} | "
            f"{peers[0]} | {peers[1]} | {_la(p)} | {_day(p)} |"
        )
        if "ratio_ours_backend_to_raw_torch_same_sample" in s:
            out.append(
                f"| ↳ {c}: our {backend} embedder vs raw torch encode, same {s['raw']['texts']}-chunk sample | | | | | "
                f"{fmt(s['raw']['passages_per_s'], digits=2)} | "
                f"{fmt(s['sample_embed_ours']['passages_per_s'], digits=2)} p/s = ×{s['ratio_ours_backend_to_raw_torch_same_sample']:.2f} | | | | | | | |"
            )
    return [*out, ""]


def query_section(corpora: list[str]) -> list[str]:
    out = [
        "## Query latency (warm p50 / p95 ms) and cold start",
        "",
        "Cold = fresh process: interpreter start → imports → open index + load embedder → "
        "first answer. Warm = `Retriever.run()` per-step timings over 20 questions × 3. "
        "The peers' warm p50 is measured in the ingest run (median of its rounds; each round "
        "in brackets).",
        "",
        "| corpus | chunks | cold: ready s (open s) | embed query | BM25 | dense | fusion | retrieve hybrid | retrieve dense | LlamaIndex p50 (×ours dense) | LangChain p50 (×ours dense) | peers cold ready s (LI / LC) | RSS MB | run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in [x for name in corpora for x in (name, f"{name}-onnx-int8")]:
        p = read_result(f"query-{c}")
        if not p:
            continue
        o = p["ours"]
        h, d = o["warm"]["hybrid"], o["warm"]["dense"]

        def pp(step: dict[str, Any]) -> str:
            return f"{fmt(step.get('p50'), 'ms')} / {fmt(step.get('p95'), 'ms')}"

        r = p.get("ratios", {})
        ing_runs = (read_result(f"ingest-{c}") or {}).get("runs", {})
        peers = []
        for peer in ("llamaindex", "langchain"):
            q = r.get(peer)
            rounds = [x["query"]["p50"] for x in ing_runs.get(peer, []) if "query" in x]
            each = " / ".join(fmt(x, "ms") for x in rounds) if len(rounds) > 1 else ""
            peers.append(
                f"{fmt(q['peer_query_p50_s'], 'ms')} (×{q['peer_over_ours_dense']:.2f})"
                + (f" [{each}]" if each else "")
                if q
                else "-"
            )
        cold = [
            fmt(p.get(f"{x}_cold", {}).get("interpreter_to_ready_s"))
            for x in ("llamaindex", "langchain")
        ]
        out.append(
            f"| {c} | {o.get('chunks')} | {fmt(o['cold']['interpreter_to_ready_s'])} ({fmt(o['cold']['open_s'])}) | "
            f"{pp(h['embed_query'])} | {pp(h.get('bm25', {}))} | {pp(h.get('dense', {}))} | "
            f"{pp(h['fusion'])} | {pp(h['total'])} | {pp(d['total'])} | {peers[0]} | {peers[1]} | "
            f"{cold[0]} / {cold[1]} | {fmt(o.get('peak_rss_mb'), digits=0)} | {_day(p)} |"
        )
    return [*out, ""]


def other_sections() -> list[str]:
    out: list[str] = []
    p = read_result("cache-medium")
    if p:
        out += [
            f"## Embedding cache (re-ingest of the medium corpus; run {_day(p)})",
            "",
            "| step | chunks | embedded | reused | embed s | total s |",
            "|---|---|---|---|---|---|",
        ]
        for s in p["steps"]:
            out.append(
                f"| {s['step']} | {s['chunks']} | {s['embedded']} | {s['reused_vectors']} | "
                f"{fmt(s['seconds'].get('embed'), digits=2)} | {fmt(s['seconds'].get('total'), digits=2)} |"
            )
        out.append("")
    p = read_result("backends")
    if p:
        out += [
            f"## Embedding backends and threads (same texts, interleaved; run {_day(p)})",
            "",
            f"{p['sample']} chunk texts of the {p['texts_from']} index; passages/s of "
            "`Embedder.embed_passages` (model load excluded).",
            "",
            "| backend | threads | passages/s | one query p50 / p95 ms | load s | peak RSS MB |",
            "|---|---|---|---|---|---|",
        ]
        for r in p["throughput"]:
            ql = r.get("query_latency", {})
            out.append(
                f"| {r['backend']} | {r['threads']} | {fmt(r['passages_per_s'], digits=2)} | "
                f"{fmt(ql.get('p50'), 'ms')} / {fmt(ql.get('p95'), 'ms')} | "
                f"{fmt(r['load_s'], digits=1)} | {fmt(r['peak_rss_mb'], digits=0)} |"
            )
        if p.get("omp_wait_policy"):
            out += [
                "",
                "OpenMP waiting policy (torch, 2 threads, one query at a time, interleaved):",
                "",
                "| OMP_WAIT_POLICY | p50 ms | p95 ms | load after |",
                "|---|---|---|---|",
            ]
            for r in p["omp_wait_policy"]:
                out.append(
                    f"| {r['policy']} | {fmt(r['latency']['p50'], 'ms')} | "
                    f"{fmt(r['latency']['p95'], 'ms')} | {r['loadavg_after'][0]} |"
                )
        out += [
            "",
            "Retrieval quality on data/eval/questions.jsonl (answerable questions, document level):",
            "",
            "| backend | dense hit@5 | dense MRR@10 | hybrid hit@5 | hybrid MRR@10 |",
            "|---|---|---|---|---|",
        ]
        for b, q in p["quality"].items():
            out.append(
                f"| {b} | {q['dense']['hit@5']:.3f} | {q['dense']['mrr@10']:.3f} | "
                f"{q['hybrid']['hit@5']:.3f} | {q['hybrid']['mrr@10']:.3f} |"
            )
        out.append("")
    out += fastpath_sections()
    out += scale_section()
    p = read_result("answer-small")
    if p:
        out += [
            f"## Answers (embedded Qwen2.5-Coder-1.5B Q4_K_M, small corpus; run {_day(p)})",
            "",
            f"LLM start: {fmt(p['result']['llm_start_s'])} s.",
            "",
            "| context_tokens | TTFT p50 s | TTFT max s | total p50 s | n |",
            "|---|---|---|---|---|",
        ]
        for b, r in p["by_budget"].items():
            out.append(
                f"| {b} | {fmt(r['ttft'].get('p50'))} | {fmt(r['ttft'].get('p95'))} | "
                f"{fmt(r['total'].get('p50'))} | {r['total'].get('n')} |"
            )
        out.append("")
    out += _warmup_section(read_result("warmup"))
    out += _prompt_state_section(read_result("prompt-state"))
    for name in ("faiss", "faiss-real"):
        out += _faiss_section(read_result(name))
    return out


def _warmup_section(p: dict[str, Any] | None) -> list[str]:
    """The first answers of a session, with and without the warmed prompt cache."""
    if not p:
        return []
    ready = p["ready_s"]
    out = [
        f"## First answers of a session: warmed prompt cache (run {_day(p)}, {_la(p)})",
        "",
        "Fresh process per run, alternating; `cold` starts the embedded model only, `warm` also",
        "prefills the rules and example of both languages (`rag.answer.warmup`, what `rag ui` and",
        "`rag serve --preload` do in the background). Model ready: cold "
        f"{fmt(min(ready['cold']))}-{fmt(max(ready['cold']))} s, warm "
        f"{fmt(min(ready['warm']))}-{fmt(max(ready['warm']))} s.",
        "",
        "| question (asked in this order) | first token p50, cold s | warm s | warm / cold |",
        "|---|---|---|---|",
    ]
    return [*out, *_ttft_rows(p["summary"], "cold", "warm"), ""]


def _prompt_state_section(p: dict[str, Any] | None) -> list[str]:
    """`rag ask`'s first token: the shared prompt start read again or restored from disk."""
    if not p:
        return []
    out = [
        f"## One question per process: prompt start read vs restored (run {_day(p)}, {_la(p)})",
        "",
        "A fresh process per question, as `rag ask` (the question starts the embedded model);",
        "`read`: the rules and example read by the model as before (`RAG_LLM_PROMPT_STATE=false`),",
        "`restored`: loaded from the KV state an earlier process saved (`rag.llm.prompt_state`).",
        "",
        "| question | first token p50, read s | restored s | restored / read |",
        "|---|---|---|---|",
    ]
    return [*out, *_ttft_rows(p["summary"], "read", "restored"), ""]


def _ttft_rows(summary: dict[str, Any], before: str, after: str) -> list[str]:
    """One table row per question: first token p50 ``before``, ``after`` and their ratio."""
    return [
        f"| {q} | {fmt(r[f'ttft_p50_{before}_s'])} | {fmt(r[f'ttft_p50_{after}_s'])} | "
        f"{fmt(r[f'ratio_{after}_over_{before}'], digits=2)} |"
        for q, r in summary.items()
    ]


def fastpath_sections() -> list[str]:
    """Old default vs new default, same run (bench/fastpath.py) and the hardware limit."""
    out: list[str] = []
    p = read_result("startup")
    if p and "old" in p:
        out += [
            f"## Start-up: old default (`{p['ref_old']}` {p.get('commit_old', '')[:7]}, torch) vs "
            f"new (ONNX Runtime), same run ({_day(p)})",
            "",
            f"Fresh process each time, {p['rounds']} interleaved rounds after a warm-up round, "
            f"median seconds. `rag ask`: until the passages are shown. Load avg {_la(p)}.",
            "",
            "| command | old s | new s | old ÷ new |",
            "|---|---|---|---|",
        ]
        for c in ("search", "ask", "ingest", "stats"):
            if c in p["new"]:
                o, n = p["old"][c]["p50"], p["new"][c]["p50"]
                label = {"ask": "ask (to passages)", "ingest": "ingest (no-op)"}.get(c, c)
                out.append(
                    f"| `rag {label}` | {fmt(o, digits=2)} | {fmt(n, digits=2)} | {o / n:.1f}× |"
                )
        out += [
            "",
            f"`rag search` imports: old {', '.join(p['old'].get('search_imports', []))}; new "
            f"{', '.join(p['new'].get('search_imports', []))}.",
            "",
        ]
    p = read_result("query-fastpath")
    if p:
        out += [
            f"## Warm retrieve on the articles: old default vs new, same run ({_day(p)}, "
            f"load avg {_la(p)})",
            "",
            "| | cold: ready s | embed query p50 / p95 ms | hybrid retrieve p50 / p95 ms | dense p50 ms |",
            "|---|---|---|---|---|",
        ]
        for v in ("old", "new"):
            r = p["best"][v]
            h, d = r["warm"]["hybrid"], r["warm"]["dense"]
            out.append(
                f"| {v} | {fmt(r['cold']['interpreter_to_ready_s'], digits=2)} | "
                f"{fmt(h['embed_query']['p50'], 'ms')} / {fmt(h['embed_query']['p95'], 'ms')} | "
                f"{fmt(h['total']['p50'], 'ms')} / {fmt(h['total']['p95'], 'ms')} | "
                f"{fmt(d['total']['p50'], 'ms')} |"
            )
        out.append("")
    p = read_result("serve-fastpath")
    if p:
        out += [
            f"## `rag serve --no-llm`: old vs new, /v1/search from {p['concurrency']} clients "
            f"({_day(p)})",
            "",
            "| | ready s | RSS idle MB (after start / after warm-up / after load) | requests/s | p50 ms | p95 ms | errors | wrk requests/s, p50 / p95 ms | load avg |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for v in ("old", "new"):
            for r in p["runs"][v]:
                lat = r.get("latency_ms", {})
                wrk = r.get("wrk") or {}
                wl = wrk.get("latency_ms", {})
                out.append(
                    f"| {v} | {fmt(r['ready_s'])} | {fmt(r['rss_idle_mb'], digits=0)} / "
                    f"{fmt(r['rss_after_warmup_mb'], digits=0)} / {fmt(r['rss_after_load_mb'], digits=0)} | "
                    f"{r['requests_per_s']} | {lat.get('p50')} | {lat.get('p95')} | "
                    f"{sum(r['errors'].values())} | "
                    + (
                        f"{wrk.get('requests_per_s')}, {wl.get('p50')} / {wl.get('p95')}"
                        if wrk
                        else "-"
                    )
                    + f" | {r['loadavg_before'][0]} → {r['loadavg_after'][0]} |"
                )
        ratio = f"Throughput new ÷ old: {p['throughput_ratio_new_over_old']:.1f}× (Python clients)"
        if "throughput_ratio_wrk_new_over_old" in p:
            ratio += f", {p['throughput_ratio_wrk_new_over_old']:.1f}× (wrk)"
        out += ["", ratio + ".", ""]
    p = read_result("limit")
    if p:
        out += [
            f"## The limit: GEMM throughput vs the embedder (same threads; {_day(p)}, load avg "
            f"{_la(p)})",
            "",
            "GFLOP/s (GOP/s for int8) of one ONNX Runtime GEMM at the encoder's shapes, best of "
            "repeated runs; the embedder's FLOP/s counts what the encoder computes on "
            f"{p['sample']} chunk texts of `{p['texts_from']}`, padding included.",
            "",
            "| threads | fp32 GEMM peak | int8 GEMM peak | numpy fp32 |",
            "|---|---|---|---|",
        ]
        for th, lim in p["limits"].items():
            pk = lim["peak"]
            out.append(
                f"| {th} | {fmt(pk['fp32'])} | {fmt(pk['int8'])} | {fmt(pk['numpy_fp32'])} |"
            )
        out += [
            "",
            "| backend | threads | passages/s | tokens (padded) | achieved GFLOP/s | kernel peak | share |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in p["embedder"]:
            out.append(
                f"| {r['backend']} | {r['threads']} | {fmt(r['passages_per_s_best'])} | "
                f"{r['tokens']:,} ({r['padded_tokens']:,}) | {fmt(r['gflops_best'])} | "
                f"{r['kernel']} {fmt(r['peak_gflops'])} | {r['share']:.0%} |"
            )
        out.append("")
    return out


def scale_section() -> list[str]:
    """Hybrid retrieve at 100k / 1M chunks on the real store (bench/scale.py), the product's
    FAISS choice (scale.json) and any other factory measured beside it (scale-*.json)."""
    out: list[str] = []
    names = sorted(
        x.stem for x in RESULTS.glob("scale*.json") if not x.stem.startswith("scale-types")
    )
    for name in sorted(names, key=lambda n: n != "scale"):  # the product's choice first
        out += _scale_table(read_result(name))
    for path in sorted(RESULTS.glob("scale-types*.json")):
        out += _scale_types_table(read_result(path.stem))
    return out


def _scale_types_table(p: dict[str, Any] | None) -> list[str]:
    """FAISS types side by side on the same vectors (bench/scale_types.py)."""
    if not p:
        return []
    out = [
        f"## Scale: FAISS types on the same vectors (`{p['benchmark']}.json`; run {_day(p)})",
        "",
        f"One-query dense search of k={p['k']} through the product's read path, "
        f"{p['questions']} real questions, types interleaved round by round; recall@10 against "
        "exact search. Sets: `real` (the real e5 vectors alone), `mix` (real + convex mixes of "
        "two), `noisy` (mixes + noise).",
        "",
        "| set | vectors | type | nprobe | re-rank | recall@10 | p50 / p95 ms | build s | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for st in p["sets"]:
        for t in st["types"]:
            loads = " / ".join(str(r["loadavg"][0]) for r in t["rounds"])
            out.append(
                f"| {st['set']} | {st['n']:,} | `{t['type']}` | {t.get('nprobe') or '-'} | "
                f"{'yes' if t['exact_rerank'] else 'no'} | {t['recall@10']:.4f} | "
                f"{t['p50_ms']:.2f} / {t['p95_ms']:.2f} | {fmt(t['build_s'])} | {loads} |"
            )
    out.append("")
    return out


def _scale_table(p: dict[str, Any] | None) -> list[str]:
    if not p:
        return []
    out = [
        "## Scale: warm retrieve at 100k / 1M chunks (real e5 vectors, "
        + ("the product's FAISS choice" if p["benchmark"] == "scale" else "another FAISS type")
        + f"; run {_day(p)})",
        "",
        f"`{p['benchmark']}.json`. Chunks and vectors of `{p['source']}` (real), the rest "
        "convex mixes of two real "
        f"vectors; {p['questions']} real questions, warm `Retriever.run` p50 / p95 ms through an "
        "`Assistant`; recall@10 of the built index against exact search on the same vectors.",
        "",
        "| chunks | real vectors | FAISS | build s | recall@10 | embed query | BM25 | dense search | hybrid retrieve | dense retrieve | bm25 retrieve | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def pp(step: dict[str, Any] | None) -> str:
        if not step:
            return "-"
        return f"{fmt(step['p50'], 'ms')} / {fmt(step['p95'], 'ms')}"

    for r in p["sizes"]:
        lat = r["latency"]
        h = lat["hybrid"]
        out.append(
            f"| {r['n']:,} | {r['real_vectors']:,} | `{r['factory']}` | {fmt(r['build_s'])} | "
            f"{r['recall@10']:.4f} | {pp(h.get('embed_query'))} | {pp(h.get('bm25'))} | "
            f"{pp(h.get('dense'))} | {pp(h.get('total'))} | {pp(lat['dense'].get('total'))} | "
            f"{pp(lat['bm25'].get('total'))} | "
            f"{r['loadavg_before'][0]} → {r['loadavg_after'][0]} |"
        )
    out.append("")
    return out


def _faiss_section(p: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    if p:
        out += [
            f"## FAISS index types (single-query latency, recall@10 vs exact; run {_day(p)})",
            "",
            "| data | n | factory | search param | build s | MB | p50 ms | p95 ms | recall@10 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for kind in ("random", "real"):
            for r in p.get(kind, []):
                out.append(
                    f"| {kind} | {r['n']:,} | {r['factory']} | {r['param']} | {fmt(r['build_s'])} | "
                    f"{fmt(r['bytes'], 'MB')} | {fmt(r['latency']['p50'], 'ms', 2)} | "
                    f"{fmt(r['latency']['p95'], 'ms', 2)} | {r['recall@10']:.3f} |"
                )
        m = p.get("mmap_open", {})
        if m:
            cells = "; ".join(
                f"{k}: {fmt(v.get('open_s'), digits=3)} s, +{fmt(v.get('rss_growth_mb'), digits=0)} MB"
                for k, v in m.items()
                if isinstance(v, dict) and "open_s" in v
            )
            out += [
                "",
                f"Opening a Flat index of {m['n']:,} vectors ({fmt(m['bytes'], 'MB')} MB): {cells}.",
            ]
        out.append("")
    return out


def write_summary() -> Path:
    """Render every available result into SUMMARY.md."""
    corpora = ["small", "medium", "large-part", "large"]
    lines = [
        "# Benchmark summary",
        "",
        "Generated by `python -m bench summary` from the JSON files in this folder. Machine: "
        "2 shared cores (other jobs ran too; the load average at the start → end of each run "
        "is listed). Compare ratios within a row (measured in the same run), not absolute "
        "numbers across rows.",
        "",
    ]
    lines += ingest_section(corpora)
    lines += query_section(corpora)
    lines += other_sections()
    path = RESULTS / "SUMMARY.md"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
