"""``rag convert-feed``: saved blog listing pages -> one Markdown file per article."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_convert_feed(args: argparse.Namespace) -> int:
    from ingest.loaders.feed import read_titles, write_articles

    curated = read_titles(Path(args.titles)) if args.titles else None
    written = write_articles([Path(p) for p in args.pages], Path(args.out), curated)
    print(f"wrote {len(written)} articles to {args.out}")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``convert-feed`` to the ``rag`` parser."""
    p = sub.add_parser(
        "convert-feed", help="turn saved blog listing pages into one Markdown file per article"
    )
    p.add_argument("pages", nargs="+", help="listing pages (text)")
    p.add_argument("--out", default="data/articles", help="output folder (default data/articles)")
    p.add_argument("--titles", help="TSV of curated ids and titles (key-prefix, id, title)")
    p.set_defaults(func=cmd_convert_feed)
