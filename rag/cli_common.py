"""The options every ``rag`` command shares (one definition for ``rag`` and ``python -m rag.eval``).

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(parents=[common_parser()])
    >>> p.parse_args(["--embed-backend", "onnx-int8"]).embed_backend
    'onnx-int8'
"""

from __future__ import annotations

import argparse


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
        choices=["torch", "onnx", "onnx-int8"],
        help="embedder runtime (default torch; onnx-int8 needs onnxruntime, see README)",
    )
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    common.add_argument("--progress", action="store_true", help="progress bars even when piped")
    return common
