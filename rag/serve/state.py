"""What the routes share: the assistant, the options of :func:`rag.serve.app.create_app`, the
LLM's answer slots and the endpoint probe. Routes get it with ``Depends(serve_state)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from rag.config import Settings
from rag.serve.errors import busy_error

if TYPE_CHECKING:
    from rag.api import Assistant


class AnswerSlots:
    """Lets ``limit`` answers use the LLM at once; others wait up to ``timeout`` seconds.

    At most ``max_waiting`` requests wait (each holds a worker thread); more are turned away.

    Example:
        >>> slots = AnswerSlots(1, timeout=0.01)
        >>> release = slots.acquire()
        >>> slots.acquire()
        Traceback (most recent call last):
        ...
        rag.serve.errors.ApiError: the model is busy answering other questions; try again shortly
        >>> release(); release()  # idempotent
    """

    def __init__(self, limit: int, timeout: float, max_waiting: int = 16) -> None:
        self._sem = threading.BoundedSemaphore(max(1, limit))
        self._timeout = timeout
        self._max_waiting = max_waiting
        self._waiting = 0
        self._lock = threading.Lock()

    def acquire(self) -> Callable[[], None]:
        """Wait for a slot; returns its (idempotent) release function.

        Raises:
            ApiError: 503 when no slot frees up in time or too many requests are waiting.
        """
        with self._lock:
            if self._waiting >= self._max_waiting:
                raise busy_error()
            self._waiting += 1
        try:
            got = self._sem.acquire(timeout=self._timeout)
        finally:
            with self._lock:
                self._waiting -= 1
        if not got:
            raise busy_error()
        released = threading.Event()
        done = threading.Lock()

        def release() -> None:
            with done:
                if not released.is_set():
                    released.set()
                    self._sem.release()

        return release


class LLMProbe:
    """Whether the configured LLM endpoint answers ``GET /models`` (cached ``ttl`` seconds)."""

    def __init__(self, ttl: float = 30.0, timeout: float = 2.0) -> None:
        self.ttl = ttl
        self.timeout = timeout
        self._cache: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def status(self, base_url: str | None, api_key: str | None) -> str:
        with self._lock:
            if self._cache and time.monotonic() - self._cache[0] < self.ttl:
                return self._cache[1]
        import httpx

        url = (base_url or "https://api.openai.com/v1").rstrip("/") + "/models"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            resp = httpx.get(url, headers=headers, timeout=self.timeout)
            status = (
                "reachable" if resp.status_code < 400 else f"unreachable (HTTP {resp.status_code})"
            )
        except httpx.HTTPError as exc:
            status = f"unreachable ({type(exc).__name__})"
        with self._lock:
            self._cache = (time.monotonic(), status)
        return status


@dataclass
class ServeState:
    """The app's shared state (``app.state.rag``); see :func:`rag.serve.app.create_app`."""

    assistant: Assistant
    settings: Settings
    api_key: str | None = None
    sources_in_text: bool = True
    live_stream: bool = True
    llm_concurrency: int | None = None
    queue_timeout: float | None = None
    started: int = field(default_factory=lambda: int(time.time()))
    probe: LLMProbe = field(default_factory=lambda: LLMProbe())
    _slots: list[AnswerSlots] = field(default_factory=list)
    _slots_lock: threading.Lock = field(default_factory=threading.Lock)

    def slots(self) -> AnswerSlots:
        """The LLM's answer slots (1 for the embedded model, 4 for an endpoint, by default)."""
        from rag.llm.local import EmbeddedLLM

        with self._slots_lock:
            if not self._slots:
                embedded = isinstance(self.assistant.llm, EmbeddedLLM)
                limit = self.llm_concurrency or (1 if embedded else 4)
                timeout = self.queue_timeout or self.settings.llm_timeout
                self._slots.append(AnswerSlots(limit, timeout))
            return self._slots[0]


def serve_state(request: Request) -> ServeState:
    """The route dependency that hands a request the app's :class:`ServeState`."""
    return request.app.state.rag
