"""``rag search``: the passages that match a question, without an answer."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from rag.cli.common import open_assistant


def _short(text: str, width: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_passages(passages: Sequence[Any], width: int = 240) -> None:
    for p in passages:
        dense = f"dense {p.dense_score:.3f}" if p.dense_score is not None else "dense -"
        bm25 = f"bm25 {p.bm25_score:.2f}" if p.bm25_score is not None else "bm25 -"
        dense += f" #{p.dense_rank}" if p.dense_rank else ""
        bm25 += f" #{p.bm25_rank}" if p.bm25_rank else ""
        if p.sentence_score is not None:  # the best sentence's cosine, blended into dense
            dense += f", best sentence {p.sentence_score:.3f}"
        print(f"{p.rank}. {p.title}  [{p.chunk_id}]  score {p.score:.4f} ({dense}, {bm25})")
        print(f"   {p.source}")
        for line in textwrap.wrap(_short(p.text, width), 100):
            print(f"   {line}")
        print()


def cmd_search(args: argparse.Namespace) -> int:
    assistant = open_assistant(args, llm="none")
    try:
        passages = assistant.retrieve(args.question, k=args.k, mode=args.mode)
    finally:
        assistant.close()
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=1))
    elif not passages:
        print("no passages matched")
    else:
        _print_passages(passages)
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``search`` to the ``rag`` parser."""
    p = sub.add_parser("search", parents=[common], help="show the passages that match a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5, help="passages to show (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], help="default hybrid")
    p.add_argument("--json", action="store_true", help="print passages as JSON")
    p.set_defaults(func=cmd_search)
