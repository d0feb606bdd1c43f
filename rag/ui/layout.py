"""The page's layout: the Gradio blocks, their events, and the page's own CSS and script.

The CSS and the script live in ``static/`` (package data). The script, installed once per page
by the header's ``js_on_load``, adds the styles and one page-level click listener that writes
``T:N`` of a clicked citation into a hidden textbox and clicks a hidden button, whose handler
(:meth:`rag.ui.chat.ChatUI.show_passage`, also the ``/show_passage`` API) renders the passage.

Example:
    >>> from rag import Assistant
    >>> assistant = Assistant.open()                            # doctest: +SKIP
    >>> app = build_app(assistant)                              # doctest: +SKIP
    >>> launch(app, assistant.settings, host="127.0.0.1")       # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.ui.chat import EXAMPLES, LLM_ENDPOINT, ChatUI, new_session, start_llm_in_background
from rag.ui.render import _PASSAGE_EMPTY, _SOURCES_EMPTY, _status
from rag.ui.uploads import ALLOWED_EXTENSIONS

if TYPE_CHECKING:
    import gradio as gr

    from rag.api import Assistant

STATIC = Path(__file__).resolve().parent / "static"
ANSWER_CONCURRENCY = 4

_SCROLL_JS = """() => {
  const el = document.getElementById('rag-focus');
  if (el) el.scrollIntoView({block: 'center', behavior: 'smooth'});
}"""


@functools.cache
def page_css() -> str:
    """The page's styles (``static/page.css``)."""
    return (STATIC / "page.css").read_text(encoding="utf-8")


@functools.cache
def page_js() -> str:
    """The page's script (``static/page.js``); ``__CSS__`` stands for the styles."""
    return (STATIC / "page.js").read_text(encoding="utf-8")


