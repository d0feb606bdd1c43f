"""BM25 with a Chinese word of the question counted once vs its pieces summed: retrieval latency.

    python -m bench.bm25_words            # -> bench/results/bm25-words.json

``RAG_BM25_COMPOUNDS`` (the default since stop 64) scores a word and the shorter words the
tokenizer cuts from it as one group (``rag.store.structured.Word``): the BM25 step then builds
one score column per term instead of bm25s's own sum. This runs every question of each index's
set through ``Retriever.run`` (hybrid) with the option off and on, interleaved question by
question so that both see the same machine load, after one untimed pass that warms the caches,
and reports p50/p95 of the whole retrieval and of its BM25 step, and the on/off ratio of the
p50s. Indexes: the 37 articles (``data/index``, built by ``make run``) and, when they exist, the
CMRC low-overlap paragraphs and the Debian reference sections (``rag eval --check`` builds them
under ``eval-out/``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import ROOT, percentiles, say, write_result

SETS = [
    ("articles", ROOT / "data" / "index", ROOT / "data" / "eval" / "questions.jsonl"),
    (
        "cmrc-lowoverlap",
        ROOT / "eval-out" / "data" / "cmrc_trial_lowoverlap" / "index",
        ROOT / "eval-out" / "data" / "cmrc_trial_lowoverlap" / "questions.jsonl",
    ),
    (
        "debref",
        ROOT / "eval-out" / "data" / "debref" / "index",
        ROOT / "eval-out" / "data" / "debref" / "questions.jsonl",
    ),
]


def _questions(path: Path) -> list[str]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r["question"] for r in rows if r.get("question")]


def measure(index: Path, questions: list[str]) -> dict:
    """Interleaved timings of the hybrid retrieval with ``bm25_compounds`` off and on."""
    from rag.api import Assistant

    a = Assistant.open(index=index, llm="none", progress=False)
    try:
        retriever = a.retriever
        settings = {v: retriever.settings.replace(bm25_compounds=v) for v in (False, True)}
        times: dict[bool, dict[str, list[float]]] = {v: {"total": [], "bm25": []} for v in settings}
        grouped = 0
        for timed in (False, True):
            for q in questions:
                for v, s in settings.items():
                    retriever.settings = s
                    t = time.perf_counter()
                    r = retriever.run(q, mode="hybrid")
                    elapsed = time.perf_counter() - t
                    if timed:
                        times[v]["total"].append(elapsed * 1000)
                        times[v]["bm25"].append(r.timings.get("bm25", 0.0) * 1000)
                if not timed:
                    grouped += bool(retriever.sparse_query(q).compounds)
        off = {k: percentiles(v) for k, v in times[False].items()}
        on = {k: percentiles(v) for k, v in times[True].items()}
        return {
            "unit": "ms",
            "chunks": int(a.store.vectors.shape[0]),
            "questions": len(questions),
            "questions_with_a_compound": grouped,
            "off": off,
            "on": on,
            "ratio_p50_total": round(on["total"]["p50"] / off["total"]["p50"], 3),
            "delta_p50_total_ms": round(on["total"]["p50"] - off["total"]["p50"], 3),
        }
    finally:
        a.close()


def main() -> dict:
    out: dict = {"command": "python -m bench.bm25_words", "sets": {}}
    for name, index, questions in SETS:
        if not index.exists() or not questions.exists():
            say(f"{name}: skipped ({index} or {questions} missing)")
            continue
        out["sets"][name] = measure(index, _questions(questions))
        say(f"{name} {json.dumps(out['sets'][name])}")
    say(f"wrote {write_result('bm25-words', out)}")
    return out


if __name__ == "__main__":
    main()
