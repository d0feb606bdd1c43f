"""The request and response bodies of the API (pydantic), in OpenAI's chat format.

The passage fields come from :class:`rag.schema.Passage` (:data:`PassageOut` is derived from
it), so the API cannot drift from the Python records.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from rag.schema import Passage

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
MAX_MESSAGES = 100
MAX_K = 20


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
    include_usage: bool = Field(False, strict=True)


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
    stream: bool | None = Field(False, strict=True)
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="Lowers the answer's token budget (capped at RAG_LLM_MAX_TOKENS).",
    )
    max_completion_tokens: int | None = Field(
        None, ge=1, strict=True, description="Same as max_tokens."
    )
    temperature: float | None = Field(
        None, ge=0, le=2, strict=True, description="Sampling temperature."
    )
    n: int | None = Field(
        None, ge=1, le=1, strict=True, description="Only one choice is supported."
    )
    rag_sources_in_text: bool | None = Field(
        None,
        strict=True,
        description="Append a sources list to the answer text (default: the server's).",
    )
    # strict: JSON `true` is no number of passages (pydantic's lax mode read it as 1)
    rag_k: int | None = Field(
        None, ge=1, le=MAX_K, strict=True, description="Passages to retrieve."
    )


class SearchRequest(BaseModel):
    """``POST /v1/search``: the passages that best match a query."""

    query: str = Field(
        ..., min_length=1, description="The query (limit: RAG_MAX_QUESTION_CHARS characters)."
    )
    k: int = Field(5, ge=1, le=MAX_K, strict=True)
    mode: Literal["hybrid", "dense", "bm25"] | None = None


def _passage_model() -> type[BaseModel]:
    """``PassageOut``: the fields of :class:`rag.schema.Passage`, with their types and defaults."""
    hints = typing.get_type_hints(Passage)
    fields: dict[str, Any] = {
        f.name: (hints[f.name], ... if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(Passage)
    }
    model = create_model("PassageOut", __module__=__name__, **fields)
    model.__doc__ = "A retrieved passage (the fields of :class:`rag.schema.Passage`)."
    return model


# ---------------------------------------------------------------------------- response models
PassageOut = _passage_model()


class Source(PassageOut):  # type: ignore[misc,valid-type]
    """A passage of an answer: ``n`` is its number in the text's ``[n]``; ``url`` is the link to
    open for it (the web page, or a PDF at the cited page), absent for local files."""

    n: int
    cited: bool = True
    url: str | None = None


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
    coverage: float | None = None  # P(the articles cover the question), when computed
    unsupported_claims: list[dict[str, str]] = Field(default_factory=list)  # removed, with why
    model_text: str | None = None  # what the LLM wrote, before the claim check
    claims: list[dict[str, Any]] = Field(default_factory=list)  # every clause and its verdict


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


class Draft(BaseModel):
    """The instant extractive answer, sent before the model's tokens in its own chunk (with an
    empty delta, so the OpenAI stream stays valid); the final answer replaces it."""

    text: str
    sources: list[Source]


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
    rag_draft: Draft | None = None


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
    data: list[PassageOut]  # type: ignore[valid-type]


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
