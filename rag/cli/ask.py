"""``rag ask``: an answer in the terminal, streamed, with its sources (shared with ``rag chat``)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from rag.cli.common import open_assistant
from rag.schema import Answer, Passage


def _sources(answer: Answer, out: Any = None) -> None:
    out = out or sys.stdout
    cited = {p.chunk_id for p in answer.citations}
    if answer.abstained and not cited:
        if answer.passages:
            print("\nNearest passages:", file=out)
        for i, p in enumerate(answer.passages[:3], start=1):
            print(f"  [{i}] {p.title} — {p.source}", file=out)
        return
    if not answer.passages:
        return
    print("\nSources:", file=out)
    for i, p in enumerate(answer.passages, start=1):
        if p.chunk_id not in cited:
            continue
        snippet = " ".join(p.text.split())
        snippet = snippet if len(snippet) <= 110 else snippet[:109] + "…"
        print(f"  [{i}] {p.title} — {p.source}", file=out)
        for line in textwrap.wrap(snippet, 96):
            print(f"      {line}", file=out)


def _timing_line(answer: Answer) -> str:
    t = answer.timings
    parts = [f"{answer.llm}"]
    if "first_token" in t:
        parts.append(f"first token {t['first_token']:.1f}s")
    if "total" in t:
        parts.append(f"total {t['total']:.1f}s")
    return "(" + ", ".join(parts) + ")"


def run_question(
    assistant: Any,
    question: str,
    history: list[dict[str, str]] | None,
    args: argparse.Namespace,
) -> Answer:
    """Ask one question, printing as it streams; return the final answer."""
    use_llm = not args.no_llm
    stream = args.stream and sys.stdout.isatty() if args.stream is None else args.stream
    answer: Answer | None = None
    streamed: list[str] = []
    passages: list[Passage] = []
    shown: list[str] = []
    for event in assistant.ask_stream(
        question, history=history, k=args.k, mode=args.mode, llm=None if use_llm else "none"
    ):
        if event.kind == "status" and not args.quiet:
            msg = event.text
            if msg.startswith("asking") and getattr(assistant.llm, "status", "ready") != "ready":
                msg += " (the embedded model loads first; the first answer takes ~5-15 s)"
            print(f"… {msg}", file=sys.stderr, flush=True)
        elif event.kind == "passages":
            passages = event.passages
            if not args.quiet and passages:
                titles = ", ".join(dict.fromkeys(p.title for p in passages))
                print(f"… found: {titles}", file=sys.stderr, flush=True)
        elif event.kind == "draft" and use_llm and not args.quiet and event.text:
            print(
                f"… draft (the articles' own words, while the model reads): {event.text}",
                file=sys.stderr,
                flush=True,
            )
        elif event.kind == "token" and stream:
            streamed.append(event.text)
            print(event.text, end="", flush=True)
        elif event.kind == "notice" and not args.quiet:
            shown.append(event.text)
            print(f"\nnotice: {event.text}", file=sys.stderr, flush=True)
        elif event.kind == "answer":
            answer = event.answer
    assert answer is not None
    raw = "".join(streamed).strip()
    if stream and raw:
        print()
        if answer.text.strip() != raw:
            print("— checked answer (citations verified) —")
            print(answer.text)
    else:
        print(answer.text)
    if answer.notice and not args.quiet and answer.notice not in shown:
        print(f"({answer.notice})", file=sys.stderr)
    _sources(answer)
    if not args.quiet:
        print(_timing_line(answer), file=sys.stderr)
    del passages
    return answer


def cmd_ask(args: argparse.Namespace) -> int:

    assistant = open_assistant(args, llm="none" if args.no_llm else None)
    try:
        if args.json:
            answer = assistant.ask(
                args.question, k=args.k, mode=args.mode, llm="none" if args.no_llm else None
            )
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        else:
            run_question(assistant, args.question, None, args)
    finally:
        assistant.close()
    return 0


def llm_options() -> argparse.ArgumentParser:
    """The answering options of ``ask`` and ``chat`` (a parent parser)."""
    llm_opts = argparse.ArgumentParser(add_help=False)
    llm_opts.add_argument("--k", type=int, help="passages to retrieve (default 5)")
    llm_opts.add_argument("--mode", choices=["hybrid", "dense", "bm25"], help="default hybrid")
    llm_opts.add_argument(
        "--no-llm",
        action="store_true",
        help="answer with the best-matching sentences of the passages, without an LLM",
    )
    llm_opts.add_argument("--llm-base-url", help="OpenAI-compatible endpoint (RAG_LLM_BASE_URL)")
    llm_opts.add_argument("--llm-model", help="model name at that endpoint (RAG_LLM_MODEL)")
    llm_opts.add_argument("--context-tokens", type=int, help="passage budget (default 700)")
    llm_opts.add_argument(
        "--stream",
        dest="stream",
        action="store_true",
        default=None,
        help="print the answer as it is generated (default when printing to a terminal)",
    )
    llm_opts.add_argument("--no-stream", dest="stream", action="store_false")
    return llm_opts


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``ask`` to the ``rag`` parser."""
    p = sub.add_parser(
        "ask",
        parents=[common, llm_options()],
        help="answer a question from the articles, with sources",
        description="Answer a question from the articles. With no endpoint configured, the "
        "embedded local model answers (first answer ~5-15 s on 2 cores, model load included).",
    )
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the Answer as one JSON object")
    p.set_defaults(func=cmd_ask)
