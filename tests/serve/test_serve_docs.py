"""``/docs``, ``/redoc`` and ``/openapi.json``: open on loopback without a key; behind the key
(schema) or off (browsable pages) when the server has one (issue 18)."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from rag.config import Settings
from rag.serve.app import ServerThread, create_app

KEY = "docs-test-key-0123456789"


@pytest.fixture(scope="module")
def stub() -> SimpleNamespace:
    """No route under test touches the index: an assistant with settings is enough."""
    return SimpleNamespace(settings=Settings.load(env={}))


def test_with_a_key_the_schema_needs_it_and_the_docs_pages_are_off(stub) -> None:
    with ServerThread(create_app(stub, api_key=KEY)) as s:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert httpx.get(s.url + path).status_code == 404, path
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Host": "rag.example"}):
            denied = httpx.get(s.url + "/openapi.json", headers=headers)
            assert denied.status_code == 401, headers
            assert denied.json()["error"]["code"] == "invalid_api_key"
        ok = httpx.get(
            s.url + "/openapi.json",
            headers={"Authorization": f"Bearer {KEY}", "Host": "rag.example"},
        )
        assert ok.status_code == 200 and "/v1/chat/completions" in ok.json()["paths"]
        assert "/openapi.json" not in ok.json()["paths"]


def test_without_a_key_the_docs_answer_loopback_names_only(stub) -> None:
    with ServerThread(create_app(stub)) as s:
        assert httpx.get(s.url + "/docs").status_code == 200
        assert "/v1/search" in httpx.get(s.url + "/openapi.json").json()["paths"]
        other = httpx.get(s.url + "/openapi.json", headers={"Host": "rag.example"})
        assert other.status_code == 400 and other.json()["error"]["code"] == "invalid_host"
