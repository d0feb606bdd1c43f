"""Replay stored model answers through the current claim check, without the model.

An LLM run of ``rag eval`` stores, for every question, what the model wrote (``model_text``) and
the passages it was given. A change to the claim check can be measured on those real answers in
seconds instead of re-running the model for an hour: this reads one or more ``results.jsonl``,
checks each stored answer again, and reports the answers whose kept text (or whose "only restates
the question" verdict, which sends the chain to the extractive answer) differs from another run.

    python -m rag.eval.replay eval-out/check/*llm*/results.jsonl --out replay.jsonl
    # change the check, then
    python -m rag.eval.replay eval-out/check/*llm*/results.jsonl --compare replay.jsonl

Each output line: ``file``, ``id``, ``question``, ``model`` (the stored model text), ``checked``
(what the check keeps now), ``restated``, ``removed`` (clause and reason). The check runs as the
chain runs it (the question's language, the index's tokenizer, glossary and embedder: see
:func:`rag.eval.faithfulness.open_checker`), on the passages as stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.eval.model_answers import check_stored

if TYPE_CHECKING:
    from rag.eval.faithfulness import Checker

__all__ = [
    "changed",
    "main",
    "parse_results_args",
    "read_rows",
    "replay",
    "results_parser",
    "write_rows",
]


def replay(paths: Iterable[Path], checker: Checker) -> Iterator[dict[str, Any]]:
    """The stored answers of ``paths`` (``results.jsonl`` of LLM runs) checked again."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            answer = row.get("answer") or {}
            model = answer.get("model_text")
            if not model or not answer.get("passages"):
                continue  # abstained before the model, or an extractive run
            checked = check_stored(model, answer["passages"], row["question"], checker)
            yield {
                "file": str(path),
                "id": row["id"],
                "question": row["question"],
                "model": model,
                "checked": checked.text,
                "restated": checked.restated,
                "removed": [[c.text, c.reason] for c in checked.removed],
            }


def changed(
    now: Iterable[dict[str, Any]],
    before: Iterable[dict[str, Any]],
    fields: tuple[str, ...] = ("checked", "restated"),
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs (before, now) of the same stored answer whose ``fields`` differ (by default its
    kept text or verdict)."""
    old = {(r["file"], r["id"]): r for r in before}
    out = []
    for r in now:
        b = old.get((r["file"], r["id"]))
        if b is not None and any(b[f] != r[f] for f in fields):
            out.append((b, r))
    return out


def results_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The arguments every replay takes: the runs' ``results.jsonl``, ``--out``, ``--compare``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("results", nargs="+", type=Path, help="results.jsonl of LLM eval runs")
    parser.add_argument("--out", type=Path, help="write the replayed answers here (JSON lines)")
    parser.add_argument("--compare", type=Path, help="an earlier --out: print what changed")
    return parser


def parse_results_args(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> argparse.Namespace:
    """The parsed arguments; a results file that is not there is named (and exits)."""
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.results if not p.is_file()]
    if missing:
        parser.error(f"no such results file: {', '.join(missing)}")
    return args


def write_rows(path: Path | None, rows: list[dict[str, Any]]) -> None:
    """``rows`` as JSON lines at ``path`` (None: nowhere)."""
    if path is not None:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows an earlier ``--out`` wrote."""
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def main(argv: list[str] | None = None) -> int:
    args = parse_results_args(results_parser("python -m rag.eval.replay", __doc__), argv)

    from rag.config import Settings
    from rag.eval.faithfulness import open_checker

    _, checker = open_checker(Settings.load(), None, lambda m: None)
    rows = list(replay(args.results, checker))
    write_rows(args.out, rows)
    print(f"{len(rows)} stored answers checked again")
    if args.compare:
        diffs = changed(rows, read_rows(args.compare))
        for b, r in diffs:
            print(f"{r['id']}  {r['question'][:70]}")
            print(f"   before: {b['checked'][:160]}{'  (restated)' if b['restated'] else ''}")
            print(f"   now:    {r['checked'][:160]}{'  (restated)' if r['restated'] else ''}")
        print(f"{len(diffs)} of {len(rows)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
