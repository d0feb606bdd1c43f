"""The page's event handlers: one answer streamed into the chat, citations, uploads, the model.

:class:`ChatUI` is bound to one assistant, shared by every browser session; a session's state
(history, passages by turn) lives in Gradio's ``gr.State`` (:func:`new_session`). The embedded
model answers one question at a time (:class:`OneAtATime`); the others wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import RagError
from rag.schema import Answer, Passage
from rag.ui.model import OneAtATime
from rag.ui.render import (
    _PASSAGE_EMPTY,
    _SOURCES_EMPTY,
    _esc,
    _status,
    _timing,
    _upload_report,
    cited_numbers,
    parse_ref,
    render_answer,
    render_error,
    render_model_status,
    render_passage,
    render_question,
    render_sources,
    render_stats,
    render_streaming,
)
from rag.ui.uploads import (
    _file_name,
    _file_path,
    check_url,
    crawl_into_index,
    default_upload_dir,
    save_uploads,
)

if TYPE_CHECKING:
    from rag.answer.chain import StreamEvent
    from rag.api import Assistant

MAX_TURNS_KEPT = 30
MAX_K = 20  # passages per search or answer, at most (the settings slider stops at 12)

EXAMPLES: tuple[str, ...] = (
    "DPO 为什么不需要单独训练奖励模型?",
    "FlashAttention 为什么能加速注意力计算?",
    "DDIM 相比 DDPM 采样快多少倍?",
    "How many parameters does DeepSeek-V3 activate for each token?",
    "LoRA 的秩一般取多少?",
)

LLM_DEFAULT, LLM_ENDPOINT, LLM_EXTRACTIVE = "default", "endpoint", "extractive"


@dataclass
class LLMChoice:
    """What the settings panel asked for."""

    kind: str = LLM_DEFAULT
    base_url: str = ""
    model: str = ""
    api_key: str = ""
    temperature: float = 0.1


def new_session() -> dict[str, Any]:
    """A fresh conversation: LLM history, and the passages of each answer by turn number."""
    return {"history": [], "turns": {}, "next": 0}


class ChatUI:
    """The event handlers of the page, bound to one assistant (shared by all sessions).

    Args:
        assistant: The open assistant.
        settings: UI defaults (``mode``, ``k``, ``max_file_mb``, ``llm_*``); default the
            assistant's.
        upload_dir: Where uploads are saved and indexed from (default :func:`default_upload_dir`).
        examples: Example questions shown as buttons.
    """

    def __init__(
        self,
        assistant: Assistant,
        settings: Settings | None = None,
        upload_dir: Path | None = None,
        examples: Sequence[str] = EXAMPLES,
    ) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings
        self.upload_dir = Path(upload_dir) if upload_dir else default_upload_dir(self.settings)
        self.examples = tuple(examples)
        self.preload: threading.Thread | None = None
        self._model_lock = threading.Lock()
        self._ingest_lock = threading.Lock()

    # ------------------------------------------------------------------ LLM selection
    def default_llm_kind(self) -> str:
        """``embedded``, ``endpoint`` or ``none``: what the "default" choice means here."""
        from rag.llm.local import EmbeddedLLM

        llm = self.assistant.llm
        if llm is None:
            return "none"
        return "embedded" if isinstance(llm, EmbeddedLLM) else "endpoint"

    def llm_choices(self) -> list[tuple[str, str]]:
        """(label, value) pairs for the LLM radio."""
        kind = self.default_llm_kind()
        choices = []
        if kind == "embedded":
            choices.append((f"Local model ({self.assistant.llm.name}, embedded)", LLM_DEFAULT))
        elif kind == "endpoint":
            llm = self.assistant.llm
            choices.append((f"Configured: {llm.name} at {getattr(llm, 'where', '?')}", LLM_DEFAULT))
        choices.append(("Extractive (no LLM): quote the best sentences", LLM_EXTRACTIVE))
        choices.append(("Another OpenAI-compatible endpoint", LLM_ENDPOINT))
        return choices

    def model_status(self) -> tuple[str, bool]:
        """The badge HTML, and whether to keep polling it (only while the model loads)."""
        kind = self.default_llm_kind()
        llm = self.assistant.llm
        status = getattr(llm, "status", None)
        if (
            status in ("not started", "ready")
            and self.preload is not None
            and self.preload.is_alive()
        ):
            status = "loading"  # starting, or reading its prompts' shared start (warm-up)
        name = llm.name if llm is not None else ""
        return render_model_status(kind, name, status), kind == "embedded" and status == "loading"

    def _chain(self, choice: LLMChoice) -> tuple[Any, bool, Callable[[], None], OneAtATime | None]:
        """(answer chain, use_llm, cleanup, serialized model or None) for one question.

        The chain reads the index generation that is live now (``Assistant.chain``), to the end
        of the answer, even if an ingest switches to a newer one meanwhile.
        """
        from rag.llm.client import LLM

        a = self.assistant
        temperature = float(choice.temperature)
        settings = a.settings.replace(llm_temperature=temperature)
        if choice.kind == LLM_EXTRACTIVE or (choice.kind == LLM_DEFAULT and a.llm is None):
            return a.chain("none", llm_temperature=temperature), False, lambda: None, None
        if choice.kind == LLM_ENDPOINT:
            if not choice.base_url.strip() and not choice.api_key.strip():
                raise ValueError(
                    "choose an endpoint: enter its base URL (e.g. http://127.0.0.1:8080/v1) "
                    "and model, or an API key for OpenAI"
                )
            client = LLM(
                choice.base_url.strip() or None,
                choice.model.strip() or "gpt-4o-mini",
                api_key=choice.api_key.strip() or None,
                timeout=settings.llm_timeout,
                retries=settings.llm_retries,
            )
            chain = a.chain(client, llm_temperature=temperature)
            return chain, True, client.close, None
        one = OneAtATime(a.llm, self._model_lock) if self.default_llm_kind() == "embedded" else None
        model = one or a.llm
        return a.chain(model, llm_temperature=temperature), True, lambda: None, one

    # ------------------------------------------------------------------ handlers
    def respond(
        self,
        question: str,
        chat: list[dict[str, Any]] | None,
        session: dict[str, Any] | None,
        mode: str,
        k: float,
        llm_kind: str,
        base_url: str,
        model: str,
        api_key: str,
        temperature: float,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer.

        Yields:
            (chat, sources, status line, session, question box, tabs, model badge).
        """
        import gradio as gr

        from rag.answer.guard import QuestionError, check_question

        skip = gr.skip()
        session = session if isinstance(session, dict) else new_session()
        chat = list(chat or [])

        def emit(
            sources: Any = skip,
            status: Any = skip,
            box: Any = skip,
            tabs: Any = skip,
            badge: Any = skip,
        ) -> tuple[Any, ...]:
            return chat, sources, status, session, box, tabs, badge

        try:
            question = check_question(question, self.settings)
        except QuestionError as exc:
            yield emit(status=_status(str(exc), "error"))
            return
        turn = int(session["next"])
        chat.append({"role": "user", "content": render_question(question)})
        chat.append({"role": "assistant", "content": render_streaming("", turn, [], "retrieving")})
        terms = self.assistant.tokenizer(question)
        yield emit(_SOURCES_EMPTY, _status("retrieving passages"), "", gr.Tabs(selected="sources"))

        choice = LLMChoice(
            llm_kind or LLM_DEFAULT, base_url or "", model or "", api_key or "", float(temperature)
        )
        passages: list[Passage] = []
        raw: list[str] = []
        draft = ""
        answer: Answer | None = None
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
        try:
            chain, use_llm, cleanup, one = self._chain(choice)
            history = list(session["history"]) or None
            events: Iterator[StreamEvent] = chain.stream(
                question, history=history, k=top_k(k), mode=mode, use_llm=use_llm
            )
            for event in events:
                if event.kind == "status":
                    text = self._describe_status(event.text, one)
                    chat[-1]["content"] = render_streaming(
                        "".join(raw), turn, passages, text, draft
                    )
                    badge = self.model_status()[0] if one is not None else skip
                    yield emit(status=_status(text), badge=badge)
                elif event.kind == "passages":
                    passages = event.passages
                    found = ", ".join(dict.fromkeys(p.title for p in passages)) or "nothing"
                    yield emit(render_sources(passages, turn, terms), _status(f"found: {found}"))
                elif event.kind == "draft":
                    draft, passages = event.text, event.passages or passages
                    chat[-1]["content"] = render_streaming("", turn, passages, "", draft)
                    yield emit(status=_status("draft shown; the model is reading"))
                elif event.kind == "token":
                    raw.append(event.text)
                    chat[-1]["content"] = render_streaming("".join(raw), turn, passages)
                    yield emit(status=_status("writing the answer"))
                elif event.kind == "notice":
                    yield emit(status=_status(event.text, "notice"))
                elif event.kind == "answer":
                    answer = event.answer
        except Exception as exc:  # show it in the page; the server keeps running
            chat[-1]["content"] = render_error(_explain(exc))
            yield emit(status=_status(_explain(exc), "error"))
            return
        finally:
            cleanup()
        if answer is None:  # pragma: no cover - the chain always ends with an answer
            return
        terms = _terms_for(self.assistant, answer, terms)
        session = _remember(session, turn, question, answer, terms)
        chat[-1]["content"] = render_answer(answer, turn)
        cited = cited_numbers(answer.text, len(answer.passages))
        done = (
            f"not covered by the articles ({_timing(answer)})"
            if answer.abstained and not cited
            else f"answered: {_timing(answer)}"
        )
        yield emit(
            render_sources(answer.passages, turn, terms, cited, answer.abstained),
            _status(done, "notice" if answer.notice else "done"),
            badge=self.model_status()[0],
        )

    def _describe_status(self, text: str, one: OneAtATime | None) -> str:
        if text.startswith("asking") and one is not None:
            llm = self.assistant.llm
            if one.busy:
                return text + " (waiting: the local model is answering another question)"
            if getattr(llm, "status", "ready") != "ready":
                return text + " (the local model is loading first; the first answer takes ~5-15 s)"
        return text

    def show_passage(self, ref: str, session: dict[str, Any] | None) -> tuple[str, Any]:
        """Render citation ``T:N`` of this session: the passage inside its article."""
        import gradio as gr

        session = session if isinstance(session, dict) else new_session()
        parsed = parse_ref(ref)
        record = session["turns"].get(str(parsed[0])) if parsed else None
        if parsed is None or record is None or parsed[1] > len(record["passages"]):
            return (
                '<div class="rag-empty">That citation belongs to a conversation that was '
                "cleared.</div>",
                gr.Tabs(selected="passage"),
            )
        n = parsed[1]
        passage = record["passages"][n - 1]
        doc_text = self.assistant.document_text(passage.doc_id)
        return render_passage(doc_text, passage, n, record["terms"]), gr.Tabs(selected="passage")

    def clear(self) -> tuple[Any, ...]:
        """A new conversation."""
        return (
            [],
            new_session(),
            _SOURCES_EMPTY,
            _PASSAGE_EMPTY,
            _status("conversation cleared"),
            "",
        )

    def index_html(self) -> str:
        """The index panel's content."""
        a = self.assistant
        return render_stats(a.stats(), a.documents(), self.upload_dir)

    def upload(self, files: Sequence[Any] | None, progress: Any = None) -> tuple[str, str, Any]:
        """Save valid uploads, index the upload folder, reload: (report, index panel, files)."""
        from ingest.pipeline import ingest
        from rag.errors import StoreError

        pairs = [(Path(_file_path(f)), _file_name(f)) for f in (files or [])]
        if not pairs:
            return _status("choose one or more files first", "error"), self.index_html(), None
        say = progress if callable(progress) else (lambda *a, **k: None)
        say(0.05, desc="checking files")
        saved, errors = save_uploads(pairs, self.upload_dir, self.settings.max_file_mb)
        lines = [f"✗ {_esc(e)}" for e in errors]
        if not saved:
            return _upload_report(lines, "nothing was added"), self.index_html(), None
        log: list[str] = []
        say(0.2, desc=f"indexing {len(saved)} file(s): reading, chunking, embedding")
        before = {d["doc_id"]: d for d in self.assistant.documents()}
        try:
            with self._ingest_lock:
                report = ingest(
                    [self.upload_dir],
                    self.assistant.settings,
                    progress=False,
                    embedder=self.assistant.embedder,
                    log=log.append,
                    lock_timeout=120.0,
                )
                say(0.9, desc="reloading the index")
                self.assistant.reload()
        except (StoreError, OSError) as exc:
            lines.append(f"✗ indexing failed: {_esc(str(exc))}")
            return _upload_report(lines, "the index was not changed"), self.index_html(), None
        docs = self.assistant.documents()
        new = [d for d in docs if d["doc_id"] not in before]
        troubled = report.skipped + report.errors + report.kept
        names = {p.name for p in saved if not any(f"/{p.name}: " in m for m in troubled)}
        for d in new:
            lines.append(
                f"✓ added {_esc(d['title'])} <span class='rag-src-meta'>({_esc(d['source'])}, {d['chunks']} chunks)</span>"
            )
        for d in docs:
            old = before.get(d["doc_id"])
            if old is not None and old["source"] != d["source"]:
                lines.append(
                    f"⚠ {_esc(d['source'])} has the same id ({_esc(d['doc_id'])}) as "
                    f"{_esc(old['title'])} from {_esc(old['source'])}, and replaced it "
                    "(rename the file, or give it another `id:` in its front matter)"
                )
        for msg in report.skipped + report.errors:
            lines.append(f"✗ {_esc(msg)}")
        if not new and names:
            lines.append(
                f"✓ saved {', '.join(sorted(map(_esc, names)))} (already in the index, updated if changed)"
            )
        say(1.0, desc="done")
        return _upload_report(lines, _esc(report.summary())), self.index_html(), None

    def add_url(self, url: str | None, progress: Any = None) -> tuple[str, str]:
        """Crawl a blog, feed, article or PDF by URL into the index: (report, index panel)."""
        try:
            url = check_url(url)
        except RagError as exc:
            return _status(str(exc), "error"), self.index_html()
        say = progress if callable(progress) else (lambda *a, **k: None)
        lines, summary = crawl_into_index(self.assistant, url, self._ingest_lock, say)
        return _upload_report(lines, summary), self.index_html()

    def search(self, query: str, mode: str = "hybrid", k: float = 5) -> list[dict[str, Any]]:
        """Passages only (the page's ``/search`` API): ``k`` from 1 to :data:`MAX_K` (capped).

        Raises:
            ValueError: ``k`` is not a number of at least 1.
        """
        n = top_k(k)
        return [p.to_dict() for p in self.assistant.retrieve(query, k=n, mode=mode)]

    def _tick(self) -> tuple[str, Any]:
        import gradio as gr

        badge, polling = self.model_status()
        return badge, gr.Timer(active=polling)

    def _on_load(self) -> tuple[str, str]:
        return self.model_status()[0], self.index_html()


