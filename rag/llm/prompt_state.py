"""Saved prompt starts of the embedded model: read once, restored by every later process.

Every prompt of a language starts with the same rules and worked example (~240 tokens). In a
long-lived process (the chat page, ``rag serve``) llama.cpp keeps their KV state in RAM after
the first question; a one-shot ``rag ask`` or a script that opens an :class:`~rag.Assistant`
read them afresh every time: 3-5 s of its first token on 2 cores. llama.cpp can write a slot's
KV state to a file and load it back (~7 MB, a few ms), so the first process that reads a start
saves it here and the next ones restore it.

A state file is only valid for the model file, llama.cpp build and context settings it was made
with, so its name carries a key of all of them and of the messages. llama.cpp aborts the
process on a truncated state file, so a file is only restored when its size and SHA-256 match
the sidecar written after it was complete (written to a temporary name, renamed into place).

Example:
    >>> import tempfile
    >>> store = PromptStateStore(Path(tempfile.mkdtemp()))
    >>> key = state_key([{"role": "system", "content": "rules"}], Path("model.gguf"), 4096)
    >>> store.verified("zh", key) is None  # nothing saved yet
    True
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["PromptStateStore", "slot_state", "state_key"]

_SUFFIX = ".bin"


def state_key(messages: Sequence[dict[str, str]], model: Path, n_ctx: int) -> str:
    """A short key of what a saved state depends on: the messages, the model file (name and
    size), the context size and the llama.cpp build.

    >>> a = state_key([{"role": "user", "content": "x"}], Path("m.gguf"), 4096)
    >>> a == state_key([{"role": "user", "content": "x"}], Path("m.gguf"), 2048), len(a)
    (False, 16)
    """
    try:
        from importlib.metadata import version

        build = version("xllamacpp")
    except Exception:
        build = "?"
    try:
        size = Path(model).stat().st_size
    except OSError:
        size = -1
    parts = [list(messages), Path(model).name, size, n_ctx, build]
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def slot_state(base_url: str, action: str, filename: str) -> dict[str, Any] | None:
    """Save slot 0's KV state to ``filename`` in the server's ``slot_save_path``
    (``action="save"``) or load it back (``"restore"``) through llama.cpp's ``/slots`` API.

    Only restore a file :meth:`PromptStateStore.verified` returned: llama.cpp aborts the
    process on a truncated one.

    Args:
        base_url: The server's OpenAI base URL (``http://127.0.0.1:PORT/v1``).

    Returns:
        The server's report (``n_written`` bytes for a save), or None when it refuses or does
        not answer.
    """
    import httpx

    root = base_url.removesuffix("/").removesuffix("/v1")
    try:
        with httpx.Client(timeout=30.0, trust_env=False) as http:
            r = http.post(f"{root}/slots/0", params={"action": action}, json={"filename": filename})
        report = r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class PromptStateStore:
    """The folder llama.cpp saves slot states into (its ``slot_save_path``) and their sidecars.

    Files are ``{label}-{key}.bin`` with ``{label}-{key}.json`` (size, SHA-256) beside them; a
    new file of a label replaces the older ones of that label.

    Args:
        folder: Created when missing.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, cache_dir: Path) -> PromptStateStore | None:
        """The store in ``cache_dir/llm-state``; None when it cannot be created (a read-only
        cache: the model then reads its prompt start in every process, as before)."""
        try:
            return cls(Path(cache_dir) / "llm-state")
        except OSError:
            return None

    def name(self, label: str, key: str) -> str:
        """The file name llama.cpp is given (a bare name: it refuses paths)."""
        return f"{label}-{key}{_SUFFIX}"

    def temporary(self, label: str, key: str) -> str:
        """A name to save under before :meth:`commit` (one per process: no clash)."""
        return f"tmp-{os.getpid()}-{label}-{key}{_SUFFIX}"

    def verified(self, label: str, key: str) -> str | None:
        """The file name to restore when the file is complete and unchanged, else None."""
        path = self.folder / self.name(label, key)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            if path.stat().st_size != int(meta["size"]) or _sha256(path) != meta["sha256"]:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return path.name

    def commit(self, label: str, key: str, temporary: str, written: int | None = None) -> bool:
        """Move a state llama.cpp wrote to ``temporary`` into place, with its sidecar, and drop
        the label's older states. False (and nothing left behind) when it cannot, or when the
        file is not the ``written`` bytes llama.cpp reported (a full disk cuts it short)."""
        tmp = self.folder / temporary
        final = self.folder / self.name(label, key)
        try:
            size = tmp.stat().st_size
            if written is not None and size != written:
                raise OSError(f"{tmp} has {size} bytes, llama.cpp wrote {written}")
            meta = {"size": size, "sha256": _sha256(tmp)}
            os.replace(tmp, final)
            sidecar = final.with_suffix(".json")
            partial = sidecar.with_name(f"tmp-{os.getpid()}-{sidecar.name}")
            partial.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(partial, sidecar)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        for old in self.folder.glob(f"{label}-*"):
            if old.stem != final.stem:
                old.unlink(missing_ok=True)
        return True
