"""``POST /v1/chat/completions``: answer the last user message from the articles.

JSON, or server-sent events with ``stream: true`` (:mod:`rag.serve.stream`). The LLM is shared:
an answer holds one of its slots (:class:`rag.serve.state.AnswerSlots`) until it is done or the
client goes away.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from rag.answer.guard import check_question
from rag.errors import QuestionError
from rag.schema import Answer
from rag.serve.convert import answer_sources, make_usage, rag_info, sources_text, split_messages
from rag.serve.errors import ERROR_RESPONSES, ApiError
from rag.serve.models import (
    MODELS,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    ErrorResponse,
)
from rag.serve.state import ServeState, serve_state
from rag.serve.stream import sse_chat_stream
from rag.text.language import question_language

if TYPE_CHECKING:
    from rag.answer.chain import StreamEvent

router = APIRouter()

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat completion (JSON), or with `stream: true` server-sent "
        "events of `chat.completion.chunk` ending with `data: [DONE]`",
        "model": ChatCompletion,
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **ERROR_RESPONSES,
    404: {"model": ErrorResponse, "description": "Unknown model"},
    503: {"model": ErrorResponse, "description": "The model is busy; retry later"},
}


@router.post("/v1/chat/completions", response_model=None, responses=RESPONSES)
def chat_completions(
    body: ChatCompletionRequest, state: Annotated[ServeState, Depends(serve_state)]
):
    """Answer the last user message from the articles (OpenAI chat format)."""
    mode, question, history = _parse(body, state)
    with_sources = (
        state.sources_in_text if body.rag_sources_in_text is None else body.rag_sources_in_text
    )
    release: Callable[[], None] = lambda: None  # noqa: E731
    if state.assistant.llm is not None:
        release = state.slots().acquire()
    try:
        events = _events(body, state, question, history, mode)
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
            live=state.live_stream,
            on_close=release,
        )
        return _streaming_response(stream, release)
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


def _parse(body: ChatCompletionRequest, state: ServeState) -> tuple[str, str, list[dict[str, str]]]:
    """The retrieval mode, the checked question and the history of a request."""
    if body.model not in MODELS:
        raise ApiError(
            404,
            f"unknown model {body.model!r}; use one of: {', '.join(MODELS)}",
            param="model",
            code="model_not_found",
        )
    mode = MODELS[body.model] or state.settings.mode
    question, history = split_messages(body.messages)
    try:
        question = check_question(question, state.settings)
    except QuestionError as exc:
        raise ApiError(
            400,
            str(exc),
            param=f"messages.{len(body.messages) - 1}.content",
            code="invalid_question",
        ) from exc
    return mode, question, history


def _events(
    body: ChatCompletionRequest,
    state: ServeState,
    question: str,
    history: list[dict[str, str]],
    mode: str,
) -> Iterator[StreamEvent]:
    """The answer chain's events, with the request's token budget and temperature."""
    overrides: dict[str, Any] = {}
    wanted = body.max_completion_tokens or body.max_tokens
    if wanted:
        overrides["llm_max_tokens"] = min(wanted, state.settings.llm_max_tokens)
    if body.temperature is not None:
        overrides["llm_temperature"] = body.temperature
    assistant = state.assistant
    if overrides:
        return assistant.chain(**overrides).stream(
            question, history=history, k=body.rag_k, mode=mode
        )
    return assistant.ask_stream(question, history=history, k=body.rag_k, mode=mode)


def _streaming_response(stream: Iterator[bytes], release: Callable[[], None]) -> StreamingResponse:
    weakref.finalize(stream, release)  # a stream never started still frees its slot

    async def body() -> AsyncIterator[bytes]:
        # Closing here (not when the generator is garbage-collected) frees the LLM
        # slot as soon as a client goes away mid-answer.
        try:
            async for piece in iterate_in_threadpool(stream):
                yield piece
        finally:
            stream.close()  # type: ignore[attr-defined]
            release()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
