"""Errors in OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``.

Validation errors are answered with 400 (not FastAPI's 422), unknown paths with 404, anything
unexpected with 500 and no detail (never a secret or a traceback).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.errors import QuestionError, RagError, StoreError
from rag.serve.models import ErrorBody, ErrorResponse

if TYPE_CHECKING:
    from fastapi import FastAPI

# Documented error responses of the /v1 routes (401 is added when a key is required).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid request"},
    413: {"model": ErrorResponse, "description": "Body too large"},
    500: {"model": ErrorResponse, "description": "Internal error"},
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or wrong API key"},
}


class ApiError(RagError):
    """An error answered in OpenAI's format."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(
            error=ErrorBody(message=message, type=type_, param=param, code=code)
        )
        self.headers = headers


def busy_error() -> ApiError:
    """503: every LLM slot is taken (the client may retry)."""
    return ApiError(
        503,
        "the model is busy answering other questions; try again shortly",
        type_="server_error",
        code="server_busy",
        headers={"Retry-After": "5"},
    )


def describe_failure(exc: BaseException) -> tuple[int, ErrorResponse]:
    """HTTP status and OpenAI error body for an exception (never a secret or a traceback)."""
    if isinstance(exc, ApiError):
        return exc.status, exc.body
    if isinstance(exc, QuestionError):
        body = ErrorBody(
            message=str(exc),
            type="invalid_request_error",
            param="messages",
            code="invalid_question",
        )
        return 400, ErrorResponse(error=body)
    if isinstance(exc, StoreError):
        body = ErrorBody(
            message=f"the index cannot be read: {exc}", type="server_error", code="index_error"
        )
        return 503, ErrorResponse(error=body)
    body = ErrorBody(
        message=f"internal error ({type(exc).__name__}); the server log has details",
        type="server_error",
        code="internal_error",
    )
    return 500, ErrorResponse(error=body)


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None, str]:
    """One readable line (and the ``param``) for pydantic's validation errors."""
    parts: list[str] = []
    param: str | None = None
    code = "invalid_value"
    for err in errors[:3]:
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        where = ".".join(loc)
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON", None, "invalid_json"
        if not loc and err.get("type") in ("model_attributes_type", "dict_type"):
            return (
                "the request body must be a JSON object (with Content-Type: application/json)",
                None,
                "invalid_json",
            )
        if err.get("type") == "missing":
            code = "missing_required_parameter"
            if not loc:
                return "the request body is missing (send JSON)", None, code
        param = param or where or None
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "invalid request: " + "; ".join(parts), param, code


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` in OpenAI's shape."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def error_json(status: int, body: ErrorResponse, headers: dict[str, str] | None = None):
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_json(exc.status, exc.body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        message, param, code = validation_message(list(exc.errors()))
        body = ErrorBody(message=message, type="invalid_request_error", param=param, code=code)
        return error_json(400, ErrorResponse(error=body))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = {
            404: f"no such endpoint: {request.method} {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail))
        body = ErrorBody(
            message=message,
            type="invalid_request_error" if exc.status_code < 500 else "server_error",
            code=codes.get(exc.status_code),
        )
        return error_json(exc.status_code, ErrorResponse(error=body), getattr(exc, "headers", None))

    @app.exception_handler(QuestionError)
    async def _question_error(request: Request, exc: QuestionError):
        return error_json(*describe_failure(exc))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception):
        return error_json(*describe_failure(exc))
