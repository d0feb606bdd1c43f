"""An OpenAI-compatible HTTP API over the assistant, so any chat client can use the articles.

Endpoints (see ``/docs`` for the OpenAPI schema):

- ``POST /v1/chat/completions``: OpenAI's chat format, JSON or server-sent events. The last
  user message is the question; earlier user/assistant messages are the history; system (and
  developer/tool) messages are ignored. ``model`` picks the retrieval mode (:data:`MODELS`).
  The answer keeps its ``[n]`` citations; the cited passages come back in ``sources`` (on the
  response, and on the final stream chunk) and, unless turned off, as a short list appended to
  the text.
- ``GET /v1/models``, ``POST /v1/search`` (passages only), ``GET /health``.

Errors use OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, validation
errors included (400, not FastAPI's 422).

Example:
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    >>> check_bind("0.0.0.0", None)
    Traceback (most recent call last):
    ...
    rag.errors.ServeConfigError: refusing to listen on 0.0.0.0 without an API key: ...
    >>> app = create_app(Assistant.open(llm="none"))                      # doctest: +SKIP
    >>> with ServerThread(app) as server:                                 # doctest: +SKIP
    ...     print(server.base_url)
    http://127.0.0.1:40123/v1
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.guard import check_question
from rag.config import Settings
from rag.errors import QuestionError, ServeConfigError
from rag.schema import Answer
from rag.text.language import question_language

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.answer.chain import StreamEvent
    from rag.api import Assistant

# ``model`` -> retrieval mode (None: the server's default, ``settings.mode``).
MODELS: dict[str, str | None] = {
    "rag": None,
    "rag-hybrid": "hybrid",
    "rag-dense": "dense",
    "rag-bm25": "bm25",
}
MODEL_DESCRIPTIONS = {
    "rag": "answers from the articles; retrieval in the server's default mode",
    "rag-hybrid": "answers from the articles; dense + BM25 retrieval fused with RRF",
    "rag-dense": "answers from the articles; dense (embedding) retrieval only",
    "rag-bm25": "answers from the articles; BM25 keyword retrieval only",
}
API_KEY_ENV = "RAG_SERVE_API_KEY"
MAX_BODY_BYTES = 1_000_000
MAX_MESSAGES = 100
MAX_K = 20

SOURCES_HEADING = {"zh": "来源", "en": "Sources"}
NEAREST_HEADING = {"zh": "最接近的段落", "en": "Nearest passages"}
CHECKED_HEADING = {
    "zh": "—— 核对后的回答（引用已校验）——",
    "en": "— checked answer (citations verified) —",
}
_RULE = "\n\n---\n**"
_BEARER = HTTPBearer(auto_error=False, description=f"the key in the server's {API_KEY_ENV}")


# ---------------------------------------------------------------------------- startup checks
def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.strip().lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None, env_name: str = API_KEY_ENV) -> None:
    """Refuse to listen beyond loopback without an API key.

    Raises:
        ServeConfigError: ``host`` is not a loopback address and ``api_key`` is empty.
    """
    if not is_loopback(host) and not api_key:
        raise ServeConfigError(
            f"refusing to listen on {host} without an API key: anyone who can reach this "
            f"machine could use it. Set {env_name} to a long random secret (clients send it "
            "as `Authorization: Bearer <key>`), or keep the default --host 127.0.0.1"
        )


# ---------------------------------------------------------------------------- request models
class ContentPart(BaseModel):
    """One part of a multi-part message; only ``text`` parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str | None = None


class ChatMessage(BaseModel):
    """A chat message. ``system``, ``developer``, ``tool`` and ``function`` ones are ignored."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``: ``include_usage`` adds a last chunk with only ``usage``."""

    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions``. Unknown OpenAI fields (top_p, user, ...) are ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(
        "rag",
        max_length=200,
        description="Retrieval mode: rag (server default), rag-hybrid, rag-dense, rag-bm25.",
    )
    messages: list[ChatMessage] = Field(
        ...,
        min_length=1,
        max_length=MAX_MESSAGES,
        description="The conversation; the last message must be the user's question.",
    )
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        None, ge=1, description="Lowers the answer's token budget (capped at RAG_LLM_MAX_TOKENS)."
    )
    max_completion_tokens: int | None = Field(None, ge=1, description="Same as max_tokens.")
    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature.")
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is supported.")
    rag_sources_in_text: bool | None = Field(
        None, description="Append a sources list to the answer text (default: the server's)."
    )
    rag_k: int | None = Field(None, ge=1, le=MAX_K, description="Passages to retrieve.")


