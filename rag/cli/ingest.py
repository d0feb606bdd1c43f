"""``rag ingest``: index documents and web pages, incrementally (see :mod:`ingest.pipeline`;
URLs are crawled by :mod:`ingest.web`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.cli.common import progress_enabled, say, settings_from_args


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest
    from ingest.web import is_url

    settings = settings_from_args(  # the crawl options (`rag ingest URL`)
        args,
        crawl_allow_private=args.allow_private or None,
        crawl_hosts=",".join(args.allow_host) or None,
        crawl_max_pages=args.max_pages,
        crawl_delay=args.delay,
        crawl_concurrency=args.concurrency,
        crawl_timeout=args.timeout,
    )
    paths = [p if is_url(p) else Path(p) for p in args.paths] or None
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
        description="Index Markdown, text, HTML, JSONL, PDF or feed files, and web pages: a "
        "blog's address (listing pages and their pagination, an RSS/Atom feed or a sitemap), an "
        "article or a PDF by URL. Re-running embeds only new or changed documents, drops "
        "documents whose files were deleted, and asks web servers only for pages that changed.",
    )
    p.add_argument(
        "paths", nargs="*", help="files, folders or http(s) URLs (default data/articles)"
    )
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "markdown", "text", "html", "jsonl", "feed", "pdf"],
        help="how to read the files (auto: by extension; feed: a saved blog listing page)",
    )
    p.add_argument("--rebuild", action="store_true", help="start the index from scratch")
    p.add_argument(
        "--max-file-mb", type=float, help="refuse files and web pages above this size (default 20)"
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another running ingest (default: fail at once)",
    )
    web = p.add_argument_group("web pages (rag ingest URL)")
    web.add_argument(
        "--max-pages", type=int, metavar="N", help="pages fetched per URL at most (default 200)"
    )
    web.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also follow links and redirects to HOST (default: the URL's host only)",
    )
    web.add_argument(
        "--allow-private",
        action="store_true",
        help="allow loopback and private addresses (a site on this machine or an intranet)",
    )
    web.add_argument(
        "--delay", type=float, metavar="SECONDS", help="between requests to a host (default 1)"
    )
    web.add_argument("--concurrency", type=int, metavar="N", help="requests at once (default 2)")
    web.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="connect/read timeout (default 20)"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when some file had an error")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)
