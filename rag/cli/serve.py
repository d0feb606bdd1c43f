"""``rag serve``: the OpenAI-compatible HTTP API (:mod:`rag.serve`) on 127.0.0.1.

Example::

    rag serve                                   # http://127.0.0.1:8000/v1, embedded model
    rag serve --port 9000 --no-llm              # extractive answers only (fast)
    RAG_SERVE_API_KEY=$(openssl rand -hex 24) rag serve --host 0.0.0.0   # key required
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import threading
import time
from typing import Any

from rag.cli.common import open_assistant, say, warm_up

# The same as rag.serve.security.API_KEY_ENV (not imported from there: keeps every `rag` command fast).
API_KEY_ENV = "RAG_SERVE_API_KEY"


def _bind(host: str, port: int) -> socket.socket:
    """Bind now, so a busy port is reported before the index and models load."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _preload(assistant: Any, say: Any) -> None:
    """Start the embedded model and warm its prompt cache in the background, so the first
    answer is not the slow one."""
    from rag.answer.warmup import warm_up_embedded
    from rag.errors import LLMError

    llm = assistant.llm
    try:
        t = time.perf_counter()
        if warm_up_embedded(llm, assistant.settings):
            say(f"embedded model ready ({time.perf_counter() - t:.1f} s)")
    except LLMError as exc:
        say(f"warning: {exc}")


def cmd_serve(args: argparse.Namespace) -> int:
    from rag.errors import ServeConfigError
    from rag.serve.app import create_app
    from rag.serve.security import check_bind

    key = os.environ.get(args.api_key_env) or None
    try:
        check_bind(args.host, key, args.api_key_env)
    except ServeConfigError as exc:
        say(f"error: {exc}")
        return 2
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - a dependency
        say("error: `rag serve` needs fastapi and uvicorn: pip install fastapi uvicorn")
        return 1
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        say(f"error: {exc}")
        return 1
    assistant = open_assistant(args, llm="none" if args.no_llm else None)
    warm_up(assistant)
    try:
        app = create_app(
            assistant,
            api_key=key,
            sources_in_text=not args.no_sources_in_text,
            live_stream=not args.verified_stream,
            llm_concurrency=args.llm_concurrency,
        )
        llm = assistant.llm
        host = f"[{args.host}]" if ":" in args.host else args.host
        say(
            f"serving the articles at http://{host}:{args.port}/v1 (OpenAI-compatible; models: "
            "rag, rag-hybrid, rag-dense, rag-bm25; answers by "
            f"{llm.name if llm is not None else 'extractive sentences, no LLM'}; API key "
            f"{'required' if key else 'not required'}). Schema: http://{host}:{args.port}/openapi.json"
        )
        if args.preload:
            threading.Thread(target=_preload, args=(assistant, say), daemon=True).start()
        config = uvicorn.Config(
            app,
            log_level=args.log_level,
            access_log=not args.no_access_log,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal: turn it
        # into an exception so the assistant (and the embedded model) is closed cleanly.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:
            say("stopped")
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        sock.close()
        assistant.close()
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``serve`` to the ``rag`` parser."""
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="an OpenAI-compatible HTTP API for chat clients (Open WebUI, the openai SDK...)",
        description="Serve the assistant as an OpenAI-compatible API: POST /v1/chat/completions "
        "(streaming or not; `model` picks the retrieval mode: rag, rag-hybrid, rag-dense, "
        "rag-bm25), GET /v1/models, POST /v1/search, GET /health, and the OpenAPI docs at "
        "/docs. Listens on 127.0.0.1 unless --host says otherwise; any other address needs "
        f"an API key in ${API_KEY_ENV}.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--api-key-env",
        default=API_KEY_ENV,
        metavar="NAME",
        help=f"environment variable holding the API key clients must send as a bearer token "
        f"(default {API_KEY_ENV}; required when --host is not a loopback address)",
    )
    p.add_argument(
        "--no-sources-in-text",
        action="store_true",
        help="do not append the sources list to answer texts (they stay in the `sources` field; "
        'a request can still ask with "rag_sources_in_text": true)',
    )
    p.add_argument(
        "--verified-stream",
        action="store_true",
        help="stream only the checked answer (default: tokens as generated, then the checked "
        "answer when it differs)",
    )
    p.add_argument("--no-llm", action="store_true", help="extractive answers only, no LLM")
    p.add_argument("--llm-base-url", help="OpenAI-compatible endpoint (RAG_LLM_BASE_URL)")
    p.add_argument("--llm-model", help="model name at that endpoint (RAG_LLM_MODEL)")
    p.add_argument(
        "--llm-concurrency",
        type=int,
        metavar="N",
        help="answers generated at once (default 1 for the embedded model, 4 for an endpoint)",
    )
    p.add_argument(
        "--preload",
        action="store_true",
        help="start the embedded model at startup instead of on the first question",
    )
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument("--no-access-log", action="store_true", help="no line per request")
    p.set_defaults(func=cmd_serve)
