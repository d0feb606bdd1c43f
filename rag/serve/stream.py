"""Streamed answers: the chain's events as OpenAI ``chat.completion.chunk`` server-sent events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from rag.schema import Answer
from rag.serve.convert import CHECKED_HEADING, answer_sources, make_usage, rag_info, sources_text
from rag.serve.errors import describe_failure
from rag.serve.models import ChatCompletionChunk, ChunkChoice, Delta, Draft
from rag.text.language import question_language

if TYPE_CHECKING:
    from rag.answer.chain import StreamEvent


def _sse(payload: BaseModel | dict[str, Any]) -> bytes:
    """One ``data:`` event. Chunks leave out empty fields, as OpenAI's do, but keep
    ``finish_reason`` and ``logprobs`` (null until the end)."""
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
    which clients ignore. The extractive draft goes out at once in a chunk of its own (empty
    delta, the draft in ``rag_draft``). The last chunk carries ``sources``, ``rag`` and
    ``usage``; then ``data: [DONE]``. A failure mid-stream is sent as an OpenAI error event.

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
            elif event.kind == "draft" and event.answer is not None:
                draft = Draft(text=event.text, sources=answer_sources(event.answer))
                yield chunk(Delta(), rag_draft=draft)
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
        _, body = describe_failure(exc)
        yield _sse(body.model_dump())
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()  # stops the LLM's stream when the client went away
        if on_close is not None:
            on_close()
    yield b"data: [DONE]\n\n"