class SearchRequest(BaseModel):
    """``POST /v1/search``: the passages that best match a query."""

    query: str = Field(
        ..., min_length=1, description="The query (limit: RAG_MAX_QUESTION_CHARS characters)."
    )
    k: int = Field(5, ge=1, le=MAX_K)
    mode: Literal["hybrid", "dense", "bm25"] | None = None


# ---------------------------------------------------------------------------- response models
class PassageOut(BaseModel):
    """A retrieved passage (the fields of :class:`rag.schema.Passage`)."""

    text: str
    doc_id: str
    title: str
    source: str
    chunk_id: str
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    rank: int = 0
    start: int = 0
    end: int = 0


class Source(PassageOut):
    """A passage of an answer: ``n`` is its number in the text's ``[n]``."""

    n: int
    cited: bool = True


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class RagInfo(BaseModel):
    """How the answer was made."""

    abstained: bool
    llm: str
    mode: str
    notice: str | None = None
    standalone_question: str = ""
    timings: dict[str, float] = Field(default_factory=dict)


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """A chat completion, plus ``sources`` (the cited passages) and ``rag`` (details)."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    sources: list[Source]
    rag: RagInfo


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed answer; the last one carries ``sources``."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    sources: list[Source] | None = None
    rag: RagInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "rag-articles"
    description: str = ""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class SearchResponse(BaseModel):
    object: Literal["list"] = "list"
    query: str
    mode: str
    k: int
    data: list[PassageOut]


class LLMHealth(BaseModel):
    kind: Literal["embedded", "endpoint", "none"]
    name: str | None = None
    status: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    documents: int | None = None
    chunks: int | None = None
    generation: str | None = None
    embedder: str
    mode: str
    llm: LLMHealth


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape."""

    error: ErrorBody


class ApiError(Exception):
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


# ---------------------------------------------------------------------------- helpers
def message_text(content: str | list[ContentPart] | None) -> str:
    """The text of a message (text parts joined; images and other parts dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        part.text for part in content if part.text and part.type in ("text", "input_text")
    )


def strip_added_text(content: str) -> str:
    """An earlier answer of this server without what it added for display.

    Drops the appended sources list, and keeps only the checked answer when the streamed draft
    was followed by one, so history holds what was verified.

    Example:
        >>> strip_added_text("DDIM 不需要重新训练 [1]。\\n\\n---\\n**来源**\\n- [1] DDIM — ddim.md")
        'DDIM 不需要重新训练 [1]。'
    """
    for heading in (*SOURCES_HEADING.values(), *NEAREST_HEADING.values()):
        cut = content.find(f"{_RULE}{heading}**")
        if cut >= 0:
            content = content[:cut]
    for heading in CHECKED_HEADING.values():
        cut = content.rfind(heading)
        if cut >= 0:
            content = content[cut + len(heading) :]
    return content.strip()


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, a user's) and the user/assistant history before it.

    Raises:
        ApiError: the last message is not from the user.
    """
    last = messages[-1]
    if last.role != "user":
        raise ApiError(
            400,
            f"the last message must be the user's question (it is a {last.role!r} message)",
            param=f"messages.{len(messages) - 1}.role",
            code="invalid_value",
        )
    history: list[dict[str, str]] = []
    for m in messages[:-1]:
        if m.role not in ("user", "assistant"):
            continue
        text = message_text(m.content)
        if m.role == "assistant":
            text = strip_added_text(text)
        if text.strip():
            history.append({"role": m.role, "content": text})
    return message_text(last.content), history


def answer_sources(answer: Answer) -> list[Source]:
    """The cited passages, numbered as in the text; the nearest 3 when nothing is cited."""
    cited = {p.chunk_id for p in answer.citations}
    out = [
        Source(n=i, cited=True, **p.to_dict())
        for i, p in enumerate(answer.passages, start=1)
        if p.chunk_id in cited
    ]
    if not out and answer.abstained:
        out = [
            Source(n=i, cited=False, **p.to_dict()) for i, p in enumerate(answer.passages[:3], 1)
        ]
    return out


def sources_text(sources: list[Source], lang: str) -> str:
    """The sources as a short Markdown list to append to the answer text ('' when none)."""
    if not sources:
        return ""
    heading = SOURCES_HEADING[lang] if sources[0].cited else NEAREST_HEADING[lang]
    lines = [f"- [{s.n}] {s.title} — {s.source}" for s in sources]
    return f"{_RULE}{heading}**\n" + "\n".join(lines)


def _token_count(text: str) -> int:
    from rag.answer.budget import TokenBudget

    return TokenBudget().count(text) if text else 0


