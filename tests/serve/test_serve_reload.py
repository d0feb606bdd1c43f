"""A running ``rag serve`` follows the index: a new ingest is searchable without a restart, and
the generation it replaced is closed (issue 18)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import ingest
from rag.api import Assistant
from rag.config import Settings
from rag.serve.app import ServerThread, create_app
from rag.store.factory import open_store

DOCS = {
    "dpo.md": "---\nid: dpo\ntitle: DPO\n---\nDPO 直接用偏好数据优化策略，不需要单独的奖励模型。\n",
    "ddim.md": "---\nid: ddim\ntitle: DDIM\n---\nDDIM 不需要重新训练模型，采样步数可以大幅减少。\n",
}
NEW = "---\nid: zebra\ntitle: Zebrafish\n---\nZebrafish 斑马鱼模型用于研究脊椎动物的发育。\n"


def quiet(msg: str) -> None:
    pass


def held_open(gen_dir: Path) -> list[str]:
    """Files of ``gen_dir`` this process has open or mapped (Linux /proc)."""
    prefix = str(gen_dir)
    found = [line for line in Path("/proc/self/maps").read_text().splitlines() if prefix in line]
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(prefix):
            found.append(target)
    return found


def released(gen_dir: Path, seconds: float = 5.0) -> list[str]:
    """:func:`held_open` once the old generation is closed, or what is still held after
    ``seconds``: the generation closes when its last request is done, which may be a moment
    after the client has read the response that saw the switch (a loaded machine)."""
    deadline = time.monotonic() + seconds
    while (held := held_open(gen_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    return base_settings.replace(index_dir=tmp_path / "index")


def search(server: ServerThread, query: str) -> list[str]:
    resp = httpx.post(f"{server.base_url}/search", json={"query": query, "k": 3}, timeout=30)
    resp.raise_for_status()
    return [p["doc_id"] for p in resp.json()["data"]]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_serve_sees_a_new_ingest_without_a_restart_and_closes_the_old_generation(
    corpus: Path, settings: Settings, embedder
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assistant = Assistant(settings, open_store(settings), embedder, llm="none")
    assistant.reload_check_seconds = 0.2
    with ServerThread(create_app(assistant)) as server:
        assert httpx.get(f"{server.url}/health").json()["generation"] == first.generation
        assert "zebra" not in search(server, "斑马鱼 Zebrafish")
        old_dir = settings.index_dir / first.generation
        assert held_open(old_dir)  # the server reads it

        (corpus / "zebra.md").write_text(NEW, encoding="utf-8")
        second = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
        deadline = time.monotonic() + 10
        while "zebra" not in search(server, "斑马鱼 Zebrafish"):
            assert time.monotonic() < deadline, "the server never saw the new document"
            time.sleep(0.1)
        health = httpx.get(f"{server.url}/health").json()
        assert health["generation"] == second.generation and health["documents"] == 3
        assert released(old_dir) == []  # switched between requests, old files closed

        (corpus / "ddim.md").unlink()
        third = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/health").json()["generation"] != third.generation:
            assert time.monotonic() < deadline, "the server never switched again"
            time.sleep(0.1)
        assert not old_dir.exists()  # removed by the third ingest, and not held by the server
        assert released(settings.index_dir / second.generation) == []
    assistant.close()


def test_a_request_keeps_its_generation_until_it_is_done(
    corpus: Path, settings: Settings, embedder
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assistant = Assistant(settings, open_store(settings), embedder, llm="none")
    assistant.reload_check_seconds = 0
    chain = assistant.chain()  # a request that started on the first generation
    old_store = chain.retriever.store
    (corpus / "zebra.md").write_text(NEW, encoding="utf-8")
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert any(p.doc_id == "zebra" for p in assistant.retrieve("斑马鱼 Zebrafish", k=3))
    assert assistant.stats()["generation"] != first.generation
    # the running request still reads its own generation, which stays open until it is done
    answer = chain.ask("DDIM 需要重新训练模型吗?")
    assert answer.passages and all(p.doc_id != "zebra" for p in answer.passages)
    assert old_store.db is not None and old_store.dense is not None
    del chain, answer
    assert old_store.dense is None  # closed once its last reader went away
    assistant.close()


def test_a_damaged_pointer_keeps_the_open_generation(
    corpus: Path, settings: Settings, embedder
) -> None:
    first = ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assistant = Assistant(settings, open_store(settings), embedder, llm="none")
    assistant.reload_check_seconds = 0
    warnings: list[str] = []
    assistant._log = warnings.append
    (settings.index_dir / "CURRENT").write_text("../elsewhere\n", encoding="utf-8")
    for _ in range(3):
        assert [p.doc_id for p in assistant.retrieve("DDIM 重新训练", k=1)] == ["ddim"]
    assert assistant.stats()["generation"] == first.generation
    assert len(warnings) == 1 and "damaged" in warnings[0]
    assistant.close()
