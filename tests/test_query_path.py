"""The query path never imports torch, transformers or sentence-transformers.

Each check runs in a fresh interpreter (the test process has imported them long ago) and reads
``sys.modules`` at the end: ``rag search`` from the CLI; and ``from rag import Assistant``,
``Assistant.retrieve``, ``rag ask --no-llm``, the ``rag serve`` app answering ``/v1/search`` and
the chat page answering a question. Only onnxruntime, tokenizers, numpy, faiss and the BM25 index
are what a question needs (the torch backend is opt-in: ``RAG_EMBED_BACKEND=torch``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT, Settings

HEAVY = ("torch", "transformers", "sentence_transformers")

CLI_SEARCH = """
import json, sys
from rag.cli import main
code = main(["search", "DPO 为什么不需要奖励模型?", "--k", "2", "--json"])
assert code == 0, code
print("HEAVY=" + json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""

EVERY_FRONT_END = """
import json, sys
from rag import Assistant
a = Assistant.open(llm="none", auto_ingest=False, progress=False)
assert a.retrieve("DDIM 需要重新训练模型吗?", k=2)
from rag.cli import main
assert main(["ask", "DDIM 需要重新训练模型吗?", "--no-llm", "--quiet", "--no-stream"]) == 0
from fastapi.testclient import TestClient
from rag.serve.app import create_app
with TestClient(create_app(a), base_url="http://127.0.0.1") as client:
    r = client.post("/v1/search", json={{"query": "FlashAttention 为什么快?", "k": 2}})
    assert r.status_code == 200 and r.json()["data"], r.text
from rag.ui.chat import ChatUI
from rag.ui.layout import build_page
ui = ChatUI(a)
build_page(ui)
*_, last = ui.respond("YOLO 是什么?", [], None, "hybrid", 3, "none", "", "", "", 0.1)
assert last[0], last
print("HEAVY=" + json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def run_fresh(code: str, settings: Settings) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(
        RAG_CACHE_DIR=str(settings.cache_dir),
        RAG_INDEX_DIR=str(settings.index_dir),
        RAG_EMBED_BACKEND=settings.embed_backend,
        RAG_THREADS="2",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    out = subprocess.run(
        [sys.executable, "-c", code.format(heavy=repr(HEAVY))],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY="))
    return json.loads(line.removeprefix("HEAVY="))


def test_rag_search_does_not_import_torch(articles_settings: Settings, articles_index) -> None:
    assert run_fresh(CLI_SEARCH, articles_settings) == []


@pytest.mark.slow
def test_no_front_end_imports_torch_to_answer(articles_settings, articles_index) -> None:
    assert run_fresh(EVERY_FRONT_END, articles_settings) == []
