"""What every ``rag`` command shares: the common options, settings from flags, messages, the
error handling (one line on stderr, exit 1), and opening the assistant.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(parents=[common_parser()])
    >>> p.parse_args(["--embed-backend", "onnx-int8"]).embed_backend
    'onnx-int8'
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_USAGE = 2


def common_parser() -> argparse.ArgumentParser:
    """``--index --store --embedder --embed-backend --quiet --progress`` (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", help="index directory (default data/index)")
    common.add_argument(
        "--store", metavar="URI", help="vector store: local (default) or milvus://host:port"
    )
    common.add_argument(
        "--embedder", metavar="NAME", help="sentence-transformers model name or folder"
    )
    common.add_argument(
        "--embed-backend",
        choices=["onnx-int8", "onnx-int8-docs", "onnx", "torch"],
        help="embedder runtime (default onnx-int8; see docs/configuration.md)",
    )
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    common.add_argument("--progress", action="store_true", help="progress bars even when piped")
    return common


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Any:
    """Settings: defaults, then ``RAG_*`` variables, then the flags given (and ``extra``)."""
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


def progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars: on a terminal unless ``--quiet``, or when ``--progress`` asks."""
    return (not getattr(args, "quiet", False) and sys.stderr.isatty()) or getattr(
        args, "progress", False
    )


def say(msg: str) -> None:
    """A message for the user, on stderr (stdout stays for results)."""
    print(msg, file=sys.stderr)


def open_assistant(args: argparse.Namespace, llm: str | None = None) -> Any:
    """The :class:`rag.Assistant` the flags describe (building the index on first use)."""
    from rag import Assistant

    return Assistant.open(
        settings=settings_from_args(args), llm=llm, progress=progress_enabled(args), log=say
    )


def warm_up(assistant: Any) -> None:
    """Open what a first question needs (question encoder, BM25 index and its tokenizer) before
    a server listens, so its first request is as fast as the others (~0.5 s at start)."""
    try:
        assistant.retrieve("warm-up", k=1)
    except Exception as exc:  # a damaged index is reported by the first request instead
        say(f"warning: warm-up failed ({type(exc).__name__}: {exc})")


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
