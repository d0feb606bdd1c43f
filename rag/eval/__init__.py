"""Batch evaluation of retrieval and answers: ``rag eval`` / ``python -m rag.eval``.

Modules: :mod:`~rag.eval.questions` (the JSONL question set), :mod:`~rag.eval.squad` (SQuAD-format
files to corpus + questions), :mod:`~rag.eval.metrics` (the formulas), :mod:`~rag.eval.runner`
(runs the questions), :mod:`~rag.eval.summary` (aggregates), :mod:`~rag.eval.report` and
:mod:`~rag.eval.plots` (report.json, report.md, PNGs), :mod:`~rag.eval.check` (expected scores),
:mod:`~rag.eval.faithfulness` (``--format faithfulness``: the claim checker on a detection set,
and refitting its model; report in :mod:`~rag.eval.faithfulness_report`).

Example:
    >>> from rag.config import Settings
    >>> from rag.eval import EvalConfig, run_eval
    >>> result = run_eval(EvalConfig("data/eval/questions.jsonl", no_llm=True), Settings.load())  # doctest: +SKIP
    >>> result.summary["retrieval"]["hybrid"]["mrr@10"]                                           # doctest: +SKIP
"""

from __future__ import annotations

from rag.eval.config import EvalConfig, EvalResult
from rag.eval.questions import Question, load_questions
from rag.eval.runner import run_eval
from rag.eval.squad import convert_squad, write_squad

__all__ = [
    "EvalConfig",
    "EvalResult",
    "Question",
    "convert_squad",
    "load_questions",
    "run_eval",
    "write_squad",
]
