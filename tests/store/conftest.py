"""Stores under test: the session's local index, and the same articles in Milvus Lite.

Milvus Lite serves the Milvus gRPC API two ways and both are used: embedded (a ``.db`` path,
served in this process) and as a separate ``milvus-lite server`` process on a loopback port,
which is the protocol a Milvus cluster speaks. The articles are ingested into each once per
session (vectors come from the embedding cache of the session's local index, so nothing is
embedded twice).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.api import Assistant
from rag.config import Settings
from rag.store.factory import open_store
from rag.store.local.layout import CACHE_DB
from tests.conftest import ARTICLES


def quiet(msg: str) -> None:
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """A ``milvus-lite server`` process on a free loopback port; yields its milvus:// URI."""
    pytest.importorskip("milvus_lite")
    data = tmp_path_factory.mktemp("milvus-server")
    port = free_port()
    log = open(data.parent / "milvus-server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "milvus_lite",
            "server",
            "--data-dir",
            str(data / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    uri = f"milvus://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"milvus-lite server exited: {(data.parent / 'milvus-server.log').read_text()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def milvus_settings(articles_settings: Settings, tmp: Path, store: str) -> Settings:
    """Settings for a Milvus store whose work dir starts with the local index's embedding cache."""
    tmp.mkdir(parents=True, exist_ok=True)
    cache = Path(articles_settings.index_dir) / CACHE_DB
    if cache.exists() and not (tmp / CACHE_DB).exists():
        shutil.copy(cache, tmp / CACHE_DB)
    return articles_settings.replace(index_dir=tmp, vector_store=store)


def _articles_in(settings: Settings, embedder):
    report = ingest([ARTICLES], settings, progress=False, embedder=embedder, log=quiet)
    return settings, report, Assistant(settings, open_store(settings), embedder, llm="none")


@pytest.fixture(scope="session")
def milvus_lite_articles(articles_settings, articles_index, embedder, tmp_path_factory):
    """The articles in embedded Milvus Lite: (settings, ingest report, assistant)."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    tmp = tmp_path_factory.mktemp("milvus-embedded")
    store = f"milvus-lite://{tmp / 'articles.db'}"
    settings, report, a = _articles_in(
        milvus_settings(articles_settings, tmp / "work", store), embedder
    )
    yield settings, report, a
    a.close()


@pytest.fixture(scope="session")
def milvus_server_articles(
    milvus_server, articles_settings, articles_index, embedder, tmp_path_factory
):
    """The articles behind the loopback ``milvus-lite server``: (settings, report, assistant)."""
    tmp = tmp_path_factory.mktemp("milvus-server")
    store = milvus_server + "?collection=articles"
    settings, report, a = _articles_in(
        milvus_settings(articles_settings, tmp / "work", store), embedder
    )
    yield settings, report, a
    a.close()


@pytest.fixture(params=["embedded", "server"])
def milvus_articles(request):
    """Each Milvus mode in turn: (kind, settings, ingest report, assistant)."""
    name = "milvus_lite_articles" if request.param == "embedded" else "milvus_server_articles"
    settings, report, a = request.getfixturevalue(name)
    return request.param, settings, report, a
