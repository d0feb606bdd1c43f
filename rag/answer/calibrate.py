"""Calibrate the coverage (abstention) thresholds: grid search for the best balanced accuracy.

:func:`best_policy` searches the :class:`rag.answer.coverage.CoveragePolicy` thresholds that
best separate answerable questions (answered) from unanswerable ones (abstained), per question
language; ``python -m rag.calibrate`` (:mod:`rag.calibrate`) runs it on a question set.

Example:
    >>> best_policy([], [])  # no data: the defaults  # doctest: +ELLIPSIS
    (CoveragePolicy(...), 0.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.coverage import CoveragePolicy, decide_coverage
from rag.schema import Passage


@dataclass
class Case:
    """One question with its retrieved passages and whether the corpus covers it."""

    question: str
    passages: list[Passage]
    answerable: bool
    split: str


def balanced_accuracy(
    cases: list[Case], policy: CoveragePolicy, terms: Callable[[str], list[str]]
) -> float:
    """Mean of the answered rate on answerable and the abstained rate on unanswerable."""
    pos = [c for c in cases if c.answerable]
    neg = [c for c in cases if not c.answerable]
    if not pos or not neg:
        return 0.0
    tp = sum(decide_coverage(c.question, c.passages, terms, policy).covered for c in pos)
    tn = sum(not decide_coverage(c.question, c.passages, terms, policy).covered for c in neg)
    return 0.5 * (tp / len(pos) + tn / len(neg))


def best_policy(
    cases: list[Case], terms: Callable[[str], list[str]]
) -> tuple[CoveragePolicy, float]:
    """Grid search; ties prefer the policy closest to the defaults (stable choice)."""
    default = CoveragePolicy()
    if not cases:
        return default, 0.0

    def search(
        lang_cases: list[Case], highs: list[float], lows: list[float]
    ) -> tuple[float, float, float, float]:
        best, best_score = (highs[0], lows[0], 0.5, 0.75), -1.0
        for high, low, omin, ostrong in itertools.product(
            highs, lows, [0.34, 0.4, 0.5, 0.6], [0.67, 0.75, 0.85, 1.01]
        ):
            if low > high:
                continue
            policy = CoveragePolicy(high, low, high, low, omin, ostrong)
            score = balanced_accuracy(lang_cases, policy, terms)
            if score > best_score + 1e-9:
                best, best_score = (high, low, omin, ostrong), score
        return best

    zh = [c for c in cases if _is_zh(c.question)]
    en = [c for c in cases if not _is_zh(c.question)]
    hz, lz, omin, ostrong = search(
        zh, [0.84, 0.85, 0.86, 0.87, 0.88, 0.89], [0.80, 0.82, 0.84, 0.85, 0.86]
    )
    he, le, _, _ = search(
        en, [0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86], [0.76, 0.78, 0.79, 0.80, 0.81]
    )
    best = CoveragePolicy(hz, lz, he, le, omin, ostrong)
    return best, balanced_accuracy(cases, best, terms)


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
