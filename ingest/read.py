"""Read a file's bytes as text: UTF-8, then GB18030; refuse binary, empty and oversized files.

Example:
    >>> from pathlib import Path
    >>> p = Path("/tmp/_read_example.txt"); _ = p.write_text("你好", encoding="gb18030")
    >>> read_text(p)
    '你好'
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import LoadError, SkipFile

__all__ = ["LoadError", "SkipFile", "looks_binary", "read_text"]


_CONTROL_OK = {9, 10, 12, 13, 27}


def looks_binary(data: bytes) -> bool:
    """True for NUL bytes or many control characters in the first 8 KiB."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in _CONTROL_OK)
    return controls / len(head) > 0.05


def read_text(path: Path, max_bytes: int | None = None) -> str:
    """Decode a file as UTF-8 (BOM allowed), falling back to GB18030.

    Args:
        path: The file.
        max_bytes: Refuse files larger than this (``None``: no limit).

    Returns:
        The text, with ``\\r\\n`` and ``\\r`` turned into ``\\n``.

    Raises:
        SkipFile: empty, whitespace-only or binary file.
        LoadError: too large, unreadable, or neither UTF-8 nor GB18030.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror})") from exc
    if max_bytes is not None and size > max_bytes:
        raise LoadError(
            f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit "
            "(raise it with RAG_MAX_FILE_MB or --max-file-mb, or split the file)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror})") from exc
    if not data.strip():
        raise SkipFile(f"{path}: empty file")
    if looks_binary(data):
        raise SkipFile(f"{path}: binary file, not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LoadError(
            f"{path}: neither UTF-8 nor GB18030 text; re-save it as UTF-8 "
            "(e.g. `iconv -f <encoding> -t utf-8`)"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SkipFile(f"{path}: empty file")
    return text
