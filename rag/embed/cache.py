"""A persistent cache of passage vectors keyed by (embedder fingerprint, text hash).

Vectors are written after every batch, so an ingest that is killed keeps the work it did: the
next run only embeds what is still missing. After a successful ingest the cache is pruned to
the chunks of the live index.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> cache = EmbedCache(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite", "fp", 2)
    >>> cache.put({"k": np.array([0.6, 0.8], np.float32)}); cache.get(["k", "x"])["k"].tolist()
    [0.6000000238418579, 0.800000011920929]
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    """The cache key of an embedded text (its SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbedCache:
    """Vectors of one embedder, stored in SQLite.

    Args:
        path: The SQLite file (created if missing).
        fingerprint: The embedder's fingerprint; vectors of other embedders are never returned.
        dim: Vector size.
    """

    def __init__(self, path: Path, fingerprint: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fingerprint, self.dim = fingerprint, dim
        try:
            self.db = sqlite3.connect(str(path))
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS vec (fp TEXT, key TEXT, v BLOB, PRIMARY KEY (fp, key))"
            )
            self.db.commit()
        except sqlite3.DatabaseError:
            # A damaged cache only costs time: start a new one.
            path.unlink(missing_ok=True)
            self.db = sqlite3.connect(str(path))
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS vec (fp TEXT, key TEXT, v BLOB, PRIMARY KEY (fp, key))"
            )
            self.db.commit()

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys``."""
        out: dict[str, np.ndarray] = {}
        keys = list(keys)
        for begin in range(0, len(keys), 500):
            part = keys[begin : begin + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT key, v FROM vec WHERE fp = ? AND key IN ({marks})",
                [self.fingerprint, *part],
            ).fetchall()
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == self.dim:
                    out[key] = vec
        return out

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store vectors and commit (so they survive a crash)."""
        self.db.executemany(
            "INSERT OR REPLACE INTO vec (fp, key, v) VALUES (?, ?, ?)",
            [
                (self.fingerprint, k, np.asarray(v, dtype=np.float32).tobytes())
                for k, v in vectors.items()
            ],
        )
        self.db.commit()

    def prune(self, keep: Iterable[str]) -> int:
        """Delete every vector not in ``keep`` (other embedders' too). Returns the count deleted."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM keep")
        self.db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(k,) for k in keep])
        cur = self.db.execute(
            "DELETE FROM vec WHERE fp != ? OR key NOT IN (SELECT key FROM keep)", [self.fingerprint]
        )
        self.db.commit()
        return cur.rowcount

    def close(self) -> None:
        self.db.close()
