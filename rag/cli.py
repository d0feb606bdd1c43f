"""The ``rag`` command line.

Examples::

    rag ingest                      # index data/articles (incremental)
    rag ingest --format feed page.txt
    rag search "DPO 为什么不需要奖励模型" --k 5 --mode hybrid
    rag stats
    rag ask "DDIM 需要重新训练模型吗?"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Never reach for a model hub unless the user explicitly allows it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EXIT_USAGE = 2


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from rag.config import Settings

    overrides = {
        "index_dir": getattr(args, "index", None),
        "vector_store": getattr(args, "store", None),
        "embedder": getattr(args, "embedder", None),
        "embed_backend": getattr(args, "embed_backend", None),
        "k": getattr(args, "k", None),
        "mode": getattr(args, "mode", None),
        "max_file_mb": getattr(args, "max_file_mb", None),
        "llm_base_url": getattr(args, "llm_base_url", None),
        "llm_model": getattr(args, "llm_model", None),
        "context_tokens": getattr(args, "context_tokens", None),
    }
    overrides.update(extra)
    return Settings.load(**{k: v for k, v in overrides.items() if v is not None})


def _progress(args: argparse.Namespace) -> bool:
    return (not getattr(args, "quiet", False) and sys.stderr.isatty()) or getattr(
        args, "progress", False
    )


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


# ---------------------------------------------------------------------------- commands
def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or None
    report = ingest(
        paths,
        settings,
        fmt=args.format,
        rebuild=args.rebuild,
        progress=_progress(args),
        log=_say,
        lock_timeout=args.wait,
    )
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, indent=1))
    else:
        if report.rebuilt and report.rebuild_reason:
            print(f"rebuilt: {report.rebuild_reason}")
        print(report.summary())
    return 1 if report.errors and args.strict else 0


def _open_assistant(args: argparse.Namespace, llm: str | None = None) -> Any:
    from rag import Assistant

    return Assistant.open(settings=_settings(args), llm=llm, progress=_progress(args), log=_say)


def _short(text: str, width: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_passages(passages: Sequence[Any], width: int = 240) -> None:
    for p in passages:
        dense = f"dense {p.dense_score:.3f}" if p.dense_score is not None else "dense -"
        bm25 = f"bm25 {p.bm25_score:.2f}" if p.bm25_score is not None else "bm25 -"
        print(f"{p.rank}. {p.title}  [{p.chunk_id}]  score {p.score:.4f} ({dense}, {bm25})")
        print(f"   {p.source}")
        for line in textwrap.wrap(_short(p.text, width), 100):
            print(f"   {line}")
        print()


def cmd_search(args: argparse.Namespace) -> int:
    assistant = _open_assistant(args, llm="none")
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


def cmd_stats(args: argparse.Namespace) -> int:
    from rag.store.factory import open_store

    store = open_store(_settings(args))
    try:
        stats = store.stats()
    finally:
        store.close()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        for key, value in stats.items():
            if key == "size_bytes":
                value = f"{value / 1e6:.1f} MB"
            print(f"{key:>22}: {value}")
    return 0


def cmd_convert_feed(args: argparse.Namespace) -> int:
    from ingest.loaders.feed import read_titles, write_articles

    curated = read_titles(Path(args.titles)) if args.titles else None
    written = write_articles([Path(p) for p in args.pages], Path(args.out), curated)
    print(f"wrote {len(written)} articles to {args.out}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Prepare the embedded models (embedder folder, and with --llm the GGUF)."""
    settings = _settings(args)
    from rag.embed.embedder import Embedder

    emb = Embedder.load(settings, progress=True)
    print(f"embedder ready: {emb.name} (dim {emb.dim}, fingerprint {emb.fingerprint})")
    if args.llm:
        from rag.llm.gguf import ensure_gguf

        path = ensure_gguf(Path(settings.cache_dir), progress=True)
        print(f"local LLM ready: {path}")
    return 0


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    from rag.cli_common import common_parser

    common = common_parser()

    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about a folder of (mostly Chinese) machine-learning articles, "
        "offline. Settings can also be given as RAG_* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "ingest",
        parents=[common],
        help="index documents (incremental)",
        description="Index Markdown, text, HTML, JSONL or feed files. Re-running embeds only "
        "new or changed documents and drops documents whose files were deleted.",
    )
    p.add_argument("paths", nargs="*", help="files or folders (default data/articles)")
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "markdown", "text", "html", "jsonl", "feed"],
        help="how to read the files (auto: by extension; feed: a saved blog listing page)",
    )
    p.add_argument("--rebuild", action="store_true", help="start the index from scratch")
    p.add_argument("--max-file-mb", type=float, help="refuse files above this size (default 20)")
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another running ingest (default: fail at once)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when some file had an error")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", parents=[common], help="show the passages that match a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5, help="passages to show (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], help="default hybrid")
    p.add_argument("--json", action="store_true", help="print passages as JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("stats", parents=[common], help="documents, chunks, embedder, index size")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "convert-feed", help="turn saved blog listing pages into one Markdown file per article"
    )
    p.add_argument("pages", nargs="+", help="listing pages (text)")
    p.add_argument("--out", default="data/articles", help="output folder (default data/articles)")
    p.add_argument("--titles", help="TSV of curated ids and titles (key-prefix, id, title)")
    p.set_defaults(func=cmd_convert_feed)

    p = sub.add_parser("setup", parents=[common], help="prepare the embedded models now")
    p.add_argument("--llm", action="store_true", help="also join and verify the local LLM")
    p.set_defaults(func=cmd_setup)

    for extra in _EXTRA_COMMANDS:
        extra(sub, common)
    return parser


# Subcommands that live in their own modules; each has ``register(subparsers, common)``.
COMMAND_MODULES = (
    "rag.cli_answer",  # ask, chat
    "rag.cli_ui",  # ui
    "rag.cli_eval",  # eval
    "rag.cli_serve",  # serve
    "rag.cli_store",  # migrate
)
_EXTRA_COMMANDS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script."""
    import importlib
    import importlib.util

    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            register = importlib.import_module(name).register
            if register not in _EXTRA_COMMANDS:
                _EXTRA_COMMANDS.append(register)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run a parsed command, turning expected failures into one clear line on stderr."""
    from rag.errors import RagError

    try:
        return int(args.func(args) or 0)
    except (RagError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("RAG_DEBUG"):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (set RAG_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
