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
        "| corpus | docs | chunks | ours s (load/chunk/embed/index) | ours chunks/s | raw passages/s | ours embed / raw | ours ingest / raw | peak RSS MB | index MB | LlamaIndex s (×ours) | LangChain s (×ours) | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
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
        backend = p.get("backend", "torch")
        label = c if backend == "torch" else f"{c} ({backend})"
        out.append(
            f"| {label} | {o.get('documents')} | {o.get('chunks')} | {fmt(work)} ({split}) | "
            f"{fmt(o.get('chunks_per_s'), digits=2)} | {fmt(s.get('raw', {}).get('passages_per_s'), digits=2)} | "
            f"{fmt(s.get('ratio_ours_embed_to_raw'), digits=2)} | {fmt(s.get('ratio_ours_ingest_to_raw'), digits=2)} | "
            f"{fmt(o.get('peak_rss_mb'), digits=0)} | {fmt(o.get('index_bytes'), 'MB')} | "
            f"{peers[0]} | {peers[1]} | {_la(p)} |"
        )
        if "ratio_ours_backend_to_raw_torch_same_sample" in s:
            out.append(
                f"| ↳ {c}: our {backend} embedder vs raw torch encode, same {s['raw']['texts']}-chunk sample | | | | | "
                f"{fmt(s['raw']['passages_per_s'], digits=2)} | "
                f"{fmt(s['sample_embed_ours']['passages_per_s'], digits=2)} p/s = ×{s['ratio_ours_backend_to_raw_torch_same_sample']:.2f} | | | | | | |"
            )
    return [*out, ""]


def query_section(corpora: list[str]) -> list[str]:
    out = [
        "## Query latency (warm p50 / p95 ms) and cold start",
        "",
        "Cold = fresh process: interpreter start → imports → open index + load embedder → "
        "first answer. Warm = `Retriever.run()` per-step timings over 20 questions × 3.",
        "",
        "| corpus | chunks | cold: ready s (open s) | embed query | BM25 | dense | fusion | retrieve hybrid | retrieve dense | LlamaIndex p50 (×ours dense) | LangChain p50 (×ours dense) | peers cold ready s (LI / LC) | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
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
        peers = []
        for peer in ("llamaindex", "langchain"):
            q = r.get(peer)
            peers.append(
                f"{fmt(q['peer_query_p50_s'], 'ms')} (×{q['peer_over_ours_dense']:.2f})"
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
            f"{cold[0]} / {cold[1]} | {fmt(o.get('peak_rss_mb'), digits=0)} |"
        )
    return [*out, ""]


def other_sections() -> list[str]:
    out: list[str] = []
    p = read_result("cache-medium")
    if p:
        out += [
            "## Embedding cache (re-ingest of the medium corpus)",
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
            "## Embedding backends and threads (same texts, interleaved)",
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
    p = read_result("startup")
    if p:
        out += ["## Start-up", "", "| command | p50 s | p95 s |", "|---|---|---|"]
        for k in ("rag --help", "rag stats", "rag search"):
            if k in p:
                out.append(
                    f"| `{k}` | {fmt(p[k]['p50'], digits=2)} | {fmt(p[k]['p95'], digits=2)} |"
                )
        imp = p.get("imports_stats_path", {})
        out += [
            "",
            f"`rag stats` imports: {', '.join(imp.get('heavy_loaded', []))} "
            f"({fmt(imp.get('import_s'), digits=2)} s).",
            "",
            "Slowest top-level imports (`python -X importtime`, cumulative ms):",
            "",
            "| module | ms |",
            "|---|---|",
        ]
        for r in p.get("importtime_top", [])[:10]:
            out.append(f"| {r['module']} | {r['cumulative_ms']:.0f} |")
        out.append("")
    p = read_result("answer-small")
    if p:
        out += [
            "## Answers (embedded Qwen2.5-Coder-1.5B Q4_K_M, small corpus)",
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
    for name in ("faiss", "faiss-real"):
        out += _faiss_section(read_result(name))
    return out


def _faiss_section(p: dict[str, Any] | None) -> list[str]:
    out: list[str] = []
    if p:
        out += [
            "## FAISS index types (single-query latency, recall@10 vs exact)",
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
