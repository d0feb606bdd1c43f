"""Fixtures of the answer-chain tests: a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import pytest

from rag.llm.client import LLM
from tests.scripted_llm import ScriptedLLM

SECRET = "sk-test-DO-NOT-LEAK-1234567890"


@pytest.fixture(scope="module")
def server():
    with ScriptedLLM() as s:
        yield s


@pytest.fixture()
def llm(server: ScriptedLLM):
    """A client of ``server`` with its queue and request log emptied."""
    server.reset()
    client = LLM(server.base_url, "scripted", api_key=SECRET, timeout=3.0, retries=1)
    yield client
    client.close()
