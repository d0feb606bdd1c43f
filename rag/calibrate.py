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
import json
import sys
from dataclasses import asdict
from pathlib import Path

from rag.answer.calibrate import Case, balanced_accuracy, best_policy
from rag.answer.coverage import CoveragePolicy, decide_coverage


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