def top_k(k: Any) -> int:
    """``k`` as a whole number of passages, capped at :data:`MAX_K`.

    >>> top_k(3), top_k(1e9), top_k("4")
    (3, 20, 4)
    >>> top_k(-3)
    Traceback (most recent call last):
    ...
    ValueError: k must be a number of passages from 1 to 20, not -3
    """
    try:
        value = float(k)
    except (TypeError, ValueError):
        value = float("nan")
    if not value >= 1:  # also NaN
        raise ValueError(f"k must be a number of passages from 1 to {MAX_K}, not {k!r}")
    return int(min(value, MAX_K))


def _explain(exc: Exception) -> str:
    if isinstance(exc, (RagError, ValueError)):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def _terms_for(assistant: Assistant, answer: Answer, terms: list[str]) -> list[str]:
    """The question's terms, plus the standalone question's for follow-ups."""
    if answer.standalone_question and answer.standalone_question != answer.question:
        return list(dict.fromkeys(terms + assistant.tokenizer(answer.standalone_question)))
    return terms


def _remember(
    session: dict[str, Any], turn: int, question: str, answer: Answer, terms: list[str]
) -> dict[str, Any]:
    turns = dict(session["turns"])
    turns[str(turn)] = {"question": question, "passages": list(answer.passages), "terms": terms}
    for old in sorted(turns, key=int)[:-MAX_TURNS_KEPT]:
        del turns[old]
    history = [
        *session["history"],
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer.text},
    ][-2 * MAX_TURNS_KEPT :]  # the prompt keeps only the last few anyway (history_tokens)
    return {"history": history, "turns": turns, "next": turn + 1}
