"""Calibrate the coverage (abstention) thresholds on a question set.

Runs retrieval for every question, computes the coverage evidence, and grid-searches the
:class:`rag.answer.coverage.CoveragePolicy` thresholds for the best balanced accuracy (answerable
questions answered, unanswerable ones abstained) on the ``dev`` split, then reports both
splits. The defaults in :mod:`rag.answer.coverage` come from this command::

    python -m rag.calibrate data/eval/questions.jsonl

Example:
    >>> best_policy([], [])  # no data: the defaults  # doctest: +ELLIPSIS
    (CoveragePolicy(...), 0.0)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    """Calibrate on the dev split, report dev and test."""
    parser = argparse.ArgumentParser(prog="python -m rag.calibrate", description=__doc__)
    parser.add_argument("questions", type=Path, help="JSONL with question, gold_doc_ids, split")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    from rag import Assistant

    assistant = Assistant.open(llm="none", progress=False)
    cases = []
    for line in args.questions.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        passages = assistant.retrieve(q["question"], k=args.k)
        cases.append(
            Case(q["question"], passages, bool(q.get("gold_doc_ids")), q.get("split", "dev"))
        )
    terms = assistant.tokenizer
    dev = [c for c in cases if c.split == "dev"]
    test = [c for c in cases if c.split != "dev"]
    current = CoveragePolicy()
    policy, score = best_policy(dev, terms)
    out = {
        "current": asdict(current),
        "current_dev": balanced_accuracy(dev, current, terms),
        "current_test": balanced_accuracy(test, current, terms),
        "best_on_dev": asdict(policy),
        "best_dev": score,
        "best_test": balanced_accuracy(test, policy, terms),
    }
    for c in cases:
        d = decide_coverage(c.question, c.passages, terms, current)
        ok = d.covered == c.answerable
        print(
            f"{'ok ' if ok else 'BAD'} {c.split:4} ans={int(c.answerable)} cov={int(d.covered)} "
            f"dense={d.top_dense:.3f} overlap={d.overlap:.2f} {d.reason[:40]:40} {c.question}",
            file=sys.stderr,
        )
    print(json.dumps(out, indent=1))
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
