"""Crawled and PDF sources on the chat page: links to the page (a PDF at its page), and the index
panel's "add a URL" control, run against the loopback fixture blog (tests/fixture_site.py).
The page's ``/add_url`` endpoint is exercised in test_ui.py (on the page it already serves)."""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.ui.render import _source_html
from tests.fixture_site import Site


def test_sources_link_to_the_page_or_the_pdf_page() -> None:
    pdf = "https://arxiv.example.org/pdf/2305.18290.pdf, p. 4"
    assert 'href="https://arxiv.example.org/pdf/2305.18290.pdf#page=4"' in _source_html(pdf)
    assert ">https://arxiv.example.org/pdf/2305.18290.pdf, p. 4</a>" in _source_html(pdf)
    web = "https://blog.example.org/posts/dpo.html"
    assert f'href="{web}"' in _source_html(web)
    assert "<a" not in _source_html("papers/flash.pdf, pp. 2-3")
    assert "<a" not in _source_html('javascript:alert(1)"')


def test_chat_page_adds_an_article_by_url(
    small_site: Site, base_settings: Settings, embedder, tmp_path: Path
) -> None:
    from ingest.pipeline import ingest
    from rag.api import Assistant
    from rag.store.factory import open_store
    from rag.ui.chat import ChatUI

    site = small_site
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.txt").write_text("Rectified Flow 让 ODE 轨迹变直。", encoding="utf-8")
    settings = base_settings.replace(
        index_dir=tmp_path / "index", crawl_allow_private=True, crawl_delay=0.0
    )
    ingest([notes], settings, progress=False, embedder=embedder, log=lambda _m: None)
    assistant = Assistant(settings, open_store(settings), embedder, llm="none")
    try:
        ui = ChatUI(assistant, settings)
        report, panel = ui.add_url(site.article_url("ddim"))
        assert "✓ added" in report and f'href="{site.article_url("ddim")}"' in report
        assert "<b>2</b> documents" in panel
        top = assistant.retrieve("DDIM 需要重新训练模型吗?", k=1)[0]
        assert top.source == site.article_url("ddim")

        report, _ = ui.add_url(site.url("/posts/missing.html"))
        assert f"✗ {site.url('/posts/missing.html')}: HTTP 404 Not Found" in report
        report, _ = ui.add_url("file:///etc/passwd")
        assert "enter an http(s):// address" in report
        assert assistant.stats()["documents"] == 2  # nothing lost

        # The server's settings decide: loopback is refused unless it allows private addresses.
        assistant.settings = settings.replace(crawl_allow_private=False)
        report, _ = ui.add_url(site.article_url("dpo"))
        assert "private or loopback address" in report
    finally:
        assistant.close()
