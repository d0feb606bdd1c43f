"""``rag ingest``: index documents, incrementally (see :mod:`ingest.pipeline`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.cli.common import progress_enabled, say, settings_from_args


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest

    settings = settings_from_args(args)
    paths = [Path(p) for p in args.paths] or None
    report = ingest(
        paths,
        settings,
        fmt=args.format,
        rebuild=args.rebuild,
        progress=progress_enabled(args),
        log=say,
        lock_timeout=args.wait,
    )
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, indent=1))
    else:
        if report.rebuilt and report.rebuild_reason:
            print(f"rebuilt: {report.rebuild_reason}")
        print(report.summary())
    return 1 if report.errors and args.strict else 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``ingest`` to the ``rag`` parser."""
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
