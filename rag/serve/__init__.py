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

Modules: :mod:`~rag.serve.app` (the app), :mod:`~rag.serve.routes_chat`,
:mod:`~rag.serve.routes_search`, :mod:`~rag.serve.routes_health` (the routes),
:mod:`~rag.serve.models` (bodies), :mod:`~rag.serve.convert` and :mod:`~rag.serve.stream`
(answers in OpenAI's shapes), :mod:`~rag.serve.errors`, :mod:`~rag.serve.security`,
:mod:`~rag.serve.state` (what the routes share).
"""

from __future__ import annotations

from rag.serve.app import ServerThread, create_app

__all__ = ["ServerThread", "create_app"]
