"""Serving the page: the login option, the bind check, and launching Gradio on this machine.

Example:
    >>> check_bind("127.0.0.1", None, False) is None
    True
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import BindError
from rag.net import check_bind as _check_bind
from rag.net import is_loopback

if TYPE_CHECKING:
    import gradio as gr


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` -> ``("user", "pass")``; None for None or empty.

    Raises:
        BindError: the value is not ``user:pass`` with both parts non-empty.

    >>> parse_auth("ann:s3cret:x")
    ('ann', 's3cret:x')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise BindError("--auth must be user:password (both non-empty)")
    return user, password


def check_bind(host: str, auth: tuple[str, str] | None, insecure: bool) -> str | None:
    """Refuse to serve beyond this machine without a password, unless told to.

    Returns:
        A warning to print, or None.

    Raises:
        BindError: ``host`` is not loopback and neither ``auth`` nor ``insecure`` is given.

    >>> check_bind("127.0.0.1", None, False) is None
    True
    >>> check_bind("0.0.0.0", None, True).startswith("warning")
    True
    """
    _check_bind(
        host,
        secured=auth is not None or insecure,
        verb="serve",
        secret="a password",
        risk="read the index and run questions",
        fix="Add --auth user:password (or RAG_UI_AUTH), or --insecure if the network is trusted.",
    )
    if is_loopback(host):
        return None
    if auth is None:
        return (
            f"warning: serving on {host} WITHOUT authentication (--insecure); anyone who can "
            "reach this port can use the assistant and upload files"
        )
    return (
        f"warning: serving on {host} over plain HTTP; the password and questions travel "
        "unencrypted (put a TLS proxy in front for untrusted networks)"
    )


def launch(
    app: gr.Blocks,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> str:
    """Queue and serve the page; returns its local URL.

    Args:
        app: From :func:`build_app`.
        settings: ``max_file_mb`` limits uploads at the HTTP layer too.
        host: Interface to bind (check it with :func:`check_bind` first).
        port: Port (None: Gradio picks a free one from 7860).
        auth: ``(user, password)`` for Gradio's login page.
        prevent_thread_lock: Return at once (tests) instead of serving until interrupted.
        quiet: No startup banner.
    """
    app.queue(default_concurrency_limit=2)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=prevent_thread_lock,
        max_file_size=int(settings.max_file_mb * 1e6),
        show_error=True,
        quiet=quiet,
        footer_links=["api"],
    )
    return url


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Wait until the page answers (used by tests and the launcher)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)
