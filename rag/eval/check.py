"""Expected scores, as Pyserini keeps them: a file of runs (a command and its scores), rerun by ``--check``.

``data/eval/expected.yaml``::

    tolerance: 0.01                 # default absolute tolerance
    runs:
      - name: cmrc2018_sample
        command: rag eval --format squad tests/data/cmrc2018_sample.json --no-llm
        tolerance: 0.05             # optional, per run
        scores:
          bm25: {hit@5: 0.906, mrr@10: 0.83}
          answers: {abstention_accuracy: 0.8}

A faithfulness run (``--format faithfulness``) declares its scores per group of its report
(``zh``, ``en``, ``all``, ``zh/number``...): ``zh: {injected_recall: 0.85, false_removal_rate: 0.045}``.

Each score is one condition (run, mode, metric@k); ``rag eval --check`` reruns every command
and prints ``OK`` or ``FAIL`` per condition, and exits non-zero if any failed. A run writes the
block for its own scores to ``<out>/expected-scores.yaml``, to paste into the file. A run may
also have ``prepare``: a ``python ...`` command that ``--check`` runs from the project root
first, to make the files the eval reads (e.g. ``python data/eval/lowoverlap_tools.py export
eval-out/data/cmrc_trial_lowoverlap``).

Example:
    >>> line = compare_scores("demo", {"bm25": {"hit@5": 0.9}}, {"retrieval": {"bm25": {"hit@5": 0.85}}}, 0.02)[0]
    >>> line.status, line.render()
    ('FAIL', 'FAIL  demo  bm25  hit@5  0.8500  expected 0.9000 ± 0.020  (lower)')
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag.config import PROJECT_ROOT
from rag.errors import ExpectedError

DEFAULT_EXPECTED = PROJECT_ROOT / "data" / "eval" / "expected.yaml"
DEFAULT_TOLERANCE = 0.01
RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10")
ANSWER_KEYS = (
    "abstention_accuracy",
    "containment",
    "f1",
    "citation_precision",
    "supported_rate",
    "model_citation_recall",
    "model_citation_precision",
)
# A faithfulness run (``--format faithfulness``) declares its scores per group: zh, en, all...
FAITHFULNESS_KEYS = (
    "injected_recall",
    "false_removal_rate",
    "false_alarm_rate",
    "citation_recall",
    "citation_precision",
)
# A model-answers run (``--format model-answers``): the check against hand labels, same groups.
MODEL_ANSWER_KEYS = (
    "unsupported_removed",
    "false_removal_rate",
    "model_citation_recall",
    "model_citation_precision",
    "checked_citation_recall",
    "checked_citation_precision",
)
FAITHFULNESS_GROUPS = ("zh", "en", "all")
# Abstention per question language (group ``abstention/<lang>``: answers.abstention_by_language).
ABSTENTION_KEYS = (
    "answerable_refused",
    "answerable_low_confidence",
    "unanswerable_abstained",
    "unanswerable_abstained_or_low",
    "near_miss_abstained",
    "near_miss_abstained_or_low",
)


@dataclass(frozen=True)
class ExpectedRun:
    """One run of the expected-scores file: a command and the scores it should produce."""

    name: str
    command: str
    scores: dict[str, dict[str, float]]
    tolerance: float
    prepare: str = ""  # a `python ...` command run from the project root before the eval

    def eval_args(self) -> list[str]:
        """The command's arguments after ``rag eval`` / ``python -m rag.eval``.

        >>> ExpectedRun("x", "rag eval q.jsonl --no-llm", {}, 0.01).eval_args()
        ['q.jsonl', '--no-llm']
        """
        words = shlex.split(self.command)
        for prefix in (
            ["rag", "eval"],
            ["python", "-m", "rag.eval"],
            ["python3", "-m", "rag.eval"],
        ):
            if words[: len(prefix)] == prefix:
                return words[len(prefix) :]
        raise ExpectedError(
            f"run {self.name!r}: command must start with `rag eval`: {self.command!r}"
        )

    def prepare_args(self) -> list[str]:
        """The ``prepare`` command as arguments, ``python`` being this interpreter ([] if none).

        It makes the files the eval reads (an export of a question set, a corpus).

        >>> ExpectedRun("x", "rag eval q.jsonl", {}, 0.01, "python t.py export out").prepare_args()[1:]
        ['t.py', 'export', 'out']
        """
        if not self.prepare:
            return []
        words = shlex.split(self.prepare)
        if words[0] not in ("python", "python3"):
            raise ExpectedError(
                f"run {self.name!r}: prepare must start with `python`: {self.prepare!r}"
            )
        return [sys.executable, *words[1:]]


@dataclass(frozen=True)
class CheckLine:
    """The outcome of one condition."""

    status: str  # OK | FAIL
    run: str
    group: str
    metric: str
    got: float | None
    expected: float
    tolerance: float

    def render(self) -> str:
        """``OK|FAIL  run  mode  metric  got  expected e ± tol`` (and why it failed)."""
        got = "missing" if self.got is None else f"{self.got:.4f}"
        why = ""
        if self.status == "FAIL":
            if self.got is None:
                why = "  (not measured)"
            else:
                why = (
                    "  (lower)"
                    if self.got < self.expected
                    else "  (higher: update the expected scores)"
                )
        return (
            f"{self.status:<4}  {self.run}  {self.group}  {self.metric}  {got}  "
            f"expected {self.expected:.4f} ± {self.tolerance:.3f}{why}"
        )


def load_expected(path: Path) -> list[ExpectedRun]:
    """The runs of an expected-scores file.

    Raises:
        FileNotFoundError: no such file.
        ExpectedError: it is not a mapping with a ``runs`` list of name/command/scores.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ExpectedError(f"{path}: expected a mapping with a `runs` list")
    default = float(data.get("tolerance", DEFAULT_TOLERANCE))
    runs = []
    for i, run in enumerate(data["runs"]):
        if not isinstance(run, dict) or not all(k in run for k in ("name", "command", "scores")):
            raise ExpectedError(f"{path}: runs[{i}] needs name, command and scores")
        scores = run["scores"]
        if not isinstance(scores, dict) or not all(isinstance(v, dict) for v in scores.values()):
            raise ExpectedError(
                f"{path}: runs[{i}].scores must map a mode (or `answers`) to metrics"
            )
        runs.append(
            ExpectedRun(
                name=str(run["name"]),
                command=str(run["command"]),
                scores={
                    str(g): {str(m): float(v) for m, v in ms.items()} for g, ms in scores.items()
                },
                tolerance=float(run.get("tolerance", default)),
                prepare=str(run.get("prepare") or ""),
            )
        )
    return runs


