"""Property-based tests of ``rag serve`` against its own OpenAPI schema (schemathesis).

Generated requests (valid and invalid) must never cause a 5xx, and every response must match
what the schema documents (status codes, content types, bodies). Answers are extractive here
(the session ``assistant`` has no LLM), so each request is fast.
"""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from rag.config import Settings
from rag.serve.app import ServerThread, create_app


@pytest.fixture(scope="module")
def served(assistant):
    with ServerThread(create_app(assistant)) as server:
        yield server


# The schema is built at import time (schemathesis parametrizes tests at collection); the app
# needs no index for that. Its lazy ``from_fixture`` loader does not work with pytest 9.
SPEC = create_app(cast(Any, None), settings=Settings.load(env={})).openapi()
schema = schemathesis.openapi.from_dict(SPEC)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case, served: ServerThread) -> None:
    # All default checks (no 5xx; status codes, content types and bodies as documented;
    # invalid data rejected) except "schema-valid data is accepted": some rules cannot be
    # written in JSON Schema (the last message is the user's; the question is not blank and
    # within RAG_MAX_QUESTION_CHARS) and are answered with a documented 400 instead.
    case.call_and_validate(
        base_url=served.url, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )


def test_schema_documents_openai_errors_not_fastapi_422(served: ServerThread) -> None:
    spec = httpx.get(served.url + "/openapi.json").json()
    assert spec == SPEC  # what the generated tests used is what the server publishes
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert (
        "422" not in chat["responses"]
        and "HTTPValidationError" not in spec["components"]["schemas"]
    )
    assert chat["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    request = spec["components"]["schemas"]["ChatCompletionRequest"]
    assert request["properties"]["messages"]["maxItems"] == 100
    assert "2,000 characters" in spec["info"]["description"]
