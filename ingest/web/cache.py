"""What each fetched URL gave last time, with its ETag/Last-Modified, for incremental crawls.

One SQLite file beside the index (``web-cache.sqlite`` in the index directory). A page that
answers 304 to a conditional request is taken from here: an article's extracted document, a
listing page's links, a feed's or sitemap's URLs, robots.txt's text. Entries written by another
:data:`VERSION` of the extraction are ignored (the page is fetched in full again).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.web.fetch import Response

VERSION = 1  # bump when extraction or discovery changes what a page gives
FILENAME = "web-cache.sqlite"


@dataclass(frozen=True)
class Entry:
    url: str
    etag: str | None
    last_modified: str | None
    kind: str
    data: dict[str, Any]
    final_url: str


class WebCache:
    """A small thread-safe key-value store of :class:`Entry` by URL."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, version INTEGER, "
                "etag TEXT, last_modified TEXT, kind TEXT, data TEXT, final_url TEXT, updated REAL)"
            )
            self._db.commit()

    def get(self, url: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT etag, last_modified, kind, data, final_url FROM pages "
                "WHERE url = ? AND version = ?",
                (url, VERSION),
            ).fetchone()
        if row is None:
            return None
        return Entry(url, row[0], row[1], row[2], json.loads(row[3]), row[4])

    def put(self, url: str, resp: Response, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    url,
                    VERSION,
                    resp.etag,
                    resp.last_modified,
                    kind,
                    json.dumps(data, ensure_ascii=False),
                    resp.url,
                    time.time(),
                ),
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