def measured(summary: dict[str, Any], group: str, metric: str) -> float | None:
    """A score of a report summary: ``group`` is a mode or ``answers`` (or, for a faithfulness
    run, a group of its ``faithfulness`` block: ``zh``, ``en``, ``zh/number``, ``all``...).

    >>> measured({"answers": {"abstention": {"accuracy": 0.75}}}, "answers", "abstention_accuracy")
    0.75
    >>> measured({"faithfulness": {"zh": {"injected_recall": 0.86}}}, "zh", "injected_recall")
    0.86
    >>> by_lang = {"en": {"near_miss_abstained": 0.8}}
    >>> measured({"answers": {"abstention_by_language": by_lang}}, "abstention/en",
    ...          "near_miss_abstained")
    0.8
    """
    if summary.get("faithfulness") is not None:
        value = (summary["faithfulness"].get(group) or {}).get(metric)
    elif group.startswith("abstention/"):
        by_lang = (summary.get("answers") or {}).get("abstention_by_language") or {}
        value = (by_lang.get(group.removeprefix("abstention/")) or {}).get(metric)
    elif group == "answers":
        answers = summary.get("answers") or {}
        if metric == "abstention_accuracy":
            return (answers.get("abstention") or {}).get("accuracy")
        if metric.startswith("model_"):  # the model's own citations (answers.model_citations)
            value = (answers.get("model_citations") or {}).get(metric.removeprefix("model_"))
        else:
            value = answers.get(metric)
    else:
        value = (summary.get("retrieval") or {}).get(group, {}).get(metric)
    return float(value) if isinstance(value, (int, float)) else None


def compare_scores(
    run: str, expected: dict[str, dict[str, float]], summary: dict[str, Any], tolerance: float
) -> list[CheckLine]:
    """One :class:`CheckLine` per expected score."""
    lines = []
    for group, metrics in expected.items():
        for metric, value in metrics.items():
            got = measured(summary, group, metric)
            ok = got is not None and abs(got - value) <= tolerance + 1e-9
            lines.append(
                CheckLine("OK" if ok else "FAIL", run, group, metric, got, value, tolerance)
            )
    return lines


def run_check(
    runs: Iterable[ExpectedRun],
    evaluate: Callable[[ExpectedRun], dict[str, Any]],
    say: Callable[[str], None] = print,
) -> list[CheckLine]:
    """Rerun every run with ``evaluate`` (returns the summary) and compare; prints each line."""
    lines: list[CheckLine] = []
    for run in runs:
        say(f"# {run.name}: {run.command}")
        summary = evaluate(run)
        for line in compare_scores(run.name, run.scores, summary, run.tolerance):
            say(line.render())
            lines.append(line)
    return lines


def expected_block(summary: dict[str, Any], tolerance: float | None = None) -> dict[str, Any]:
    """The expected-scores entry for a finished run (what ``expected-scores.yaml`` holds)."""
    scores: dict[str, dict[str, float]] = {}
    for group in FAITHFULNESS_GROUPS:
        block = (summary.get("faithfulness") or {}).get(group)
        if block:
            keys = FAITHFULNESS_KEYS + MODEL_ANSWER_KEYS
            scores[group] = {
                k: round(float(block[k]), 4)
                for k in dict.fromkeys(keys)
                if block.get(k) is not None
            }
    for mode, block in (summary.get("retrieval") or {}).items():
        scores[mode] = {
            k: round(float(block[k]), 4) for k in RETRIEVAL_KEYS if block.get(k) is not None
        }
    answers = {k: measured(summary, "answers", k) for k in ANSWER_KEYS}
    if summary.get("answers"):
        scores["answers"] = {k: round(v, 4) for k, v in answers.items() if v is not None}
        for lang, block in (summary["answers"].get("abstention_by_language") or {}).items():
            if block.get("n_unanswerable") or block.get("n_near_miss"):
                scores[f"abstention/{lang}"] = {
                    k: round(float(block[k]), 4)
                    for k in ABSTENTION_KEYS
                    if block.get(k) is not None
                }
    entry: dict[str, Any] = {"name": summary.get("name"), "command": summary.get("command")}
    if tolerance is not None:
        entry["tolerance"] = tolerance
    entry["scores"] = scores
    return entry


def dump_block(entry: dict[str, Any]) -> str:
    """YAML text of one run entry, in the layout of ``data/eval/expected.yaml``."""
    lines = [
        f"  - name: {entry['name']}",
        f"    command: {json.dumps(entry['command'], ensure_ascii=False)}",
    ]
    if "tolerance" in entry:
        lines.append(f"    tolerance: {entry['tolerance']}")
    lines.append("    scores:")
    for group, metrics in entry["scores"].items():
        inner = ", ".join(f"{k}: {v}" for k, v in metrics.items())
        lines.append(f"      {group}: {{{inner}}}")
    return "\n".join(lines) + "\n"
