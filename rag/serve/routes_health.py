"""``GET /health``: the index, the embedder and the LLM's state (never behind the API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from rag.serve.models import Health, LLMHealth
from rag.serve.state import ServeState, serve_state

router = APIRouter()


@router.get("/health", response_model=Health)
def health(state: Annotated[ServeState, Depends(serve_state)]) -> Health:
    """Whether the index is loaded (documents, chunks), the embedder, and the LLM's state."""
    from rag.llm.local import EmbeddedLLM

    settings = state.settings
    stats = state.assistant.stats()
    llm = state.assistant.llm
    if llm is None:
        llm_health = LLMHealth(kind="none", name="extractive", status="extractive answers only")
    elif isinstance(llm, EmbeddedLLM):
        llm_health = LLMHealth(kind="embedded", name=llm.name, status=llm.status)
    else:
        llm_health = LLMHealth(
            kind="endpoint",
            name=llm.name,
            status=state.probe.status(llm.base_url, settings.llm_api_key),
        )
    return Health(
        documents=stats.get("documents"),
        chunks=stats.get("chunks"),
        generation=stats.get("generation"),
        embedder=str(stats.get("embedder") or settings.embedder),
        mode=settings.mode,
        llm=llm_health,
    )