def make_usage(answer: Answer, question: str, history: list[dict[str, str]], content: str) -> Usage:
    """The LLM's own counts when it reported them, else tiktoken counts of what was exchanged."""
    prompt = answer.usage.get("prompt_tokens")
    if prompt is None:
        prompt = _token_count(question) + sum(_token_count(h["content"]) for h in history)
    completion = answer.usage.get("completion_tokens")
    if completion is None:
        completion = _token_count(content)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def rag_info(answer: Answer, mode: str) -> RagInfo:
    return RagInfo(
        abstained=answer.abstained,
        llm=answer.llm,
        mode=mode,
        notice=answer.notice,
        standalone_question=answer.standalone_question,
        timings={k: round(v, 4) for k, v in answer.timings.items()},
    )


def _sse(payload: BaseModel | dict[str, Any]) -> bytes:
    """One ``data:`` event. Chunks leave out empty fields, as OpenAI's do, but keep
    ``finish_reason`` and ``logprobs`` (null until the end)."""
    import json

    if isinstance(payload, ChatCompletionChunk):
        data = payload.model_dump(exclude_none=True)
        for choice, model in zip(data["choices"], payload.choices, strict=True):
            choice["finish_reason"] = model.finish_reason
            choice["logprobs"] = None
    else:
        data = payload.model_dump() if isinstance(payload, BaseModel) else payload
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + text.encode("utf-8") + b"\n\n"


def sse_chat_stream(
    events: Iterator[StreamEvent],
    *,
    completion_id: str,
    model: str,
    mode: str,
    question: str,
    history: list[dict[str, str]],
    sources_in_text: bool,
    include_usage: bool = False,
    live: bool = True,
    on_close: Callable[[], None] | None = None,
) -> Iterator[bytes]:
    """Turn the chain's events into OpenAI ``chat.completion.chunk`` server-sent events.

    Tokens are sent as they come (``live``); the chain verifies the answer only at the end, so
    when the checked answer differs from what was streamed (a dropped citation, a fallback to
    an extractive answer) it follows under a heading. Status messages go out as SSE comments,
    which clients ignore. The last chunk carries ``sources``, ``rag`` and ``usage``; then
    ``data: [DONE]``. A failure mid-stream is sent as an OpenAI error event.

    Args:
        events: From :meth:`rag.Assistant.ask_stream`.
        completion_id: The ``id`` of every chunk.
        model: The ``model`` of every chunk.
        mode: The retrieval mode (reported in ``rag``).
        question: The question (for usage counts and the language of headings).
        history: The history (for usage counts).
        sources_in_text: Append the sources list to the text.
        include_usage: Also send OpenAI's usage-only chunk (``stream_options.include_usage``).
        live: Stream tokens as generated; False sends only the checked answer.
        on_close: Called once when the stream ends, however it ends.
    """
    created = int(time.time())
    lang = question_language(question)

    def chunk(delta: Delta, finish: Literal["stop"] | None = None, **extra: Any) -> bytes:
        return _sse(
            ChatCompletionChunk(
                id=completion_id,
                created=created,
                model=model,
                choices=[ChunkChoice(delta=delta, finish_reason=finish)],
                **extra,
            )
        )

    streamed: list[str] = []
    try:
        yield chunk(Delta(role="assistant", content=""))
        answer: Answer | None = None
        for event in events:
            if event.kind == "token" and live:
                streamed.append(event.text)
                yield chunk(Delta(content=event.text))
            elif event.kind == "status":
                yield f": {' '.join(event.text.split())}\n\n".encode()
            elif event.kind == "answer":
                answer = event.answer
        if answer is None:  # pragma: no cover - the chain always ends with an answer
            raise RuntimeError("the answer chain ended without an answer")
        raw = "".join(streamed).strip()
        text = answer.text.strip()
        if not raw:
            tail = text
        elif raw == text:
            tail = ""
        else:
            tail = f"\n\n{CHECKED_HEADING[lang]}\n\n{text}"
        sources = answer_sources(answer)
        if sources_in_text:
            tail += sources_text(sources, lang)
        if tail:
            yield chunk(Delta(content=tail))
        usage = make_usage(answer, question, history, "".join(streamed) + tail)
        yield chunk(Delta(), "stop", usage=usage, sources=sources, rag=rag_info(answer, mode))
        if include_usage:
            yield _sse(
                ChatCompletionChunk(
                    id=completion_id, created=created, model=model, choices=[], usage=usage
                )
            )
    except Exception as exc:
        _, body = _describe_failure(exc)
        yield _sse(body.model_dump())
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()  # stops the LLM's stream when the client went away
        if on_close is not None:
            on_close()
    yield b"data: [DONE]\n\n"


