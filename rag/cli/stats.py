"""``rag stats``: documents, chunks, embedder and size of the index."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rag.cli.common import settings_from_args


def cmd_stats(args: argparse.Namespace) -> int:
    from rag.store.factory import open_store

    store = open_store(settings_from_args(args))
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


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``stats`` to the ``rag`` parser."""
    p = sub.add_parser("stats", parents=[common], help="documents, chunks, embedder, index size")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)
