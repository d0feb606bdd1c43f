"""``rag chat``: a conversation in the terminal; follow-ups are rewritten with the history."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.cli.ask import llm_options, run_question
from rag.cli.common import open_assistant
from rag.errors import QuestionError


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.answer.warmup import warm_up_in_background

    assistant = open_assistant(args, llm="none" if args.no_llm else None)
    # the embedded model starts and reads its prompts' shared start while you type
    warm_up_in_background(assistant.llm, assistant.settings)
    history: list[dict[str, str]] = []
    print("Ask about the articles. Commands: /clear (new conversation), /quit.", file=sys.stderr)
    try:
        while True:
            try:
                question = input("\n? ").strip()
            except EOFError:
                break
            if question in ("/quit", "/exit", "/q"):
                break
            if question == "/clear":
                history.clear()
                print("(conversation cleared)", file=sys.stderr)
                continue
            if not question:
                continue
            try:
                answer = run_question(assistant, question, history, args)
            except QuestionError as exc:
                print(f"error: {exc}", file=sys.stderr)
                continue
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer.text},
            ]
    finally:
        assistant.close()
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``chat`` to the ``rag`` parser."""
    p = sub.add_parser(
        "chat", parents=[common, llm_options()], help="a conversation in the terminal"
    )
    p.set_defaults(func=cmd_chat)