def _describe_failure(exc: BaseException) -> tuple[int, ErrorResponse]:
    """HTTP status and OpenAI error body for an exception (never a secret or a traceback)."""
    from rag.errors import StoreError

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


class AnswerSlots:
    """Lets ``limit`` answers use the LLM at once; others wait up to ``timeout`` seconds.

    At most ``max_waiting`` requests wait (each holds a worker thread); more are turned away.

    Example:
        >>> slots = AnswerSlots(1, timeout=0.01)
        >>> release = slots.acquire()
        >>> slots.acquire()
        Traceback (most recent call last):
        ...
        rag.serve.ApiError: the model is busy answering other questions; try again shortly
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
                raise _busy()
            self._waiting += 1
        try:
            got = self._sem.acquire(timeout=self._timeout)
        finally:
            with self._lock:
                self._waiting -= 1
        if not got:
            raise _busy()
        released = threading.Event()
        done = threading.Lock()

        def release() -> None:
            with done:
                if not released.is_set():
                    released.set()
                    self._sem.release()

        return release


def _busy() -> ApiError:
    return ApiError(
        503,
        "the model is busy answering other questions; try again shortly",
        type_="server_error",
        code="server_busy",
        headers={"Retry-After": "5"},
    )


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


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, str | None, str]:
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


# ---------------------------------------------------------------------------- the app
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
        api_key: When set, ``/v1/*`` requires ``Authorization: Bearer <api_key>``; when not,
            only requests addressed to a loopback name (``Host``) are answered.
        sources_in_text: Append a sources list to answer texts (a request can override it).
        live_stream: Stream tokens as generated (False: stream only the checked answer).
        llm_concurrency: Answers that may use the LLM at once (default 1 for the embedded
            model, 4 for an endpoint).
        queue_timeout: Seconds a question waits for the LLM before a 503 (default
            ``settings.llm_timeout``).
        max_body_bytes: Larger request bodies get 413.
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import iterate_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from rag import __version__
    from rag.llm.local import EmbeddedLLM

    settings = settings or assistant.settings
    started = int(time.time())
    probe = LLMProbe()
    slots_box: list[AnswerSlots] = []
    slots_lock = threading.Lock()

    def slots() -> AnswerSlots:
        with slots_lock:
            if not slots_box:
                embedded = isinstance(assistant.llm, EmbeddedLLM)
                limit = llm_concurrency or (1 if embedded else 4)
                slots_box.append(AnswerSlots(limit, queue_timeout or settings.llm_timeout))
            return slots_box[0]

    app = FastAPI(
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
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    if not api_key:
        app.add_middleware(LoopbackHostMiddleware)

    # ------------------------------------------------------------------ errors
    def error_json(status: int, body: ErrorResponse, headers: dict[str, str] | None = None):
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_json(exc.status, exc.body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        message, param, code = _validation_message(list(exc.errors()))
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
        return error_json(*_describe_failure(exc))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception):
        return error_json(*_describe_failure(exc))

    # ------------------------------------------------------------------ auth
    expected = api_key.encode("utf-8") if api_key else None

    def require_key(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> None:
        given = creds.credentials.encode("utf-8") if creds else b""
        if expected is not None and not hmac.compare_digest(given, expected):
            raise ApiError(
                401,
                "missing or wrong API key: send `Authorization: Bearer <key>` with the key the "
                "server was started with",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    guarded = [Depends(require_key)] if expected is not None else []
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorResponse, "description": "Invalid request"},
        413: {"model": ErrorResponse, "description": "Body too large"},
        500: {"model": ErrorResponse, "description": "Internal error"},
    }
    if expected is not None:
        errors[401] = {"model": ErrorResponse, "description": "Missing or wrong API key"}

    # ------------------------------------------------------------------ routes
    @app.get(
        "/v1/models",
        response_model=ModelList,
        dependencies=guarded,
        responses={k: v for k, v in errors.items() if k in (401, 500)},
    )
    def list_models() -> ModelList:
        """The models, one per retrieval mode."""
        return ModelList(
            data=[
                ModelCard(id=m, created=started, description=d)
                for m, d in MODEL_DESCRIPTIONS.items()
            ]
        )

    @app.post(
        "/v1/search",
        response_model=SearchResponse,
        dependencies=guarded,
        responses={**errors, 503: {"model": ErrorResponse, "description": "Index unreadable"}},
    )
    def search(body: SearchRequest) -> SearchResponse:
        """Passages only (no answer): the ``k`` best matches for ``query``."""
        mode = body.mode or settings.mode
        try:
            passages = assistant.retrieve(body.query, k=body.k, mode=mode)
        except QuestionError as exc:
            raise ApiError(400, str(exc), param="query", code="invalid_question") from exc
        return SearchResponse(
            query=body.query,
            mode=mode,
            k=body.k,
            data=[PassageOut(**p.to_dict()) for p in passages],
        )

    chat_responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "A chat completion (JSON), or with `stream: true` server-sent "
            "events of `chat.completion.chunk` ending with `data: [DONE]`",
            "model": ChatCompletion,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **errors,
        404: {"model": ErrorResponse, "description": "Unknown model"},
        503: {"model": ErrorResponse, "description": "The model is busy; retry later"},
    }

    @app.post(
        "/v1/chat/completions", response_model=None, dependencies=guarded, responses=chat_responses
    )
    def chat_completions(body: ChatCompletionRequest):
        """Answer the last user message from the articles (OpenAI chat format)."""
        if body.model not in MODELS:
            raise ApiError(
                404,
                f"unknown model {body.model!r}; use one of: {', '.join(MODELS)}",
                param="model",
                code="model_not_found",
            )
        mode = MODELS[body.model] or settings.mode
        question, history = split_messages(body.messages)
        try:
            question = check_question(question, settings)
        except QuestionError as exc:
            raise ApiError(
                400,
                str(exc),
                param=f"messages.{len(body.messages) - 1}.content",
                code="invalid_question",
            ) from exc
        with_sources = (
            sources_in_text if body.rag_sources_in_text is None else body.rag_sources_in_text
        )
        overrides: dict[str, Any] = {}
        wanted = body.max_completion_tokens or body.max_tokens
        if wanted:
            overrides["llm_max_tokens"] = min(wanted, settings.llm_max_tokens)
        if body.temperature is not None:
            overrides["llm_temperature"] = body.temperature
        release: Callable[[], None] = lambda: None  # noqa: E731
        if assistant.llm is not None:
            release = slots().acquire()
        try:
            if overrides:
                events = assistant.chain(**overrides).stream(
                    question, history=history, k=body.rag_k, mode=mode
                )
            else:
                events = assistant.ask_stream(question, history=history, k=body.rag_k, mode=mode)
        except BaseException:
            release()
            raise
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"

        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            stream = sse_chat_stream(
                events,
                completion_id=completion_id,
                model=body.model,
                mode=mode,
                question=question,
                history=history,
                sources_in_text=with_sources,
                include_usage=include_usage,
                live=live_stream,
                on_close=release,
            )
            weakref.finalize(stream, release)  # a stream never started still frees its slot

            async def body() -> AsyncIterator[bytes]:
                # Closing here (not when the generator is garbage-collected) frees the LLM
                # slot as soon as a client goes away mid-answer.
                try:
                    async for piece in iterate_in_threadpool(stream):
                        yield piece
                finally:
                    stream.close()
                    release()

            return StreamingResponse(
                body(),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        try:
            answer: Answer | None = None
            for event in events:
                if event.kind == "answer":
                    answer = event.answer
        finally:
            release()
        assert answer is not None  # the chain always ends with an answer
        sources = answer_sources(answer)
        content = answer.text.strip() + (
            sources_text(sources, question_language(question)) if with_sources else ""
        )
        return ChatCompletion(
            id=completion_id,
            created=int(time.time()),
            model=body.model,
            choices=[Choice(message=AssistantMessage(content=content))],
            usage=make_usage(answer, question, history, content),
            sources=sources,
            rag=rag_info(answer, mode),
        )

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Whether the index is loaded (documents, chunks), the embedder, and the LLM's state."""
        stats = assistant.stats()
        llm = assistant.llm
        if llm is None:
            llm_health = LLMHealth(kind="none", name="extractive", status="extractive answers only")
        elif isinstance(llm, EmbeddedLLM):
            llm_health = LLMHealth(kind="embedded", name=llm.name, status=llm.status)
        else:
            llm_health = LLMHealth(
                kind="endpoint",
                name=llm.name,
                status=probe.status(llm.base_url, settings.llm_api_key),
            )
        return Health(
            documents=stats.get("documents"),
            chunks=stats.get("chunks"),
            generation=stats.get("generation"),
            embedder=str(stats.get("embedder") or settings.embedder),
            mode=settings.mode,
            llm=llm_health,
        )

    # ------------------------------------------------------------------ schema
    def openapi() -> dict[str, Any]:
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

    app.openapi = openapi  # type: ignore[method-assign]
    return app


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


__all__ = [
    "MODELS",
    "ApiError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "SearchRequest",
    "ServeConfigError",
    "ServerThread",
    "check_bind",
    "create_app",
    "is_loopback",
    "sse_chat_stream",
]
