"""``rag migrate``: copy a local index into Milvus without embedding anything again (:mod:`rag.store.migrate`).

Examples::

    rag migrate --to milvus://db-host:19530                   # data/index -> collection rag_chunks
    rag migrate --index data/index --to "milvus://db-host:19530?collection=articles" --force
    rag migrate --to data/milvus.db                           # into embedded Milvus Lite

The vectors (``vectors.npy``), chunks and documents (``chunks.sqlite``) and the manifest of the
live generation are copied; Milvus computes the BM25 vectors from the chunk text itself. After
that, ``RAG_VECTOR_STORE=<the same URI>`` (or ``--store``) serves the same index from Milvus.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.cli.common import say, settings_from_args


def cmd_migrate(args: argparse.Namespace) -> int:
    """``rag migrate``: local index -> Milvus."""
    from rag.store.migrate import migrate

    settings = settings_from_args(args)
    to = args.to or (settings.vector_store if settings.vector_store != "local" else None)
    if not to:
        print("error: say where to: --to milvus://host:19530 (or a .db path)", file=sys.stderr)
        return 2
    report = migrate(Path(settings.index_dir), to, force=args.force, log=say)
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, indent=1))
    else:
        print(report.summary())
        print(f"use it with: RAG_VECTOR_STORE='{report.target}' (or --store '{report.target}')")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``migrate`` to the ``rag`` parser."""
    p = sub.add_parser(
        "migrate",
        parents=[common],
        help="copy the local index into Milvus (no re-embedding)",
        description="Copy the live local index (--index, default data/index) into a Milvus "
        "collection: vectors, chunks, documents and manifest. Milvus computes BM25 itself.",
    )
    p.add_argument(
        "--to",
        metavar="URI",
        help="milvus://host:19530[?collection=name], milvus-lite:///path.db or x.db",
    )
    p.add_argument("--force", action="store_true", help="replace an index already there")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_migrate)
