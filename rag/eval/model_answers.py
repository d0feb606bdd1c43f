"""The claim check judged against hand labels on answers the embedded model really wrote.

    rag eval data/eval/model_answers.jsonl --format model-answers --split test
    python -m rag.eval.model_answers export eval-out/articles-test-llm/results.jsonl OUT.jsonl

The detection set (:mod:`rag.eval.faithfulness`) injects one unsupported clause into a correct
answer; this set is the other half of the evidence: the model's own answers from an
``rag eval`` run with the LLM, each with the passages its ``[n]`` numbered, split into the
clauses the check judges, and every clause labelled by hand with the passages that support it
(``support``: passage numbers, ``[]`` when none does). ``export`` writes the clauses with
``support: null`` to fill in (the check's verdicts are left out, so they cannot sway the
labels); ``rag eval --format model-answers`` checks every answer again with the current check
and reports, per language:

- ``unsupported_removed``: clauses labelled unsupported that the check removed (recall);
- ``false_removal_rate``: clauses labelled supported that the check removed;
- ``model_citation_recall`` / ``model_citation_precision``: ALCE-style, by the hand labels, of
  the answer as the model wrote it (a sentence counts when each of its clauses is supported by
  a passage it cites; a citation is needed when it supports one of its sentence's clauses);
- ``checked_citation_recall`` / ``checked_citation_precision``: the same for the answer the
  user reads (the kept clauses, with the citations the check repaired) — the figures issue 20
  asks for, judged by a reader instead of by the check itself.

A clause whose text no longer matches a label (the clause splitter changed) is counted in
``unmatched`` and left out; re-export and re-label when that number grows.

The counts are :func:`rag.eval.metrics.citation_counts` over the clauses with their labels as
support. Example (one sentence, two clauses citing [1] and [2]; only [1] supports its clause, so
the sentence fails recall and one of its two citations is needed; without the second clause, as
in a checked answer that removed it, the sentence holds):
    >>> from rag.eval.metrics import citation_counts
    >>> a, b = Clause("A", 0, 1, 0, cited=[1]), Clause("B", 2, 3, 0, cited=[2])
    >>> citation_counts([_labelled(a, a.cited, [1]), _labelled(b, b.cited, [])])
    {'sentences': 1, 'sentences_cit_supported': 0, 'citations': 2, 'citations_needed': 1}
    >>> citation_counts([_labelled(a, a.cited, [1])])
    {'sentences': 1, 'sentences_cit_supported': 1, 'citations': 1, 'citations_needed': 1}
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer.claims import Clause, check_answer
from rag.answer.injection import redact_instructions
from rag.config import Settings
from rag.eval.config import EvalConfig, EvalResult
from rag.eval.metrics import citation_counts
from rag.schema import Passage
from rag.text.language import question_language

if TYPE_CHECKING:
    from rag.answer.claims import CheckedAnswer
    from rag.embed.embedder import Embedder
    from rag.eval.faithfulness import Checker


def export_template(results: Path, out: Path, checker: Checker) -> int:
    """Write a label template from an eval run's ``results.jsonl`` (answers a model wrote).

    Returns:
        The number of answers written.
    """
    n = 0
    with out.open("w", encoding="utf-8") as sink:
        for line in results.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            a = r.get("answer") or {}
            if not a.get("model_text") or not a.get("passages"):
                continue
            checked = check_stored(a["model_text"], a["passages"], r["question"], checker)
            if checked.abstained:
                continue
            row = {
                "id": r["id"],
                "question": r["question"],
                "lang": r["lang"],
                "gold_doc_ids": r["gold_doc_ids"],
                "model": a["llm"],
                "model_text": a["model_text"],
                "passages": a["passages"],
                "clauses": [
                    {"text": c.text, "sentence": c.sentence, "cited": c.cited, "support": None}
                    for c in checked.clauses
                ],
            }
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _passage(p: dict[str, Any]) -> Passage:
    return Passage(redact_instructions(p["text"]), p["doc_id"], p["title"], "", p["chunk_id"], 1.0)


def check_stored(
    text: str, stored: list[dict[str, Any]], question: str, checker: Checker
) -> CheckedAnswer:
    """The claim check of a stored model answer over its stored passages (a ``results.jsonl``
    record's ``passages``), as the chain runs it."""
    return check_answer(
        text,
        [_passage(p) for p in stored],
        question=question,
        lang=question_language(question),
        terms=checker.terms,
        glossary=checker.glossary,
        similarity=checker.similarity,
    )


def _labelled(c: Clause, cited: list[int], hand: list[int]) -> dict[str, Any]:
    """A clause as :func:`~rag.eval.metrics.citation_counts` reads it, its label as support."""
    status = "supported" if hand else "unsupported"
    return {"sentence": c.sentence, "status": status, "cited": cited, "support": hand}


def score_labels(
    rows: Sequence[dict[str, Any]], checker: Checker, records: list[dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Check every labelled answer again and compare with the labels (module docstring).

    Args:
        rows: The labelled answers (:func:`load_rows`).
        checker: What the chain checks with (:func:`rag.eval.faithfulness.open_checker`).
        records: If given, one record per clause is appended (label, verdict, reason).
    """
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        checked = check_stored(row["model_text"], row["passages"], row["question"], checker)
        labels = {lab["text"]: lab["support"] for lab in row["clauses"]}
        # a quote the check drops before splitting (glosses.py) leaves its clause without it
        quotes = [c.text for c in checked.removed if c.sentence < 0]
        if quotes:
            labels.update({_without(text, quotes): s for text, s in labels.items()})
        judged: list[tuple[Clause, list[int]]] = []
        groups = ["all", row["lang"]]
        for c in checked.clauses:
            if c.text not in labels or labels[c.text] is None:
                for g in groups:
                    sums[g]["unmatched"] += 1
                continue
            hand = list(labels[c.text])
            judged.append((c, hand))
            if records is not None:
                records.append(
                    {
                        "id": row["id"],
                        "lang": row["lang"],
                        "clause": c.text,
                        "hand": hand,
                        "status": c.status,
                        "cited": c.cited,
                        "support": c.support,
                        "reason": c.reason,
                        "agrees": bool(hand) == c.supported
                        and (not hand or bool(set(hand) & set(c.support))),
                    }
                )
            for g in groups:
                s = sums[g]
                s["clauses"] += 1
                if hand:
                    s["supported"] += 1
                    s["supported_removed"] += not c.supported
                else:
                    s["unsupported"] += 1
                    s["unsupported_removed"] += not c.supported
        # as the model wrote it (its own citations), and as the user reads it (the kept
        # clauses with the citations the check gave them)
        model = citation_counts(_labelled(c, c.cited, hand) for c, hand in judged)
        final = citation_counts(_labelled(c, c.support, hand) for c, hand in judged if c.supported)
        for g in groups:
            for prefix, counts in (("model", model), ("checked", final)):
                for key, v in counts.items():
                    sums[g][f"{prefix}_{key}"] += v
        for g in groups:
            sums[g]["answers"] += 1
    return {g: _rates(s) for g, s in sorted(sums.items(), key=lambda kv: kv[0] != "all")}


def _without(text: str, quotes: Sequence[str]) -> str:
    """``text`` without the dropped ``quotes`` (the clause the check judged, once they went).

    Example:
        >>> _without('It uses 0.5 ("阈值") for NMS', ['("阈值")'])
        'It uses 0.5 for NMS'
    """
    for q in quotes:
        text = text.replace(q, " ")
    return " ".join(text.split())


def _rates(s: dict[str, float]) -> dict[str, Any]:
    def ratio(a: str, b: str) -> float | None:
        return round(s[a] / s[b], 4) if s[b] else None

    return {
        "answers": int(s["answers"]),
        "clauses": int(s["clauses"]),
        "labelled_unsupported": int(s["unsupported"]),
        "unsupported_removed": ratio("unsupported_removed", "unsupported"),
        "false_removal_rate": ratio("supported_removed", "supported"),
        "model_citation_recall": ratio("model_sentences_cit_supported", "model_sentences"),
        "model_citation_precision": ratio("model_citations_needed", "model_citations"),
        "checked_citation_recall": ratio("checked_sentences_cit_supported", "checked_sentences"),
        "checked_citation_precision": ratio("checked_citations_needed", "checked_citations"),
        "unmatched": int(s["unmatched"]),
    }


def load_rows(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """The labelled answers of ``path`` (of one ``split``, when given).

    Raises:
        ValueError: a line is not JSON or a clause has no label, naming the line.
    """
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{i}: not valid JSON ({exc.msg})") from None
        if any(c.get("support") is None for c in row.get("clauses", [])):
            raise ValueError(f'{path}:{i}: a clause has no "support" label yet (list or [])')
        if split in (None, "all") or row.get("split") == split:
            rows.append(row)
    return rows


def run_model_answers(
    config: EvalConfig,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    log: Callable[[str], None] | None = None,
    write: bool = True,
) -> EvalResult:
    """``rag eval --format model-answers``: score the check against the labels of
    ``config.questions`` (of ``config.split``) and write the report into ``config.out_dir``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line is not JSON or not labelled.
    """
    from rag.eval.check import dump_block, expected_block
    from rag.eval.faithfulness import open_checker

    say = log or (lambda msg: print(msg, file=sys.stderr))
    config = config.resolved()
    assert config.out_dir is not None
    rows = load_rows(Path(config.questions), config.split)
    if config.limit is not None:
        rows = rows[: config.limit]
    started = time.time()
    assistant, checker = open_checker(settings, embedder, say)
    records: list[dict[str, Any]] = []
    try:
        scores = score_labels(rows, checker, records)
    finally:
        assistant.close()
    summary = {
        "name": config.name,
        "command": config.command,
        "format": "model-answers",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": time.time() - started,
        "file": str(config.questions),
        "split": config.split,
        "faithfulness": scores,
        "disagreements": [r for r in records if not r["agrees"]],
    }
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as sink:
        for r in records:
            sink.write(json.dumps(r, ensure_ascii=False) + "\n")
    result = EvalResult(config, records, summary, out, [])
    if write:
        (out / "report.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (out / "report.md").write_text(_markdown(summary), encoding="utf-8")
        (out / "expected-scores.yaml").write_text(
            dump_block(expected_block(summary)), encoding="utf-8"
        )
        result.files = ["report.json", "report.md", "results.jsonl", "expected-scores.yaml"]
    return result


def _markdown(summary: dict[str, Any]) -> str:
    """``report.md``: the scores per language and every clause where check and label differ."""
    scores = summary["faithfulness"]
    head = ["group", *next(iter(scores.values()), {}).keys()]
    lines = [f"# {summary['name']}: the claim check against hand labels", ""]
    lines += [f"`{summary['command']}`", ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group, m in scores.items():
        cells = [group, *("–" if v is None else str(v) for v in m.values())]
        lines.append("| " + " | ".join(cells) + " |")
    n = len(summary["disagreements"])
    lines += ["", f"## Clauses where the check and the label differ ({n})", ""]
    lines += ["| id | clause | label | check | support | reason |", "|---|---|---|---|---|---|"]
    for r in summary["disagreements"]:
        text = " ".join(r["clause"].split()).replace("|", "\\|")[:80]
        label = r["hand"] or "unsupported"
        lines.append(
            f"| {r['id']} | {text} | {label} | {r['status']} | {r['support']} | {r['reason']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write a label template (clauses with ``support: null``) from an eval run's results.jsonl.

    Score the labelled file with ``rag eval FILE --format model-answers``.
    """
    p = argparse.ArgumentParser(prog="python -m rag.eval.model_answers", description=main.__doc__)
    p.add_argument("command", choices=["export"])
    p.add_argument("results", type=Path, help="results.jsonl of a `rag eval` run with the LLM")
    p.add_argument("out", type=Path, help="the template to write (JSONL)")
    args = p.parse_args(argv)
    say = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    from rag.eval.faithfulness import open_checker

    settings = Settings.load()
    assistant, checker = open_checker(settings, None, say)
    try:
        n = export_template(args.results, args.out, checker)
    finally:
        assistant.close()
    say(f'{n} answers written to {args.out}: fill in every clause\'s "support"')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
