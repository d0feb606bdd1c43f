"""What the answer chain adds around the LLM: evidence, coverage, draft and claim checks.

    python -m bench.answer_checks            # -> bench/results/answer-checks.json

Runs the dev questions of ``data/eval/questions*.jsonl`` through the chain's steps without an
LLM (retrieval, evidence selection, the coverage decision, the extractive draft) and the claim
check on the faithfulness set's dev answers, and reports p50/p95 milliseconds per step. The
first pass warms the caches (sentence vectors, the glossary); the second is timed. The issue
targets: coverage < 5 ms, claim check <= 50 ms per answer, the draft <= 1 s after passages.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "eval"


def _load(name: str) -> list[dict]:
    return [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x]


def _stats(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def main() -> dict:
    from rag.answer.claims import check_answer
    from rag.answer.coverage import decide_coverage
    from rag.answer.extractive import extractive_answer
    from rag.api import Assistant

    a = Assistant.open(llm="none", progress=False)
    tools = a.answer_tools
    questions = [q for q in _load("questions.jsonl") + _load("questions_more.jsonl")]
    questions = [q for q in questions if q.get("split") == "dev"]
    steps: dict[str, list[float]] = {"retrieve": [], "evidence": [], "coverage": [], "draft": []}
    for timed in (False, True):
        for q in questions:
            t0 = time.perf_counter()
            r = a.retriever.run(q["question"])
            t1 = time.perf_counter()
            ev = tools.selector.select(
                q["question"], r.passages, r.query_vector, glossary=tools.glossary
            )
            t2 = time.perf_counter()
            decide_coverage(
                q["question"], r.passages, a.tokenizer, model=tools.coverage_model, evidence=ev
            )
            t3 = time.perf_counter()
            extractive_answer(ev)
            t4 = time.perf_counter()
            if timed:
                steps["retrieve"].append((t1 - t0) * 1000)
                steps["evidence"].append((t2 - t1) * 1000)
                steps["coverage"].append((t3 - t2) * 1000)
                steps["draft"].append((t4 - t0) * 1000)  # passages -> draft, retrieval included
    claims: list[float] = []
    from rag.schema import Passage

    for timed in (False, True):
        for row in _load("faithfulness.jsonl"):
            if row["split"] != "dev":
                continue
            body = a.store.document_text(row["doc_id"]) or ""
            p = [Passage(body, row["doc_id"], row["doc_id"], "", row["doc_id"], 1.0)]
            t = time.perf_counter()
            check_answer(
                row["answer_ok"],
                p,
                lang=row["lang"],
                terms=a.tokenizer,
                glossary=tools.claims_glossary if row["lang"] == "en" else None,
                similarity=tools.similarity,
            )
            if timed:
                claims.append((time.perf_counter() - t) * 1000)
    result = {
        "what": "answer-chain steps without the LLM, warm caches (second pass)",
        "load": os.getloadavg()[0],
        "steps": {k: _stats(v) for k, v in steps.items()},
        "claim_check": _stats(claims),
        "embed_backend": a.settings.embed_backend,
    }
    out = ROOT / "bench" / "results" / "answer-checks.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    a.close()
    return result


if __name__ == "__main__":
    main()
