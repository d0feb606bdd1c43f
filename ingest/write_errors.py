"""Disk-full and permission failures while writing the index, as one line that names the path.

An ingest writes a new generation beside the live one and switches the pointer last (the local
store), or commits in a crash-safe order (Milvus), so a failed write leaves the index as it was:
the message says so, instead of a raw ``OSError`` or ``sqlite3.OperationalError``.

Example:
    >>> import errno
    >>> exc = OSError(errno.ENOSPC, "No space left on device", "/data/index/gen-1/vectors.npy")
    >>> print(explain_write_error(exc, "/data/index"))
    cannot write /data/index/gen-1/vectors.npy: the disk is full (No space left on device); the index at /data/index is intact (the previous version still answers). Free some space and run `rag ingest` again.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator

from rag.errors import IndexWriteError

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_FIX_FULL = "Free some space and run `rag ingest` again."
_FIX_DENIED = (
    "Make the folder writable for this user, or choose another index with --index "
    "(RAG_INDEX_DIR), and run `rag ingest` again."
)


def explain_write_error(exc: BaseException, label: str) -> str | None:
    """The one-line message for a disk-full or permission failure, or None for other errors."""
    if isinstance(exc, OSError) and exc.errno in _FULL | _DENIED:
        full = exc.errno in _FULL
        what = "the disk is full" if full else "permission denied"
        path = exc.filename or label
        detail = f" ({exc.strerror})" if exc.strerror and full else ""
        fix = _FIX_FULL if full else _FIX_DENIED
    elif isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "full" in text:
            what, detail, fix = "the disk is full", f" ({exc})", _FIX_FULL
        elif "readonly" in text or "read-only" in text or "unable to open" in text:
            what, detail, fix = "permission denied", f" ({exc})", _FIX_DENIED
        else:
            return None
        path = label
    else:
        return None
    return (
        f"cannot write {path}: {what}{detail}; the index at {label} is intact (the previous "
        f"version still answers). {fix}"
    )


@contextlib.contextmanager
def explained_write_errors(label: str) -> Iterator[None]:
    """Turn disk-full and permission failures inside the block into :class:`IndexWriteError`."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        message = explain_write_error(exc, label)
        if message is None:
            raise
        raise IndexWriteError(message) from exc
