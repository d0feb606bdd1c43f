"""The chat page in a real headless Chromium, answering with the REAL embedded local model.

Debian's ``/usr/bin/chromium`` (``make browser-deps``) is driven by Playwright; no browser is
downloaded (never ``playwright install``). One question goes through the whole real path:
retrieval, the bundled Qwen model started in the background, streaming, citation checking,
then a click on a citation must show that exact passage inside its article. A screenshot is
kept in ``test-artifacts/ui-answer.png``; with ``RAG_UI_DOCS_SCREENSHOT=1`` a compressed copy
is also written to ``docs/ui-screenshot.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
QUESTION = "How many parameters does DeepSeek-V3 activate for each token?"
ANSWER_TIMEOUT_MS = 420_000  # generous: 2 shared cores; nothing here asserts speed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def real_app(
    articles_settings: Settings,
    articles_index,
    embedder,
    embedded_llm,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SimpleNamespace]:
    """The page over a copy of the articles index, answering with the session's embedded model."""
    from rag.api import Assistant
    from rag.store.factory import open_store
    from rag.ui import build_app, launch

    root = tmp_path_factory.mktemp("ui-browser")
    shutil.copytree(articles_settings.index_dir, root / "index")  # the upload must stay local
    settings = articles_settings.replace(index_dir=root / "index", llm_temperature=0.0)
    assert settings.uses_embedded_llm
    assistant = Assistant(settings, open_store(settings), embedder, llm=embedded_llm)
    app = build_app(assistant, upload_dir=root / "uploads", preload_llm=True)
    url = launch(app, settings, port=_free_port(), prevent_thread_lock=True, quiet=True)
    yield SimpleNamespace(url=url, assistant=assistant, root=root)
    app.close()
    assistant.store.close()  # not assistant.close(): the model belongs to the session


@pytest.fixture(scope="module")
def page(real_app: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_real_model_answer_then_citation_shows_the_passage(
    real_app: SimpleNamespace, page: Any
) -> None:
    page.goto(real_app.url)
    box = page.locator("#rag-question textarea")
    box.wait_for(timeout=60_000)
    box.fill(QUESTION)
    started = time.monotonic()
    box.press("Enter")

    # the retrieved passages are on screen before the answer is finished
    page.locator("#rag-sources .rag-src").first.wait_for(timeout=120_000)
    shown_at = time.monotonic() - started
    assert page.locator("#rag-chat .rag-meta").count() == 0

    first_token = None
    deadline = started + ANSWER_TIMEOUT_MS / 1000
    while time.monotonic() < deadline and page.locator("#rag-chat .rag-meta").count() == 0:
        if first_token is None and page.locator("#rag-chat .rag-cursor").count():
            first_token = time.monotonic() - started
        time.sleep(0.1)
    meta = page.locator("#rag-chat .rag-meta").last
    meta.wait_for(timeout=5_000)
    total = time.monotonic() - started
    answer = page.locator("#rag-chat .bot").last.inner_text()
    print(
        f"\npassages after {shown_at:.1f}s, first token seen after "
        f"{first_token if first_token is None else round(first_token, 1)}s, done after "
        f"{total:.1f}s; answer: {answer!r}"
    )

    # the real model answered (not the extractive fallback), with a clickable citation
    assert real_app.assistant.llm.name in meta.inner_text()
    assert "rag-abstain" not in page.locator("#rag-chat .bot").last.inner_html()
    assert "37" in answer
    cite = page.locator("#rag-chat a.cite").first
    href = cite.get_attribute("href") or ""
    m = re.fullmatch(r"#cite-(\d+)-(\d+)", href)
    assert m, href
    card = page.locator(f"#src-{m.group(1)}-{m.group(2)}")
    card_title = card.locator(".rag-title").inner_text()
    card_text = card.locator(".rag-src-text").inner_text()

    cite.click()
    shown = page.locator("#rag-passage .rag-passage")
    shown.wait_for(timeout=30_000)
    assert _norm(shown.inner_text()) == _norm(card_text)
    assert page.locator("#rag-passage .rag-title").inner_text() == card_title
    assert page.locator("#rag-passage mark").count() > 0  # the question's words are marked
    store = real_app.assistant.store
    doc_ids = [d["doc_id"] for d in store.documents() if d["title"] == card_title]
    assert doc_ids and _norm(card_text) in _norm(store.document_text(doc_ids[0]) or "")
    assert (
        page.locator("#rag-passage .rag-doc-body").inner_text().strip()
        != shown.inner_text().strip()
    )

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"))
    if os.environ.get("RAG_UI_DOCS_SCREENSHOT"):
        _docs_screenshot(page, PROJECT_ROOT / "docs" / "ui-screenshot.png")


def test_examples_settings_abstention_and_clear_in_the_browser(
    real_app: SimpleNamespace, page: Any
) -> None:
    page.goto(real_app.url)
    page.locator("#rag-question textarea").wait_for(timeout=60_000)
    page.locator("#rag-settings").get_by_text("Settings").first.click()
    page.get_by_label("Extractive (no LLM): quote the best sentences").check()
    page.get_by_role("button", name="LoRA 的秩一般取多少?").click()
    box = page.locator("#rag-chat .rag-abstain")
    box.wait_for(timeout=120_000)
    assert "Not covered by the articles" in box.inner_text()
    style = box.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert style == "dashed"  # styled apart from answers, not just worded differently
    assert "Nearest passages" in page.locator("#rag-sources").inner_text()
    page.locator("#rag-clear").click()
    page.wait_for_function(
        "document.querySelectorAll('#rag-chat .message').length === 0", timeout=30_000
    )
    assert page.locator("#rag-sources .rag-src").count() == 0


def test_upload_in_the_browser_makes_the_file_searchable(
    real_app: SimpleNamespace, page: Any, tmp_path: Path
) -> None:
    doc = tmp_path / "my notes?.md"
    doc.write_text(
        "# Quokka 蒸馏法\n\nQuokka 蒸馏法用三只袋鼠老师来教一个学生模型。\n", encoding="utf-8"
    )
    page.goto(real_app.url)
    page.locator("#rag-question textarea").wait_for(timeout=60_000)
    page.locator("#rag-index").get_by_text("Index and uploads").first.click()
    page.locator("#rag-files input[type=file]").set_input_files(str(doc))
    # uploaded to the server once the file row has its download link
    page.locator("#rag-files tr.file a.download-link").wait_for(timeout=60_000)
    page.locator("#rag-add").click()
    page.locator("#rag-upload-report").get_by_text("added Quokka 蒸馏法").wait_for(timeout=120_000)
    assert "Quokka 蒸馏法" in (page.locator("#rag-index-info").text_content() or "")
    assert (real_app.root / "uploads" / "my_notes.md").is_file()
    page.locator("#rag-settings").get_by_text("Settings").first.click()
    page.get_by_label("Extractive (no LLM): quote the best sentences").check()
    box = page.locator("#rag-question textarea")
    box.fill("Quokka 蒸馏法用几只袋鼠老师?")
    box.press("Enter")
    page.locator("#rag-chat .rag-meta").wait_for(timeout=120_000)
    assert "三只袋鼠老师" in page.locator("#rag-chat .bot").last.inner_text()
    assert "Quokka 蒸馏法" in page.locator("#rag-sources .rag-title").first.inner_text()


def _docs_screenshot(page: Any, out: Path) -> None:
    """A README-sized copy (palette PNG, well under 300 KB)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(page.screenshot()))
    image = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
