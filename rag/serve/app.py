"""The FastAPI app: middlewares, error handlers and the routers, over one shared assistant.

Example:
    >>> app = create_app(Assistant.open(llm="none"))                      # doctest: +SKIP
    >>> with ServerThread(app) as server:                                 # doctest: +SKIP
    ...     print(server.base_url)
    http://127.0.0.1:40123/v1
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from fastapi import Depends

from rag.config import Settings
from rag.serve import routes_chat, routes_health, routes_search
from rag.serve.errors import AUTH_RESPONSES, install_error_handlers
from rag.serve.models import MAX_MESSAGES, MODEL_DESCRIPTIONS
from rag.serve.security import BodyLimitMiddleware, LoopbackHostMiddleware, require_key
from rag.serve.state import ServeState

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.api import Assistant

MAX_BODY_BYTES = 1_000_000


def create_app(
    assistant: Assistant,
    settings: Settings | None = None,
    *,
    api_key: str | None = None,
    sources_in_text: bool = True,
    live_stream: bool = True,
    llm_concurrency: int | None = None,
    queue_timeout: float | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The FastAPI app serving ``assistant``.

    Args:
        assistant: Answers and retrieves (shared by all requests).
        settings: Limits and defaults (default ``assistant.settings``).
        api_key: When set, ``/v1/*`` and the schema (``/openapi.json``) require
            ``Authorization: Bearer <api_key>`` and the browsable docs (``/docs``, ``/redoc``)
            are off (a browser cannot send the key); when not, only requests addressed to a
            loopback name (``Host``) are answered, docs included. ``/health`` is always open.
        sources_in_text: Append a sources list to answer texts (a request can override it).
        live_stream: Stream tokens as generated (False: stream only the checked answer).
        llm_concurrency: Answers that may use the LLM at once (default 1 for the embedded
            model, 4 for an endpoint).
        queue_timeout: Seconds a question waits for the LLM before a 503 (default
            ``settings.llm_timeout``).
        max_body_bytes: Larger request bodies get 413.
    """
    from fastapi import FastAPI

    from rag import __version__

    settings = settings or assistant.settings
    no_docs: dict[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(
        **(no_docs if api_key else {}),
        title="rag-articles",
        version=__version__,
        description=(
            "OpenAI-compatible API over the articles. Every answer is grounded in the "
            "articles and cites them as [n]; `sources` lists the cited passages. Models: "
            + ", ".join(f"`{m}` ({d})" for m, d in MODEL_DESCRIPTIONS.items())
            + ". The last user message is the question, earlier user/assistant messages the "
            "history; system messages are ignored. `max_tokens` lowers the answer's token "
            f"budget (capped at {settings.llm_max_tokens}); `temperature` goes to the LLM; "
            "extractive answers ignore both. "
            f"Limits: question {settings.max_question_chars:,} characters, "
            f"{MAX_MESSAGES} messages, body {max_body_bytes:,} bytes."
        ),
    )
    app.state.rag = ServeState(
        assistant,
        settings,
        api_key=api_key,
        sources_in_text=sources_in_text,
        live_stream=live_stream,
        llm_concurrency=llm_concurrency,
        queue_timeout=queue_timeout,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    if not api_key:
        app.add_middleware(LoopbackHostMiddleware)
    install_error_handlers(app)
    guarded: dict[str, Any] = {}
    if api_key:
        guarded = {"dependencies": [Depends(require_key)], "responses": AUTH_RESPONSES}
    app.include_router(routes_search.router, **guarded)
    app.include_router(routes_chat.router, **guarded)
    app.include_router(routes_health.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if api_key:

        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_key)])
        def openapi_schema() -> dict[str, Any]:
            return app.openapi()

    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema without FastAPI's 422 responses (validation errors are answered with 400)."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path in schema.get("paths", {}).values():
        for op in path.values():
            op.get("responses", {}).pop("422", None)
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


# ---------------------------------------------------------------------------- running
class ServerThread:
    """Run an app with uvicorn in a background thread (tests, notebooks, benchmarks).

    Args:
        app: The ASGI app.
        host: Address to bind (a free port is picked when ``port`` is 0).
        port: Port.
        access_log: Log one line per request (uvicorn's format: client, request line, status).
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, access_log: bool = False
    ) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="info" if access_log else "warning",
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url``."""
        return self.url + "/v1"

    def start(self, timeout: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
