"""Write the report of a run: ``report.json``, ``report.md``, the PNG plots and ``expected-scores.yaml``.

``report.json`` holds every number (aggregates, per-question ranks and answer scores), the
configuration (``Settings.public_dict()``: the API key is never written), library versions and
the index manifest. ``report.md`` is the same as tables, with the plots, the worst retrieval
misses and the answer failures. ``results.jsonl`` (written while the run goes) has the full
per-question records.

Example:
    >>> _fmt(0.87654), _fmt(None), _ms(0.0123)
    ('0.877', '–', '12.3')
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.eval.check import dump_block, expected_block

if TYPE_CHECKING:
    from rag.eval.config import EvalResult


def _abstention_table(by_lang: dict[str, dict[str, Any]]) -> list[str]:
    """Abstention per question language: refusals of answerable questions, abstentions on
    unanswerable ones and near misses (outright, and outright or under the low-confidence notice)."""
    if not by_lang:
        return []

    def cell(b: dict[str, Any], key: str, n: str) -> str:
        return f"{_fmt(b.get(key))} ({b.get(n, 0)})"

    rows = [
        [
            lang,
            cell(b, "answerable_refused", "n_answerable"),
            cell(b, "answerable_low_confidence", "n_answerable"),
            cell(b, "unanswerable_abstained", "n_unanswerable"),
            cell(b, "unanswerable_abstained_or_low", "n_unanswerable"),
            cell(b, "near_miss_abstained", "n_near_miss"),
            cell(b, "near_miss_abstained_or_low", "n_near_miss"),
        ]
        for lang, b in by_lang.items()
    ]
    header = [
        "question language",
        "answerable: refused",
        "answerable: low confidence",
        "unanswerable: abstained",
        "abstained or low",
        "near misses: abstained",
        "abstained or low",
    ]
    return ["### Abstention by question language (share, questions)", "", *_table(header, rows)]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f}"


def _s(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.2f}"


def _cell(text: Any, width: int = 90) -> str:
    s = " ".join(str(text).split()).replace("|", "\\|")
    return s if len(s) <= width else s[: width - 1] + "…"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return [*out, ""]


def _per_question(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        row: dict[str, Any] = {
            "id": r["id"],
            "gold_doc_ids": r["gold_doc_ids"],
            "gold_rank": {m: e["gold_rank"] for m, e in r["retrieval"].items()},
            "retrieval_seconds": {m: e["seconds"] for m, e in r["retrieval"].items()},
            "error": r["error"],
        }
        if r["answer"]:
            a = r["answer"]
            row.update(
                abstained=a["abstained"],
                llm=a["llm"],
                contains=a["contains"],
                f1=a["f1"],
                cited_doc_ids=a["cited_doc_ids"],
                supported=a["supported"],
                answer_seconds=a["seconds"],
                usage=a["usage"],
            )
        out.append(row)
    return out


def render_markdown(summary: dict[str, Any], plots: list[str]) -> str:
    """``report.md``: the summary as Markdown tables with the plots."""
    s = summary
    q = s["questions"]
    manifest = (s.get("index") or {}).get("manifest") or {}
    counts = manifest.get("counts", {})
    emb = manifest.get("embedder", {})
    lines = [f"# Evaluation: {s['name']}", ""]
    lines += [
        f"- command: `{s['command']}`",
        f"- started {s['started']}, took {_s(s['seconds'])} s",
        f"- questions: {q['file']}: {q['evaluated']} evaluated ({q['answerable']} answerable, "
        f"{q['unanswerable']} unanswerable, {q['unlabelled']} unlabelled)",
        f"- index: {s['index']['dir']} ({counts.get('documents', '?')} documents, "
        f"{counts.get('chunks', '?')} chunks, embedder {emb.get('name', '?')})",
        f"- answers: {(s.get('llm') or {}).get('mode', '?')}; retrieval depth {s['config']['depth']} "
        f"chunks per mode, folded into the top {s['config']['k']} documents",
        "",
    ]
    problems = q["input_errors"] + [
        f"{e['id']} (line {e['line']}): {e['error']}" for e in q["errors"]
    ]
    if q["unknown_gold_ids"]:
        problems.append("gold ids not in the index: " + ", ".join(q["unknown_gold_ids"]))
    if problems:
        lines += ["## Input problems", ""] + [f"- {_cell(p, 200)}" for p in problems] + [""]

    k = s["config"]["k"]
    cut = [c for c in (1, 3, 5, 10) if c <= k] + ([k] if k not in (1, 3, 5, 10) else [])
    header = [
        "mode",
        *[f"hit@{c}" for c in cut],
        f"recall@{cut[-1]}",
        f"MRR@{k}",
        f"nDCG@{k}",
        "p50 ms",
        "p95 ms",
    ]
    rows = []
    for mode, b in s["retrieval"].items():
        rows.append(
            [
                mode,
                *[_fmt(b.get(f"hit@{c}")) for c in cut],
                _fmt(b.get(f"recall@{cut[-1]}")),
                _fmt(b.get(f"mrr@{k}")),
                _fmt(b.get(f"ndcg@{k}")),
                _ms(b["latency"]["p50"]),
                _ms(b["latency"]["p95"]),
            ]
        )
    n = next(iter(s["retrieval"].values()))["n"] if s["retrieval"] else 0
    lines += [f"## Retrieval ({n} answerable questions, document level)", "", *_table(header, rows)]
    for name in ("hit_at_k.png", "gold_rank.png"):
        if name in plots:
            lines += [f"![{name}]({name})", ""]

    for field, table in s["breakdown"].items():
        modes = list(s["retrieval"])
        metrics = list(next(iter(table.values()))[modes[0]]) if table else []
        header = [field, "n", "answerable", *[f"{m} {x}" for m in modes for x in metrics]]
        has_abst = any("abstention_accuracy" in row for row in table.values())
        if has_abst:
            header.append("abstention acc.")
        rows = []
        for value, row in table.items():
            cells = [value, str(row["n"]), str(row["answerable"])]
            cells += [_fmt(row[m][x]) for m in modes for x in metrics]
            if has_abst:
                cells.append(_fmt(row.get("abstention_accuracy")))
            rows.append(cells)
        lines += [f"### By {field}", "", *_table(header, rows)]
    if "breakdown.png" in plots:
        lines += ["![breakdown](breakdown.png)", ""]

    a = s.get("answers")
    if a:
        ab = a["abstention"]
        lines += [f"## Answers ({(s.get('llm') or {}).get('mode', '')})", ""]
        lines += _table(
            ["", "answered", "abstained"],
            [
                [
                    "answerable (gold document exists)",
                    str(ab["answered_answerable"]),
                    str(ab["abstained_answerable"]),
                ],
                [
                    "unanswerable (not in the corpus)",
                    str(ab["answered_unanswerable"]),
                    str(ab["abstained_unanswerable"]),
                ],
            ],
        )
        tok = a["tokens"]
        mc = a.get("model_citations") or {}
        lines += _table(
            ["metric", "value", "over"],
            [
                ["abstention accuracy", _fmt(ab["accuracy"]), f"{ab['n']} labelled questions"],
                [
                    "gold answer contained",
                    _fmt(a["containment"]),
                    f"{a['n_with_gold_answers']} questions with gold answers (abstention = 0)",
                ],
                ["answer F1 (CMRC chars / SQuAD tokens)", _fmt(a["f1"]), "same"],
                [
                    "contained, answered only",
                    _fmt(a["containment_answered"]),
                    "answered questions with gold answers",
                ],
                ["F1, answered only", _fmt(a["f1_answered"]), "same"],
                [
                    "citation precision",
                    _fmt(a["citation_precision"]),
                    f"{a['citations']} citations of answered answerable questions",
                ],
                [
                    "supported by citations",
                    _fmt(a["supported_rate"]),
                    f"{a['answered']} answered questions",
                ],
                [
                    "model's citation recall / precision (ALCE, judged by the claim check)",
                    f"{_fmt(mc.get('citation_recall'))} / {_fmt(mc.get('citation_precision'))}",
                    f"{mc.get('answers', 0)} model answers, {mc.get('clauses', 0)} clauses "
                    f"({_fmt(mc.get('unsupported_clause_rate'))} unsupported, removed)",
                ],
                [
                    "answer latency p50 / p95 (s)",
                    f"{_s(a['latency']['p50'])} / {_s(a['latency']['p95'])}",
                    f"{a['latency']['n']} answers",
                ],
                [
                    "tokens in / out (total)",
                    f"{tok['prompt_total']} / {tok['completion_total']}",
                    f"{tok['answers_with_usage']} answers with usage",
                ],
                [
                    "prompt tokens p50, all / read anew (not in the server's prompt cache)",
                    f"{_fmt(a.get('prompt_tokens_p50'), 0)} / {_fmt(a.get('prompt_tokens_read_p50'), 0)}",
                    "answers whose server reports its cached tokens (llama.cpp, OpenAI)",
                ],
                ["answered by", ", ".join(f"{k}: {v}" for k, v in a["answered_by"].items()), ""],
            ],
        )
        lines += _abstention_table(a.get("abstention_by_language") or {})
    for name in ("latency.png", "evidence.png"):
        if name in plots:
            lines += [f"![{name}]({name})", ""]

    mode = s["primary_mode"]
    if s["worst_misses"]:
        modes = list(s["retrieval"])
        lines += [f"## Worst retrieval misses ({mode})", ""]
        rows = []
        for w in s["worst_misses"]:
            ranks = " / ".join(str(w["gold_rank"].get(m) or "–") for m in modes)
            rows.append(
                [
                    w["id"],
                    _cell(w["question"], 60),
                    _cell(", ".join(w["gold"]), 40),
                    ranks,
                    _cell("; ".join(w["retrieved"]), 80),
                ]
            )
        lines += _table(
            ["id", "question", "gold", "rank " + "/".join(modes), "retrieved instead (top 3)"], rows
        )

    fails = s.get("answer_failures") or {}
    titles = {
        "answered_unanswerable": "Answered although the corpus does not cover it",
        "abstained_answerable": "Abstained although a gold document exists",
        "answer_not_found": "Answered, but the gold answer is not in the answer",
    }
    for key, title in titles.items():
        rows = fails.get(key) or []
        if not rows:
            continue
        lines += [f"### {title}", ""]
        lines += _table(
            ["id", "question", "gold", f"gold rank ({mode})", "top dense", "answer"],
            [
                [
                    r["id"],
                    _cell(r["question"], 60),
                    _cell(", ".join(r["gold"]) or "–", 30),
                    str(r["gold_rank"] or "–"),
                    _fmt(r["top_dense"]),
                    _cell(r["answer"], 100),
                ]
                for r in rows
            ],
        )
    lines += [
        "## Expected scores",
        "",
        "Paste into `data/eval/expected.yaml` to guard these numbers with `rag eval --check`:",
        "",
        "```yaml",
        dump_block(expected_block(s)).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def write_report(result: EvalResult) -> list[str]:
    """Write all report files into ``result.out_dir``; their names."""
    out = Path(result.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots: list[str] = []
    plot_error = None
    try:
        from rag.eval.plots import write_plots

        plots = write_plots(result.summary, result.records, out)
    except ImportError as exc:  # matplotlib missing: the numbers still matter
        plot_error = f"plots skipped: {exc}"
    report = dict(result.summary)
    report["plots"] = plots
    if plot_error:
        report["plot_error"] = plot_error
    report["per_question"] = _per_question(result.records)
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    (out / "report.md").write_text(render_markdown(result.summary, plots), encoding="utf-8")
    (out / "expected-scores.yaml").write_text(
        dump_block(expected_block(result.summary)), encoding="utf-8"
    )
    return ["report.json", "report.md", "results.jsonl", "expected-scores.yaml", *plots]
