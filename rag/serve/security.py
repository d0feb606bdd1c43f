"""Who may use the API: the bind check, the API key (bearer token), body size and ``Host``.

Example:
    >>> check_bind("0.0.0.0", None)
    Traceback (most recent call last):
    ...
    rag.errors.ServeConfigError: refusing to listen on 0.0.0.0 without an API key: ...
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.errors import ServeConfigError
from rag.net import check_bind as _check_bind
from rag.net import is_loopback
from rag.serve.errors import ApiError
from rag.serve.models import ErrorBody, ErrorResponse

API_KEY_ENV = "RAG_SERVE_API_KEY"
_BEARER = HTTPBearer(auto_error=False, description=f"the key in the server's {API_KEY_ENV}")


def check_bind(host: str, api_key: str | None, env_name: str = API_KEY_ENV) -> None:
    """Refuse to listen beyond loopback without an API key (see :func:`rag.net.check_bind`).

    Raises:
        ServeConfigError: ``host`` is not a loopback address and ``api_key`` is empty.
    """
    _check_bind(
        host,
        secured=bool(api_key),
        verb="listen",
        secret="an API key",
        risk="use it",
        fix=f"Set {env_name} to a long random secret (clients send it as `Authorization: Bearer "
        "<key>`), or keep the default --host 127.0.0.1",
        error=ServeConfigError,
    )


def require_key(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> None:
    """The route dependency that checks ``Authorization: Bearer <key>`` (when a key is set)."""
    expected = request.app.state.rag.api_key
    given = creds.credentials.encode("utf-8") if creds else b""
    if expected and not hmac.compare_digest(given, expected.encode("utf-8")):
        raise ApiError(
            401,
            "missing or wrong API key: send `Authorization: Bearer <key>` with the key the "
            "server was started with",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


class BodyLimitMiddleware:
    """Refuse request bodies above ``max_bytes`` with 413, in OpenAI's error format."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._reject(scope, receive, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from fastapi.responses import JSONResponse

        limit = (
            f"{self.max_bytes / 1e6:g} MB" if self.max_bytes >= 1000 else f"{self.max_bytes} bytes"
        )
        body = ErrorBody(
            message=f"the request body is larger than the server's limit of {limit}",
            type="invalid_request_error",
            code="request_too_large",
        )
        response = JSONResponse(
            ErrorResponse(error=body).model_dump(), status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)


def host_name(host_header: str) -> str:
    """The host of a ``Host`` header, without the port (IPv6 without brackets).

    Example:
        >>> host_name("127.0.0.1:8000"), host_name("[::1]:8000"), host_name("LOCALHOST")
        ('127.0.0.1', '::1', 'localhost')
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LoopbackHostMiddleware:
    """Answer only requests addressed to a loopback name (``Host: 127.0.0.1:8000``...).

    Without an API key the server trusts whoever can connect, i.e. this machine; checking the
    ``Host`` header keeps web pages out that reach it through DNS rebinding (a domain that
    resolves to 127.0.0.1). Used when no API key is set.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raw = dict(scope.get("headers") or []).get(b"host", b"")
            host = host_name(raw.decode("latin-1"))
            if host and not is_loopback(host):
                from fastapi.responses import JSONResponse

                body = ErrorBody(
                    message=f"this server answers only requests to 127.0.0.1/localhost, not "
                    f"{host!r}; start it with {API_KEY_ENV} set to accept other host names",
                    type="invalid_request_error",
                    code="invalid_host",
                )
                await JSONResponse(ErrorResponse(error=body).model_dump(), status_code=400)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)
