"""Aggregate per-question records into the numbers of the report.

Retrieval metrics are averaged over the answerable questions (those with a gold document; as
trec_eval does, questions without a relevant document are left out). Answer metrics:

- abstention: on labelled questions, the chain should abstain exactly on the unanswerable ones;
  the four confusion counts and the accuracy.
- containment / F1: over answerable questions that have gold answers; an abstention scores 0.
  ``*_answered`` restricts them to the questions the chain did answer.
- citation precision: cited passages of answered, answerable questions that belong to a gold
  document, over all their cited passages (micro average).
- supported rate: answered questions whose answer cites at least one passage and has no
  unsupported sentence.
- model citations: ALCE-style citation recall and precision of what the model wrote, before
  the claim check removed or re-cited anything, judged by that check
  (:func:`~rag.eval.metrics.citation_counts`); the share of its clauses the check removed.

Example:
    >>> summarize([], EvalConfig(Path("q.jsonl")).resolved(), {})["questions"]["total"]
    0
"""

from __future__ import annotations

import platform
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.eval.config import EvalConfig
from rag.eval.metrics import citation_counts, latency_summary, mean, percentile

# Beyond the libraries that shape the index: the ones that shape answers, metrics and plots.
EVAL_LIBRARIES = ("xllamacpp", "openai", "matplotlib", "pytrec-eval-terrier", "pyyaml")


def library_versions() -> dict[str, str]:
    """Python and the versions of the libraries that shape the numbers."""
    from rag.versions import INDEX_LIBRARIES
    from rag.versions import library_versions as versions

    return {"python": platform.python_version(), **versions(INDEX_LIBRARIES + EVAL_LIBRARIES)}


def primary_mode(config: EvalConfig, settings: dict[str, Any]) -> str:
    """The mode the answer chain uses (the configured one) if evaluated, else the last mode."""
    mode = settings.get("mode")
    return mode if mode in config.modes else list(config.modes)[-1]


def _retrieval(
    records: list[dict[str, Any]], ok: list[dict[str, Any]], mode: str, config: EvalConfig
) -> dict[str, Any]:
    scored = [r["retrieval"][mode] for r in records if mode in r["retrieval"]]
    out: dict[str, Any] = {"n": len(scored)}
    if scored:
        for key in scored[0]["scores"]:
            out[key] = mean(s["scores"][key] for s in scored)
    ranks = [s["gold_rank"] for s in scored]
    out["hit_curve"] = [
        mean(1.0 if r is not None and r <= c else 0.0 for r in ranks)
        for c in range(1, config.k + 1)
    ]
    hist = Counter(str(r) if r is not None else "miss" for r in ranks)
    out["gold_rank_counts"] = {str(c): hist.get(str(c), 0) for c in range(1, config.k + 1)} | {
        "miss": hist.get("miss", 0)
    }
    out["latency"] = latency_summary(
        [r["retrieval"][mode]["seconds"] for r in ok if mode in r["retrieval"]]
    )
    return out


