"""The report of a faithfulness run (:mod:`rag.eval.faithfulness`): summary, report.md, files.

Example:
    >>> line = _row("zh", {"cases": 2, "injected_recall": 0.5, "false_removal_rate": 0.1,
    ...     "false_alarm_rate": 0.5, "citation_recall": 1.0, "citation_precision": 1.0,
    ...     "cpu_ms_per_answer": 4.2, "cpu_ms_p95": 6.0})
    >>> line[:5]
    ['zh', '2', '0.500', '0.100', '0.500']
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.eval.check import dump_block, expected_block
from rag.eval.summary import library_versions

if TYPE_CHECKING:
    from rag.eval.config import EvalConfig, EvalResult

WORST = 20  # misses and false removals listed in report.md


def summarize_run(
    config: EvalConfig,
    metrics: dict[str, dict[str, Any]],
    records: list[dict[str, Any]],
    input_errors: list[str],
    context: dict[str, Any],
) -> dict[str, Any]:
    """The JSON-ready summary of a run (``records``: the lines of ``results.jsonl``)."""
    from rag.answer.claims.model import MODEL_PATH, default_model

    cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    return {
        "name": config.name,
        "command": config.command,
        "format": "faithfulness",
        "started": context.get("started"),
        "seconds": context.get("seconds"),
        "embed_seconds": context.get("embed_seconds"),
        "config": cfg,
        "cases": {
            "file": str(config.questions),
            "split": config.split,
            "evaluated": len(records),
            "input_errors": input_errors,
        },
        "faithfulness": metrics,
        "model": {"file": str(MODEL_PATH), "threshold": default_model().threshold},
        "missed": [
            {
                **{k: r[k] for k in ("id", "lang", "kind", "injected")},
                "clause": r["injected_clauses"][0]["text"] if r["injected_clauses"] else "",
                "score": r["injected_clauses"][0]["score"] if r["injected_clauses"] else None,
            }
            for r in records
            if not r["caught"]
        ],
        "false_removals": [
            {"id": r["id"], "lang": r["lang"], "clause": text, "reason": reason}
            for r in records
            for text, reason in r["ok_removed"]
        ],
        "settings": context.get("settings"),
        "index": {"dir": context.get("index_dir"), "manifest": context.get("manifest")},
        "versions": library_versions(),
    }


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cell(text: Any, width: int = 80) -> str:
    s = " ".join(str(text).split()).replace("|", "\\|")
    return s if len(s) <= width else s[: width - 1] + "…"


def _row(group: str, m: dict[str, Any]) -> list[str]:
    return [
        group,
        str(m["cases"]),
        *(
            _fmt(m[k])
            for k in (
                "injected_recall",
                "false_removal_rate",
                "false_alarm_rate",
                "citation_recall",
                "citation_precision",
            )
        ),
        _fmt(m["cpu_ms_per_answer"], 1),
        _fmt(m["cpu_ms_p95"], 1),
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return [*out, *("| " + " | ".join(row) + " |" for row in rows), ""]


HEADER = [
    "group",
    "cases",
    "injected removed",
    "correct clauses removed",
    "correct answers flagged",
    "citation recall",
    "citation precision",
    "CPU ms/answer",
    "p95",
]


def render_markdown(summary: dict[str, Any]) -> str:
    """``report.md``: the metrics per language and kind, timing, misses and false removals."""
    s = summary
    m = s["faithfulness"]
    top = [k for k in m if "/" not in k or (k.count("/") == 1 and k.split("/")[1] in ("zh", "en"))]
    kinds = [k for k in m if k not in top]
    lines = [
        f"# Faithfulness: {s['name']}",
        "",
        f"- command: `{s['command']}`",
        f"- cases: {s['cases']['file']} (split {s['cases']['split'] or 'all'}): "
        f"{s['cases']['evaluated']} evaluated",
        f"- model thresholds: {s['model']['threshold']}; started {s['started']}, took "
        f"{_fmt(s['seconds'], 1)} s ({_fmt(s['embed_seconds'], 1)} s of it e5, outside the timing)",
        "",
        "## Per language",
        "",
        *_table(HEADER, [_row(k, m[k]) for k in top]),
        "## Per kind",
        "",
        *_table(HEADER, [_row(k, m[k]) for k in kinds]),
        "Timing: CPU time of `check_answer` per answer with the e5 vectors cached; wall-clock "
        f"maximum {_fmt(m['all']['ms_max'], 1)} ms, at most {m['all']['similarity_calls_max']} "
        "similarity call(s) per answer."
        if "all" in m
        else "",
        "",
    ]
    if s["missed"]:
        rows = [
            [
                x["id"],
                x["lang"],
                x["kind"],
                _cell(x["injected"], 40),
                _cell(x["clause"]),
                _fmt(x["score"]),
            ]
            for x in s["missed"][:WORST]
        ]
        lines += [f"## Injected clauses kept ({len(s['missed'])})", ""]
        lines += _table(["id", "lang", "kind", "injected", "kept clause", "score"], rows)
    if s["false_removals"]:
        rows = [
            [x["id"], x["lang"], _cell(x["clause"]), _cell(x["reason"], 60)]
            for x in s["false_removals"][:WORST]
        ]
        lines += [f"## Correct clauses removed ({len(s['false_removals'])})", ""]
        lines += _table(["id", "lang", "clause", "reason"], rows)
    return "\n".join(lines)


def write_faithfulness_report(result: EvalResult) -> list[str]:
    """``report.json``, ``report.md`` and ``expected-scores.yaml`` (``results.jsonl`` is written
    by the run); their names."""
    out = Path(result.out_dir)
    report = dict(result.summary)
    report["per_case"] = [
        {k: r[k] for k in ("id", "lang", "kind", "split", "caught", "ok_removed")}
        for r in result.records
    ]
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    (out / "report.md").write_text(render_markdown(result.summary), encoding="utf-8")
    (out / "expected-scores.yaml").write_text(
        dump_block(expected_block(result.summary)), encoding="utf-8"
    )
    return ["report.json", "report.md", "results.jsonl", "expected-scores.yaml"]
