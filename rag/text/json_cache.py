"""A table parsed once and kept as JSON: read it back when it is there, else build and write it.

The glossary, the BM25 renderings and the pinyin readings all parse the packaged CC-CEDICT
(1-3 s) into a table that loads from JSON in ~0.1 s. :func:`cached_json` is that pattern once: a
damaged file is parsed again (with a warning), the file is written to a temporary name and
renamed (a crash or a second process never leaves half a file), and a read-only cache only
costs the parse next time.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "squares.json"
    >>> build = lambda: {str(i): i * i for i in range(3)}
    >>> cached_json(path, build, dict, dict)
    {'0': 0, '1': 1, '2': 4}
    >>> cached_json(path, lambda: {}, dict, dict)  # read back, not built again
    {'0': 0, '1': 1, '2': 4}
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def cached_json(
    path: Path | None,
    build: Callable[[], T],
    to_json: Callable[[T], Any],
    from_json: Callable[[Any], T],
) -> T:
    """The table kept at ``path``, else ``build()`` (written there for the next time).

    Args:
        path: The JSON file (its name should hold everything the table depends on); None: no
            cache, always build.
        build: Parses the sources.
        to_json: The table as JSON-serialisable data.
        from_json: The table from that data (a ``KeyError``/``ValueError``/``TypeError`` means
            a damaged or older file: built again).

    Returns:
        The table.
    """
    if path is not None and path.is_file():
        try:
            return from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the damaged cache %s (%s)", path, exc)
    table = build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(to_json(table), ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:  # a read-only cache only costs the parse next time
            log.warning("could not write %s (%s)", path, exc)
    return table
