"""Replay stored model answers through the whole answer chain, without the model.

:mod:`rag.eval.replay` checks each stored answer's clauses again; this runs the chain itself
(retrieval, evidence, coverage, draft, claim check, fallbacks, source quote) on each question of
an LLM run, with the model's stored text as its reply, and reports the answer the reader would
now see and whether it contains a gold answer. A change to what the chain does with the model's
answer (when it falls back to the draft, what it quotes) is measured on real answers in seconds
instead of an hour of generation:

    python -m rag.eval.replay_chain eval-out/check/cmrc2018_trial-llm-sample100/results.jsonl \\
        --index eval-out/check/cmrc2018_trial-llm-sample100/index --out before.jsonl
    # change the chain, then the same command with --compare before.jsonl

Run it over the index the results were made with (a run's ``--index``; ``data/index`` for the
articles). Near misses (``~loo``: the run hid their gold documents) and answers refused before
the model are left out. An answer no longer depends on the questions asked before it (sentence
vectors are embedded one at a time, `EvidenceSelector.sentence_vectors`), so replaying runs
together or alone gives the same answers; against the stored texts, made before that, 3 of 250
quote one sentence more or less, and no containment moves.

Example:
    >>> llm = StoredReply()
    >>> llm.text = "DDIM 只需 20~100 步 [1]。"
    >>> "".join(llm.stream([{"role": "user", "content": "?"}]))
    'DDIM 只需 20~100 步 [1]。'
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import LLMError
from rag.eval.metrics import contains_answer
from rag.eval.replay import changed, parse_results_args, read_rows, results_parser, write_rows
from rag.llm.client import LLM, Completion, StreamState

if TYPE_CHECKING:
    from rag.api import Assistant

__all__ = ["StoredReply", "main", "replay_chain"]


class StoredReply(LLM):
    """An LLM whose reply is :attr:`text`, set before each question (no server, no model)."""

    def __init__(self, name: str = "stored") -> None:  # (no client: nothing is sent anywhere)
        self.base_url = None
        self.name = name
        self.where = "the stored answers"
        self.text = ""

    def complete(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.1,
        stop: list[str] | None = None,
    ) -> Completion:
        return Completion(self.text, {}, "stop")

    def first_token_probabilities(
        self, messages: list[dict[str, str]], top: int = 10
    ) -> dict[str, float] | None:
        return None

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 256,
        temperature: float = 0.1,
        state: StreamState | None = None,
    ) -> Iterator[str]:
        if not self.text:
            raise LLMError("no stored answer for this question")
        if state is not None:
            state.finish_reason = "stop"
        yield self.text

    def close(self) -> None:
        pass


def replay_chain(paths: Iterable[Path], assistant: Assistant) -> Iterator[dict[str, Any]]:
    """The stored answers of ``paths`` (``results.jsonl`` of LLM runs) through the chain."""
    llm = StoredReply()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            stored = row.get("answer") or {}
            model = stored.get("model_text")
            if not model or str(row["id"]).endswith("~loo"):
                continue
            llm.text = model
            answer = assistant.ask(row["question"], llm=llm)
            golds = list(row.get("answers") or []) + [
                a for a in (row.get("meta") or {}).get("answers_en") or [] if isinstance(a, str)
            ]
            yield {
                "file": str(path),
                "id": row["id"],
                "question": row["question"],
                "model": model,
                "stored": stored.get("text", ""),
                "text": answer.text,
                "abstained": answer.abstained,
                "notice": answer.notice,
                "contains": contains_answer(answer.text, golds) if golds else None,
            }


def main(argv: list[str] | None = None) -> int:
    parser = results_parser("python -m rag.eval.replay_chain", __doc__)
    parser.add_argument("--index", type=Path, help="the index the runs used (default data/index)")
    args = parse_results_args(parser, argv)

    from rag.api import Assistant

    assistant = Assistant.open(args.index, auto_ingest=False, progress=False, log=lambda m: None)
    try:
        rows = list(replay_chain(args.results, assistant))
    finally:
        assistant.close()
    write_rows(args.out, rows)
    graded = [r["contains"] for r in rows if r["contains"] is not None]
    stored = sum(r["stored"] == r["text"] for r in rows)
    print(
        f"{len(rows)} stored answers replayed, {stored} as stored; gold answer contained "
        f"{sum(graded)} of {len(graded)}"
    )
    if args.compare:
        diffs = changed(rows, read_rows(args.compare), ("text", "abstained"))
        for b, r in diffs:
            print(f"{r['id']}  {r['question'][:70]}  contained {b['contains']} -> {r['contains']}")
            print(f"   before: {' | '.join(b['text'].splitlines())[:160]}")
            print(f"   now:    {' | '.join(r['text'].splitlines())[:160]}")
        print(f"{len(diffs)} of {len(rows)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