def _answers(ok: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in ok if r["answer"] is not None]
    labelled = [r for r in done if r["gold_doc_ids"] is not None]
    conf = {
        "answered_answerable": sum(
            1 for r in labelled if r["gold_doc_ids"] and not r["answer"]["abstained"]
        ),
        "abstained_answerable": sum(
            1 for r in labelled if r["gold_doc_ids"] and r["answer"]["abstained"]
        ),
        "abstained_unanswerable": sum(
            1 for r in labelled if not r["gold_doc_ids"] and r["answer"]["abstained"]
        ),
        "answered_unanswerable": sum(
            1 for r in labelled if not r["gold_doc_ids"] and not r["answer"]["abstained"]
        ),
    }
    correct = conf["answered_answerable"] + conf["abstained_unanswerable"]
    with_gold = [r for r in labelled if r["gold_doc_ids"] and r["answers"]]
    answered_gold = [r for r in with_gold if not r["answer"]["abstained"]]
    answered = [r for r in done if not r["answer"]["abstained"]]
    cit_pool = [r for r in labelled if r["gold_doc_ids"] and not r["answer"]["abstained"]]
    n_cited = sum(len(r["answer"]["cited_doc_ids"]) for r in cit_pool)
    usage = [r["answer"]["usage"] for r in done if r["answer"]["usage"]]
    prompt = [int(u.get("prompt_tokens", 0)) for u in usage]
    # read anew: the prompt less what the server had cached (its rules and worked example)
    fresh = [
        int(u["prompt_tokens"]) - int(u["cached_tokens"]) for u in usage if "cached_tokens" in u
    ]
    completion = [int(u.get("completion_tokens", 0)) for u in usage]
    return {
        "n": len(done),
        "abstention": conf
        | {"accuracy": correct / len(labelled) if labelled else None, "n": len(labelled)},
        "containment": mean(1.0 if r["answer"]["contains"] else 0.0 for r in with_gold),
        "f1": mean(r["answer"]["f1"] or 0.0 for r in with_gold),
        "containment_answered": mean(
            1.0 if r["answer"]["contains"] else 0.0 for r in answered_gold
        ),
        "f1_answered": mean(r["answer"]["f1"] or 0.0 for r in answered_gold),
        "n_with_gold_answers": len(with_gold),
        "citation_precision": sum(r["answer"]["cited_gold"] for r in cit_pool) / n_cited
        if n_cited
        else None,
        "citations": n_cited,
        "supported_rate": mean(1.0 if r["answer"]["supported"] else 0.0 for r in answered),
        "answered": len(answered),
        "latency": latency_summary([r["answer"]["seconds"] for r in done]),
        "tokens": {
            "answers_with_usage": len(usage),
            "prompt_total": sum(prompt),
            "completion_total": sum(completion),
            "prompt_mean": mean(prompt),
            "completion_mean": mean(completion),
        },
        "answered_by": dict(Counter(r["answer"]["llm"] for r in done)),
        "refused_answerable": conf["abstained_answerable"]
        / len([r for r in labelled if r["gold_doc_ids"]])
        if any(r["gold_doc_ids"] for r in labelled)
        else None,
        "model_refusals": sum(1 for r in done if r["answer"].get("model_refused")),
        "contained_with_gold_citation": mean(
            1.0 if r["answer"]["cited_gold"] else 0.0
            for r in answered_gold
            if r["answer"]["contains"]
        ),
        "prompt_tokens_p50": percentile(prompt, 50),
        "prompt_tokens_read_p50": percentile(fresh, 50),
        "first_token": latency_summary(
            [
                r["answer"]["timings"]["first_token"]
                for r in done
                if "first_token" in r["answer"]["timings"]
            ]
        ),
        "draft": latency_summary(
            [r["answer"]["timings"]["draft"] for r in done if "draft" in r["answer"]["timings"]]
        ),
        "removed_claims": sum(len(r["answer"].get("unsupported_claims") or []) for r in done),
        "model_citations": _model_citations(done),
        "abstention_by_language": _abstention_by_language(labelled),
    }


