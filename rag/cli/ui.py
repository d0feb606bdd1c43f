"""``rag ui`` (and ``python app.py``): serve the chat page on this machine.

Examples::

    rag ui                                  # http://127.0.0.1:7860, the embedded local model
    rag ui --port 8080 --no-llm             # extractive answers only
    rag ui --host 0.0.0.0 --auth ann:s3cret # reachable from the network, behind a login

Binding anything but loopback needs ``--auth user:password`` (Gradio's login page) or an
explicit ``--insecure``. Options fall back to ``RAG_UI_HOST``, ``RAG_UI_PORT``, ``RAG_UI_AUTH``
and ``RAG_UPLOAD_DIR``; every other setting is a ``RAG_*`` variable as usual.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rag.cli.common import EXIT_USAGE, open_assistant, warm_up


def add_ui_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rag ui`` / ``app.py`` (besides --index/--store/--embedder)."""
    env = os.environ
    p.add_argument(
        "--host",
        default=env.get("RAG_UI_HOST") or "127.0.0.1",
        help="interface to bind (default 127.0.0.1; anything else needs --auth or --insecure)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(env["RAG_UI_PORT"]) if env.get("RAG_UI_PORT") else None,
        help="port (default: the first free one from 7860)",
    )
    p.add_argument(
        "--auth",
        default=env.get("RAG_UI_AUTH") or None,
        metavar="USER:PASSWORD",
        help="require this login (Gradio's auth); needed to bind a non-loopback host",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback host without --auth (anyone who reaches the port can use it)",
    )
    p.add_argument(
        "--upload-dir",
        default=env.get("RAG_UPLOAD_DIR") or None,
        metavar="DIR",
        help="where uploaded files are saved and indexed from (default: uploads/ beside the index)",
    )
    p.add_argument(
        "--no-llm",
        action="store_true",
        help="default to extractive answers (the best sentences of the passages), no LLM",
    )
    p.add_argument("--llm-base-url", help="default OpenAI-compatible endpoint (RAG_LLM_BASE_URL)")
    p.add_argument("--llm-model", help="model name at that endpoint (RAG_LLM_MODEL)")
    p.add_argument(
        "--no-preload",
        action="store_true",
        help="start the embedded model with the first question instead of at launch",
    )


def cmd_ui(args: argparse.Namespace) -> int:
    """Open the index, build the page and serve it until interrupted."""
    from rag.errors import BindError
    from rag.ui.launch import check_bind, launch, parse_auth
    from rag.ui.layout import build_app

    try:
        auth = parse_auth(args.auth)
        warning = check_bind(args.host, auth, args.insecure)
    except BindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if warning:
        print(warning, file=sys.stderr)
    assistant = open_assistant(args, llm="none" if args.no_llm else None)
    warm_up(assistant)
    try:
        app = build_app(
            assistant,
            upload_dir=Path(args.upload_dir) if args.upload_dir else None,
            preload_llm=not args.no_preload,
        )
        launch(
            app,
            assistant.settings,
            host=args.host,
            port=args.port,
            auth=auth,
            quiet=getattr(args, "quiet", False),
        )
    finally:
        assistant.close()
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``ui`` to the ``rag`` parser."""
    p = sub.add_parser(
        "ui",
        parents=[common],
        help="the chat page in your browser (Gradio, 127.0.0.1)",
        description="Serve a chat page: ask in Chinese or English, see the retrieved passages, "
        "the streamed answer with clickable [n] citations, and upload files to the index.",
    )
    add_ui_arguments(p)
    p.set_defaults(func=cmd_ui)


def standalone_parser(prog: str = "app.py") -> argparse.ArgumentParser:
    """The parser of ``python app.py`` (same options as ``rag ui``)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="Chat with the articles in your browser (same as `rag ui`). Settings can "
        "also be given as RAG_* environment variables.",
    )
    p.add_argument("--index", metavar="DIR", help="index directory (default data/index)")
    p.add_argument("--store", metavar="URI", help="vector store: local (default) or milvus://...")
    p.add_argument("--embedder", metavar="NAME", help="sentence-transformers model or folder")
    p.add_argument("--quiet", action="store_true", help="no progress bars or startup banner")
    p.add_argument("--progress", action="store_true", help="progress bars even when piped")
    add_ui_arguments(p)
    p.set_defaults(func=cmd_ui, command="ui")
    return p