def build_page(ui: ChatUI) -> gr.Blocks:
    """The page, wired to ``ui``'s handlers."""
    import gradio as gr

    s = ui.settings
    badge, polling = ui.model_status()
    with gr.Blocks(title="Ask the articles", fill_width=True, analytics_enabled=False) as app:
        with gr.Row(equal_height=True):
            gr.HTML(
                '<div class="rag-header"><h1>Ask the articles</h1>'
                "<p>Ask in Chinese or English. Answers come only from the indexed articles, "
                "with numbered citations: click [n] to read the passage in its article.</p>"
                "</div>",
                js_on_load=page_js().replace("__CSS__", json.dumps(page_css())),
                padding=False,
                scale=4,
            )
            model_badge = gr.HTML(badge, elem_id="rag-model-badge", padding=False, scale=2)
        session = gr.State(new_session())
        with gr.Row(equal_height=False):
            with gr.Column(scale=6, min_width=420):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="rag-chat",
                    height=470,
                    buttons=["copy"],
                    feedback_options=None,
                    placeholder=(
                        "**Ask a question about the articles** — DPO, FlashAttention, DDIM, "
                        "DeepSeek-V3, YOLO, reinforcement learning, recommender systems…"
                    ),
                )
                status = gr.HTML(_status("ready"), elem_id="rag-status", padding=False)
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask in Chinese or English, e.g. DDIM 需要重新训练模型吗?",
                        lines=1,
                        max_lines=6,
                        scale=8,
                        elem_id="rag-question",
                        autofocus=True,
                    )
                    ask = gr.Button(
                        "Ask", variant="primary", scale=1, min_width=90, elem_id="rag-ask"
                    )
                    clear = gr.Button("Clear chat", scale=1, min_width=130, elem_id="rag-clear")
                with gr.Row(elem_id="rag-examples"):
                    example_buttons = [
                        gr.Button(q, size="sm", variant="secondary", min_width=120)
                        for q in ui.examples
                    ]
            with gr.Column(scale=5, min_width=360), gr.Tabs(selected="sources") as tabs:
                with gr.Tab("Sources", id="sources"):
                    sources = gr.HTML(_SOURCES_EMPTY, elem_id="rag-sources", padding=False)
                with gr.Tab("Passage", id="passage"):
                    passage = gr.HTML(_PASSAGE_EMPTY, elem_id="rag-passage", padding=False)
        with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
            with gr.Row():
                mode = gr.Radio(
                    [("Hybrid (dense + BM25)", "hybrid"), ("Dense", "dense"), ("BM25", "bm25")],
                    value=s.mode,
                    label="Retrieval",
                    elem_id="rag-mode",
                )
                k = gr.Slider(
                    1,
                    12,
                    value=s.k,
                    step=1,
                    label="Passages to retrieve (top-k)",
                    elem_id="rag-k",
                )
                temperature = gr.Slider(
                    0.0,
                    1.5,
                    value=s.llm_temperature,
                    step=0.05,
                    label="Temperature",
                    elem_id="rag-temperature",
                )
            choices = ui.llm_choices()
            llm_kind = gr.Radio(
                choices, value=choices[0][1], label="Answering model", elem_id="rag-llm"
            )
            with gr.Row(visible=False) as endpoint_row:
                base_url = gr.Textbox(
                    label="Base URL",
                    placeholder="http://127.0.0.1:8080/v1",
                    value=s.llm_base_url or "",
                )
                model = gr.Textbox(
                    label="Model", placeholder="gpt-4o-mini", value=s.llm_model or ""
                )
                api_key = gr.Textbox(
                    label="API key (kept in this browser session only)",
                    type="password",
                    value="",
                )
        with gr.Accordion("Index and uploads", open=False, elem_id="rag-index"):
            index_info = gr.HTML(ui.index_html(), elem_id="rag-index-info", padding=False)
            files = gr.File(
                label=f"Add Markdown, TXT, HTML, JSONL or PDF files (≤ {s.max_file_mb:g} MB each)",
                file_count="multiple",
                file_types=list(ALLOWED_EXTENSIONS),
                type="filepath",
                elem_id="rag-files",
            )
            add = gr.Button("Add to the index", variant="primary", elem_id="rag-add")
            with gr.Row():
                url_box = gr.Textbox(
                    label="…or a blog, feed, article or PDF by URL",
                    placeholder="https://blog.example.org/",
                    scale=4,
                    elem_id="rag-url",
                )
                add_url = gr.Button("Fetch and index", scale=1, elem_id="rag-add-url")
            upload_report = gr.HTML("", elem_id="rag-upload-report", padding=False)
        cite_ref = gr.Textbox(visible="hidden", elem_id="rag-cite-ref")
        cite_go = gr.Button("show passage", visible="hidden", elem_id="rag-cite-go")
        timer = gr.Timer(2.0, active=polling)

        inputs = [
            question,
            chatbot,
            session,
            mode,
            k,
            llm_kind,
            base_url,
            model,
            api_key,
            temperature,
        ]
        outputs = [chatbot, sources, status, session, question, tabs, model_badge]
        asked = [
            question.submit(
                ui.respond,
                inputs,
                outputs,
                api_name="ask",
                concurrency_limit=ANSWER_CONCURRENCY,
                concurrency_id="answer",
                show_progress="hidden",
            ),
            ask.click(
                ui.respond,
                inputs,
                outputs,
                api_visibility="private",
                concurrency_limit=ANSWER_CONCURRENCY,
                concurrency_id="answer",
                show_progress="hidden",
            ),
        ]
        for button, text in zip(example_buttons, ui.examples, strict=True):
            asked.append(
                button.click(
                    lambda q=text: q, None, question, api_visibility="private", queue=False
                ).then(
                    ui.respond,
                    inputs,
                    outputs,
                    api_visibility="private",
                    concurrency_limit=ANSWER_CONCURRENCY,
                    concurrency_id="answer",
                    show_progress="hidden",
                )
            )
        clear.click(
            ui.clear,
            None,
            [chatbot, session, sources, passage, status, cite_ref],
            api_name="clear",
            cancels=asked,
            queue=False,
        )
        cite_go.click(
            ui.show_passage,
            [cite_ref, session],
            [passage, tabs],
            api_name="show_passage",
            concurrency_limit=None,
            trigger_mode="always_last",
            show_progress="hidden",
        ).then(None, None, None, js=_SCROLL_JS)
        llm_kind.change(
            lambda kind: gr.Row(visible=kind == LLM_ENDPOINT),
            llm_kind,
            endpoint_row,
            api_visibility="private",
            queue=False,
        )

        tracker = gr.Progress()  # Gradio finds it by the parameter's default value

        def upload(paths: list[str] | None, progress: Any = tracker) -> tuple[str, str, Any]:
            return ui.upload(paths, progress)

        add.click(
            upload,
            [files],
            [upload_report, index_info, files],
            api_name="upload",
            concurrency_limit=1,
        )

        def fetch_url(url: str, progress: Any = tracker) -> tuple[str, str]:
            return ui.add_url(url, progress)

        add_url.click(
            fetch_url,
            [url_box],
            [upload_report, index_info],
            api_name="add_url",
            concurrency_limit=1,
        )
        timer.tick(
            ui._tick,
            None,
            [model_badge, timer],
            api_visibility="private",
            show_progress="hidden",
        )
        app.load(
            ui._on_load,
            None,
            [model_badge, index_info],
            api_visibility="private",
            show_progress="hidden",
        )

        def search(query: str, mode: str = "hybrid", k: float = 5) -> list[dict[str, Any]]:
            """Passages only (no answer): ``[{"text", "doc_id", "title", "score"...}]``."""
            a = ui.assistant
            return [p.to_dict() for p in a.retrieve(query, k=int(k), mode=mode)]

        gr.api(search, api_name="search", concurrency_limit=None)
    return app


def build_app(
    assistant: Assistant,
    settings: Settings | None = None,
    *,
    upload_dir: Path | None = None,
    examples: Sequence[str] = EXAMPLES,
    preload_llm: bool = False,
) -> gr.Blocks:
    """The chat page for ``assistant`` (call :func:`launch` or ``.launch()`` on it).

    Args:
        assistant: An open :class:`rag.Assistant` (its LLM is the default answering model).
        settings: UI defaults; default ``assistant.settings``.
        upload_dir: Where uploaded files go (default ``<index parent>/uploads``).
        examples: Example questions.
        preload_llm: Start the embedded model now, in a thread, so the first answer does not
            wait for it (the page shows "loading" meanwhile).
    """
    ui = ChatUI(assistant, settings, upload_dir, examples)
    if preload_llm:
        ui.preload = start_llm_in_background(assistant)
    return build_page(ui)
