"""The ``rag`` command line.

Examples::

    rag ingest                      # index data/articles (incremental)
    rag ingest --format feed page.txt
    rag ingest https://blog.example.org/   # a blog: listing pages, feed or sitemap
    rag search "DPO 为什么不需要奖励模型" --k 5 --mode hybrid
    rag stats
    rag ask "DDIM 需要重新训练模型吗?"
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

# Never reach for a model hub unless the user explicitly allows it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from rag.cli import (
    ask,
    chat,
    convert_feed,
    convert_squad,
    eval,
    ingest,
    migrate,
    search,
    serve,
    setup,
    stats,
    ui,
)
from rag.cli.common import EXIT_USAGE, common_parser, run

# Every command, in the order ``rag --help`` lists them; each module has ``register``.
COMMANDS = (
    ingest,
    search,
    stats,
    convert_feed,
    setup,
    ask,
    chat,
    ui,
    eval,
    convert_squad,
    serve,
    migrate,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about a folder of (mostly Chinese) machine-learning articles, "
        "offline. Settings can also be given as RAG_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    return run(args)


__all__ = ["COMMANDS", "build_parser", "main", "run"]
