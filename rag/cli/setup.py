"""``rag setup``: prepare the embedded models now (the embedder folder, and the LLM file)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.cli.common import settings_from_args


def cmd_setup(args: argparse.Namespace) -> int:
    """Prepare the embedded models (embedder folder, and with --llm the GGUF)."""
    settings = settings_from_args(args)
    from rag.embed.embedder import Embedder

    emb = Embedder.load(settings, progress=True)
    print(f"embedder ready: {emb.name} (dim {emb.dim}, fingerprint {emb.fingerprint})")
    if args.llm:
        from rag.llm.gguf import ensure_gguf

        path = ensure_gguf(Path(settings.cache_dir), progress=True)
        print(f"local LLM ready: {path}")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``setup`` to the ``rag`` parser."""
    p = sub.add_parser("setup", parents=[common], help="prepare the embedded models now")
    p.add_argument("--llm", action="store_true", help="also join and verify the local LLM")
    p.set_defaults(func=cmd_setup)
