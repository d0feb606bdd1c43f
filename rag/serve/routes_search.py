"""``GET /v1/models`` (one model per retrieval mode) and ``POST /v1/search`` (passages only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from rag.errors import QuestionError
from rag.serve.errors import ERROR_RESPONSES, ApiError
from rag.serve.models import (
    MODEL_DESCRIPTIONS,
    ErrorResponse,
    ModelCard,
    ModelList,
    PassageOut,
    SearchRequest,
    SearchResponse,
)
from rag.serve.state import ServeState, serve_state

router = APIRouter()
State = Annotated[ServeState, Depends(serve_state)]


@router.get("/v1/models", response_model=ModelList, responses={500: ERROR_RESPONSES[500]})
def list_models(state: State) -> ModelList:
    """The models, one per retrieval mode."""
    return ModelList(
        data=[
            ModelCard(id=m, created=state.started, description=d)
            for m, d in MODEL_DESCRIPTIONS.items()
        ]
    )


@router.post(
    "/v1/search",
    response_model=SearchResponse,
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorResponse, "description": "Index unreadable"},
    },
)
def search(body: SearchRequest, state: State) -> SearchResponse:
    """Passages only (no answer): the ``k`` best matches for ``query``."""
    mode = body.mode or state.settings.mode
    try:
        passages = state.assistant.retrieve(body.query, k=body.k, mode=mode)
    except QuestionError as exc:
        raise ApiError(400, str(exc), param="query", code="invalid_question") from exc
    return SearchResponse(
        query=body.query,
        mode=mode,
        k=body.k,
        data=[PassageOut(**p.to_dict()) for p in passages],
    )