def _abstention_by_language(labelled: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per question language: answerable questions refused (or answered under the
    low-confidence notice), unanswerable ones and near misses (``--near-misses``) abstained,
    or abstained or answered under the notice. Shares are None where a group is empty."""

    def near(r: dict[str, Any]) -> bool:
        return r["meta"].get("variant") == "near miss"

    def share(rows: list[dict[str, Any]], key: str) -> float | None:
        if key == "abstained_or_low":
            return mean(
                1.0 if r["answer"]["abstained"] or r["answer"].get("low_confidence") else 0.0
                for r in rows
            )
        return mean(1.0 if r["answer"].get(key) else 0.0 for r in rows)

    out: dict[str, dict[str, Any]] = {}
    for lang in sorted({r["lang"] for r in labelled}):
        rows = [r for r in labelled if r["lang"] == lang]
        groups = {
            "answerable": [r for r in rows if r["gold_doc_ids"]],
            "unanswerable": [r for r in rows if not r["gold_doc_ids"] and not near(r)],
            "near_miss": [r for r in rows if near(r)],
        }
        block: dict[str, Any] = {f"n_{g}": len(v) for g, v in groups.items()}
        block["answerable_refused"] = share(groups["answerable"], "abstained")
        block["answerable_low_confidence"] = share(groups["answerable"], "low_confidence")
        for g in ("unanswerable", "near_miss"):
            block[f"{g}_abstained"] = share(groups[g], "abstained")
            block[f"{g}_abstained_or_low"] = share(groups[g], "abstained_or_low")
        out[lang] = block
    return out


def _model_citations(done: list[dict[str, Any]]) -> dict[str, Any]:
    """ALCE-style citation recall and precision of the model's own answers, as the claim check
    judged them (before it removed or re-cited anything), over the answers a model wrote."""
    checked = [r["answer"]["claims"] for r in done if r["answer"].get("claims")]
    sums: Counter[str] = Counter()
    for claims in checked:
        sums.update(citation_counts(claims))
    clauses = [c for claims in checked for c in claims]
    unsupported = sum(1 for c in clauses if c["status"] != "supported")
    return {
        "answers": len(checked),
        "clauses": len(clauses),
        "citation_recall": sums["sentences_cit_supported"] / sums["sentences"]
        if sums["sentences"]
        else None,
        "citation_precision": sums["citations_needed"] / sums["citations"]
        if sums["citations"]
        else None,
        "unsupported_clause_rate": unsupported / len(clauses) if clauses else None,
        "answers_with_removal": mean(
            1.0 if any(c["status"] != "supported" for c in claims) else 0.0 for claims in checked
        ),
    }


def _groups(ok: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Fields to break the scores down by: ``lang`` and short categorical meta fields."""
    fields: dict[str, set[str]] = {"lang": {r["lang"] for r in ok}}
    for r in ok:
        for key, value in r["meta"].items():
            if isinstance(value, str):
                fields.setdefault(key, set()).add(value)
            else:
                fields.setdefault(key, set()).add("\0")
    return {k: sorted(v) for k, v in fields.items() if 2 <= len(v) <= 12 and "\0" not in v}


def _value(r: dict[str, Any], key: str) -> Any:
    return r["lang"] if key == "lang" else r["meta"].get(key)


def _breakdown(ok: list[dict[str, Any]], config: EvalConfig) -> dict[str, Any]:
    hit = f"hit@{min(5, config.k)}"
    mrr = f"mrr@{config.k}"
    out: dict[str, Any] = {}
    for key, values in _groups(ok).items():
        table = {}
        for value in values:
            rows = [r for r in ok if _value(r, key) == value]
            row: dict[str, Any] = {
                "n": len(rows),
                "answerable": sum(1 for r in rows if r["gold_doc_ids"]),
            }
            for mode in config.modes:
                scored = [
                    r["retrieval"][mode]["scores"]
                    for r in rows
                    if "scores" in r["retrieval"].get(mode, {})
                ]
                row[mode] = {hit: mean(s[hit] for s in scored), mrr: mean(s[mrr] for s in scored)}
            answered = [
                r for r in rows if r["answer"] is not None and r["gold_doc_ids"] is not None
            ]
            if answered:
                row["abstention_accuracy"] = mean(
                    1.0 if r["answer"]["abstained"] == (not r["gold_doc_ids"]) else 0.0
                    for r in answered
                )
            table[value] = row
        out[key] = table
    return out


def _worst(ok: list[dict[str, Any]], config: EvalConfig, primary: str) -> list[dict[str, Any]]:
    """Answerable questions whose gold document ranked worst in the primary mode."""
    far = config.k + 1
    misses = [r for r in ok if r["gold_doc_ids"] and primary in r["retrieval"]]
    misses = [r for r in misses if (r["retrieval"][primary]["gold_rank"] or far) > 1]

    def key(r: dict[str, Any]) -> tuple[int, int]:
        ranks = [(e["gold_rank"] or far) for e in r["retrieval"].values()]
        return (-(r["retrieval"][primary]["gold_rank"] or far), -sum(ranks))

    rows = []
    for r in sorted(misses, key=key)[: config.worst]:
        rows.append(
            {
                "id": r["id"],
                "question": r["question"],
                "gold": r["gold_titles"],
                "gold_rank": {m: e["gold_rank"] for m, e in r["retrieval"].items()},
                "retrieved": r["retrieval"][primary]["titles"],
                "top_dense": r["retrieval"][primary]["top_dense"],
                "meta": r["meta"],
            }
        )
    return rows


def _answer_failures(
    ok: list[dict[str, Any]], config: EvalConfig, primary: str
) -> dict[str, list[dict[str, Any]]]:
    done = [r for r in ok if r["answer"] is not None and r["gold_doc_ids"] is not None]
    wrongly_answered = [r for r in done if not r["gold_doc_ids"] and not r["answer"]["abstained"]]
    wrongly_abstained = [r for r in done if r["gold_doc_ids"] and r["answer"]["abstained"]]
    wrong_content = [
        r
        for r in done
        if r["gold_doc_ids"]
        and not r["answer"]["abstained"]
        and r["answers"]
        and not r["answer"]["contains"]
    ]

    def row(r: dict[str, Any]) -> dict[str, Any]:
        e = r["retrieval"].get(primary, {})
        return {
            "id": r["id"],
            "question": r["question"],
            "gold": r["gold_titles"],
            "gold_answers": r["answers"],
            "answer": r["answer"]["text"],
            "cited": r["answer"]["cited_doc_ids"],
            "notice": r["answer"]["notice"],
            "gold_rank": e.get("gold_rank"),
            "top_dense": e.get("top_dense"),
            "meta": r["meta"],
        }

    return {
        "answered_unanswerable": [row(r) for r in wrongly_answered[: config.worst]],
        "abstained_answerable": [row(r) for r in wrongly_abstained[: config.worst]],
        "answer_not_found": [row(r) for r in wrong_content[: config.worst]],
    }


def summarize(
    records: list[dict[str, Any]], config: EvalConfig, context: dict[str, Any]
) -> dict[str, Any]:
    """The full report as a JSON-ready dict (see the module docstring for the definitions)."""
    ok = [r for r in records if not r["error"]]
    answerable = [r for r in ok if r["gold_doc_ids"]]
    titles: dict[str, str] = context.get("titles") or {}
    unknown = sorted({d for r in ok for d in r["gold_doc_ids"] or [] if titles and d not in titles})
    settings = context.get("settings") or {}
    primary = primary_mode(config, settings)
    cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    cfg["modes"] = list(config.modes)
    return {
        "name": config.name,
        "command": config.command,
        "started": context.get("started"),
        "seconds": context.get("seconds"),
        "config": cfg,
        "primary_mode": primary,
        "questions": {
            "file": context.get("question_file"),
            "total": len(records),
            "evaluated": len(ok),
            "answerable": len(answerable),
            "unanswerable": sum(1 for r in ok if r["gold_doc_ids"] == []),
            "unlabelled": sum(1 for r in ok if r["gold_doc_ids"] is None),
            "input_errors": context.get("input_errors", []),
            "errors": [
                {"id": r["id"], "line": r["line"], "error": r["error"]}
                for r in records
                if r["error"]
            ],
            "unknown_gold_ids": unknown,
        },
        "retrieval": {m: _retrieval(answerable, ok, m, config) for m in config.modes},
        "answers": _answers(ok) if config.answers else None,
        "breakdown": _breakdown(ok, config),
        "worst_misses": _worst(ok, config, primary),
        "answer_failures": _answer_failures(ok, config, primary) if config.answers else None,
        "llm": context.get("llm"),
        "settings": settings,
        "index": {"dir": context.get("index_dir"), "manifest": context.get("manifest")},
        "versions": library_versions(),
    }
