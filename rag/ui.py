"""The Gradio chat page: ask in Chinese or English, watch the cited answer stream in.

The page shows the retrieved passages as soon as retrieval is done, streams the answer with
``[n]`` citations that are links (``[n]`` is ``answer.passages[n-1]``), and opens the cited
passage highlighted inside its article when a citation is clicked. "The articles don't cover
this" is a distinct state, notices (LLM fallback, dropped citations) are shown, and files can be
uploaded into the index. Everything that turns data into HTML is a pure function here, tested
without a browser; :func:`build_app` wires them into ``gr.Blocks``.

Citations are plain ``<a class="cite" href="#cite-T-N">`` links (the chatbot's sanitizer keeps
``class`` and ``href``, not ``data-*``); one page-level click listener, installed by the header's
``js_on_load``, writes ``T:N`` into a hidden textbox and clicks a hidden button, whose Python
handler renders the passage. The same handler is the ``/show_passage`` API endpoint.

Example:
    >>> from rag import Assistant
    >>> assistant = Assistant.open()                            # doctest: +SKIP
    >>> app = build_app(assistant)                              # doctest: +SKIP
    >>> launch(app, assistant.settings, host="127.0.0.1")       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import json
import os
import re
import shutil
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import BindError, RagError, UploadError
from rag.schema import Answer, Passage
from rag.text.citations import CITATION, citation_numbers

if TYPE_CHECKING:
    import gradio as gr

    from rag.answer.chain import StreamEvent
    from rag.api import Assistant
    from rag.llm.client import LLM

ALLOWED_EXTENSIONS = (".md", ".markdown", ".txt", ".html", ".htm", ".jsonl")
MAX_UPLOAD_FILES = 20
MAX_TURNS_KEPT = 30
ANSWER_CONCURRENCY = 4

EXAMPLES: tuple[str, ...] = (
    "DPO 为什么不需要单独训练奖励模型?",
    "FlashAttention 为什么能加速注意力计算?",
    "DDIM 需要重新训练模型吗?",
    "How many parameters does DeepSeek-V3 activate for each token?",
    "LoRA 的秩一般取多少?",
)

LLM_DEFAULT, LLM_ENDPOINT, LLM_EXTRACTIVE = "default", "endpoint", "extractive"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_REF = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


# ---------------------------------------------------------------------------- highlighting
def _terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the BM25 terms (longest first).

    Latin terms need two characters and may not start inside another Latin word (so ``dpo``
    does not light up inside ``ddpo``); Chinese terms match anywhere.
    """
    parts: list[str] = []
    for term in sorted(
        {t.strip().lower() for t in terms if t and t.strip()}, key=len, reverse=True
    ):
        if _CJK.search(term):
            parts.append(re.escape(term))
        elif len(term) >= 2:
            parts.append(r"(?<![A-Za-z0-9])" + re.escape(term))
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


def highlight(text: str, terms: Iterable[str]) -> str:
    """``text`` as escaped HTML with every matching term wrapped in ``<mark>``.

    Args:
        text: Plain text (a passage, a document).
        terms: BM25 terms of the question (``assistant.tokenizer(question)``).

    Example:
        >>> highlight("DPO 不需要奖励模型 <b>", ["dpo", "奖励"])
        '<mark>DPO</mark> 不需要<mark>奖励</mark>模型 &lt;b&gt;'
        >>> highlight("ddpo and DPO", ["dpo"])
        'ddpo and <mark>DPO</mark>'
    """
    pattern = _terms_pattern(terms)
    if pattern is None:
        return html.escape(text, quote=False)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        if m.start() == m.end():
            continue
        out.append(html.escape(text[last : m.start()], quote=False))
        out.append(f"<mark>{html.escape(m.group(0), quote=False)}</mark>")
        last = m.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


# ---------------------------------------------------------------------------- citations
def cite_href(turn: int, n: int) -> str:
    """The link target of citation ``[n]`` of answer ``turn``.

    >>> cite_href(3, 2)
    '#cite-3-2'
    """
    return f"#cite-{turn}-{n}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    """``"T:N"`` (what the page sends when a citation is clicked) -> ``(T, N)``, or None.

    >>> parse_ref("3:2"), parse_ref("x"), parse_ref("1:0")
    ((3, 2), None, None)
    """
    m = _REF.match(ref or "")
    if not m or int(m.group(2)) < 1:
        return None
    return int(m.group(1)), int(m.group(2))


def _cite_link(turn: int, n: int, passages: Sequence[Passage]) -> str:
    p = passages[n - 1]
    tip = html.escape(f"{p.title} — {p.source}", quote=True)
    return f'<a class="cite" href="{cite_href(turn, n)}" title="{tip}">[{n}]</a>'


def linkify_citations(text_html: str, turn: int, passages: Sequence[Passage]) -> str:
    """Turn ``[n]``, ``[1, 2]`` and ``【n】`` into citation links; unknown numbers stay text.

    Args:
        text_html: Already escaped answer text.
        turn: The answer's number in the conversation (part of each link).
        passages: ``answer.passages``; ``[n]`` links to ``passages[n-1]``.

    Example:
        >>> from rag.schema import Passage
        >>> p = Passage("t", "d", "Title", "src.md", "d#0", 1.0)
        >>> linkify_citations("Yes [1][9].", 0, [p])
        'Yes <a class="cite" href="#cite-0-1" title="Title — src.md">[1]</a>[9].'
    """

    def sub(m: re.Match[str]) -> str:
        nums = citation_numbers(m)
        if not all(1 <= n <= len(passages) for n in nums):
            return m.group(0)
        return "".join(_cite_link(turn, n, passages) for n in nums)

    return CITATION.sub(sub, text_html)


def cited_numbers(text: str, n_passages: int) -> list[int]:
    """The valid citation numbers in ``text``, in order of first appearance.

    >>> cited_numbers("a [2] b [1, 2] c [7]", 3)
    [2, 1]
    """
    out: list[int] = []
    for m in CITATION.finditer(text):
        for n in citation_numbers(m):
            if 1 <= n <= n_passages and n not in out:
                out.append(n)
    return out


# ---------------------------------------------------------------------------- rendering
def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _esc_md(text: str) -> str:
    """Escaped answer text; a ``#`` opening a line stays a character, not a heading."""
    return re.sub(r"(?m)^(\s*)#", r"\1\\#", _esc(text))


def _source_html(source: str) -> str:
    if re.match(r"^https?://", source):
        url = html.escape(source, quote=True)
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{_esc(source)}</a>'
    return _esc(source)


def _score_line(p: Passage) -> str:
    parts = [f"score {p.score:.4f}"]
    if p.dense_score is not None:
        parts.append(f"cosine {p.dense_score:.3f}")
    if p.bm25_score is not None:
        parts.append(f"BM25 {p.bm25_score:.2f}")
    return " · ".join(parts)


def render_question(question: str) -> str:
    """The user's message as shown in the chat (escaped, never interpreted as HTML).

    >>> render_question("<img src=x> 是什么?")
    '&lt;img src=x&gt; 是什么?'
    """
    return _esc(question)


def render_streaming(raw: str, turn: int, passages: Sequence[Passage], status: str = "") -> str:
    """The answer while it streams: the raw LLM text so far, citations already clickable.

    >>> render_streaming("", 0, [], "retrieving passages")
    '<span class="rag-pending">retrieving passages…</span>'
    """
    if not raw:
        return f'<span class="rag-pending">{_esc(status or "thinking")}…</span>'
    return linkify_citations(_esc_md(raw), turn, passages) + ' <span class="rag-cursor">▍</span>'


def _timing(answer: Answer) -> str:
    t = answer.timings
    who = "extractive (no LLM)" if answer.llm in ("extractive", "none") else answer.llm
    parts = [who]
    if "first_token" in t:
        parts.append(f"first token {t['first_token']:.1f} s")
    if "total" in t:
        parts.append(f"total {t['total']:.1f} s")
    return " · ".join(parts)


def render_answer(answer: Answer, turn: int) -> str:
    """The final answer as a chat message: cited text, or the "not covered" box, plus notices.

    Args:
        answer: The verified answer.
        turn: Its number in the conversation (citation links carry it).

    Example:
        >>> from rag.schema import Answer
        >>> a = Answer("文章中没有涉及这个问题。", [], [], True, "none", notice="not covered")
        >>> "rag-abstain" in render_answer(a, 0)
        True
    """
    body = linkify_citations(_esc_md(answer.text), turn, answer.passages)
    out: list[str] = []
    if answer.abstained:
        title = (
            "No direct answer in the articles · 文章没有直接回答"
            if answer.citations
            else "Not covered by the articles · 文章未涉及"
        )
        out.append(
            f'<div class="rag-abstain"><div class="rag-abstain-title">{title}</div>'
            f'<div class="rag-abstain-body">{body}</div>'
        )
        if answer.notice:
            out.append(f'<div class="rag-why">{_esc(answer.notice)}</div>')
        out.append("</div>")
    else:
        out.append(body)
        if answer.notice:
            out.append(f'<div class="rag-notice">⚠ {_esc(answer.notice)}</div>')
    out.append(f'<div class="rag-meta">{_esc(_timing(answer))}</div>')
    return "\n".join(out)


def render_error(message: str) -> str:
    """A failure shown in the chat instead of an answer.

    >>> render_error("index busy")
    '<div class="rag-notice rag-error">⚠ index busy</div>'
    """
    return f'<div class="rag-notice rag-error">⚠ {_esc(message)}</div>'


def _passage_card(
    p: Passage, n: int, turn: int, terms: Sequence[str], open_: bool, tag: str
) -> str:
    head = (
        f'<a class="cite" href="{cite_href(turn, n)}" title="show in the article">[{n}]</a> '
        f'<span class="rag-title">{_esc(p.title)}</span>'
        + (f' <span class="rag-tag">{_esc(tag)}</span>' if tag else "")
    )
    meta = f'<div class="rag-src-meta">{_source_html(p.source)} · {_score_line(p)}</div>'
    text = f'<div class="rag-src-text">{highlight(p.text, terms)}</div>'
    if open_:
        return (
            f'<div class="rag-src" id="src-{turn}-{n}"><div class="rag-src-head">{head}</div>'
            f"{meta}{text}</div>"
        )
    return (
        f'<details class="rag-src rag-src-more" id="src-{turn}-{n}">'
        f'<summary class="rag-src-head">{head}</summary>{meta}{text}</details>'
    )


def render_sources(
    passages: Sequence[Passage],
    turn: int,
    terms: Sequence[str],
    cited: Sequence[int] | None = None,
    abstained: bool = False,
) -> str:
    """The sources panel: numbered passages, cited ones open, the others collapsed.

    Args:
        passages: ``answer.passages`` (or the retrieved passages while the answer streams).
        turn: The answer's number (citation links carry it).
        terms: Question terms to highlight.
        cited: Cited numbers (1-based); None while streaming (all shown open).
        abstained: The articles don't cover the question: passages are "nearest", collapsed.

    Example:
        >>> from rag.schema import Passage
        >>> ps = [Passage("DPO 直接优化", "dpo", "DPO", "dpo.md", "dpo#0", 0.03),
        ...       Passage("别的", "x", "X", "x.md", "x#0", 0.01)]
        >>> html_ = render_sources(ps, 0, ["dpo"], cited=[1])
        >>> html_.count("<details"), "<mark>DPO</mark>" in html_
        (1, True)
    """
    if not passages:
        return '<div class="rag-empty">No passage matched the question.</div>'
    if abstained and not cited:
        head = (
            "Nearest passages — the articles don't seem to cover this question, "
            "so nothing is cited."
        )
    elif cited is None:
        head = f"{len(passages)} passages retrieved"
    else:
        more = len(passages) - len(cited)
        head = f"{len(cited)} cited" + (f" · {more} more retrieved (collapsed)" if more else "")
    cards = []
    for n, p in enumerate(passages, start=1):
        if cited is None:
            cards.append(_passage_card(p, n, turn, terms, True, ""))
        elif n in cited:
            cards.append(_passage_card(p, n, turn, terms, True, "cited"))
        else:
            cards.append(_passage_card(p, n, turn, terms, False, "not cited"))
    return f'<div class="rag-sources"><div class="rag-panel-head">{_esc(head)}</div>{"".join(cards)}</div>'


def render_passage(
    doc_text: str | None,
    passage: Passage,
    n: int,
    terms: Sequence[str],
    context_chars: int = 1500,
) -> str:
    """The cited passage highlighted inside its article, with the title and source.

    Args:
        doc_text: ``store.document_text(passage.doc_id)`` (None if the document is gone).
        passage: The cited passage; ``doc_text[start:end]`` is its text.
        n: Its citation number.
        terms: Question terms, highlighted inside the passage.
        context_chars: Article text shown before and after the passage.

    Example:
        >>> from rag.schema import Passage
        >>> doc = "前文。DDIM 不需要重新训练。后文。"
        >>> p = Passage("DDIM 不需要重新训练。", "ddim", "DDIM", "ddim.md", "ddim#0", 1.0,
        ...             start=3, end=16)
        >>> out = render_passage(doc, p, 1, ["ddim"])
        >>> '<span class="rag-passage" id="rag-focus"><mark>DDIM</mark> 不需要' in out
        True
    """
    head = (
        f'<div class="rag-doc-head"><span class="rag-badge">[{n}]</span> '
        f'<span class="rag-title">{_esc(passage.title)}</span>'
        f'<div class="rag-src-meta">{_source_html(passage.source)} · {_score_line(passage)}</div>'
        "</div>"
    )
    span = f'<span class="rag-passage" id="rag-focus">{highlight(passage.text, terms)}</span>'
    if doc_text is None or doc_text[passage.start : passage.end] != passage.text:
        note = (
            '<div class="rag-why">The article is no longer in the index in this form; '
            "showing the passage as it was retrieved.</div>"
        )
        return f'<div class="rag-doc">{head}{note}<div class="rag-doc-body">{span}</div></div>'
    lo = max(0, passage.start - context_chars)
    hi = min(len(doc_text), passage.end + context_chars)
    before = ("…" if lo > 0 else "") + _esc(doc_text[lo : passage.start])
    after = _esc(doc_text[passage.end : hi]) + ("…" if hi < len(doc_text) else "")
    return (
        f'<div class="rag-doc">{head}<div class="rag-doc-body" id="rag-doc-body">'
        f"{before}{span}{after}</div></div>"
    )


def render_model_status(kind: str, name: str, status: str | None) -> str:
    """The badge that says which model answers and whether it is ready.

    Args:
        kind: ``embedded``, ``endpoint`` or ``none``.
        name: Model name.
        status: ``EmbeddedLLM.status`` (``not started``, ``loading``, ``ready``, ``failed: ...``).

    Example:
        >>> "loading" in render_model_status("embedded", "qwen", "loading")
        True
    """
    if kind == "none":
        return '<span class="rag-model rag-model-off">answers: extractive (no LLM)</span>'
    if kind == "endpoint":
        return f'<span class="rag-model rag-model-ready">LLM: {_esc(name)} (endpoint)</span>'
    status = status or "not started"
    if status == "ready":
        cls, text = "rag-model-ready", "ready"
    elif status == "loading":
        cls, text = "rag-model-loading", "loading… (the first answer waits for it, ~5-20 s)"
    elif status.startswith("failed"):
        cls, text = "rag-model-failed", status
    else:
        cls, text = "rag-model-off", f"{status} (starts with the first question)"
    return f'<span class="rag-model {cls}">local model {_esc(name)}: {_esc(text)}</span>'


def render_stats(
    stats: dict[str, Any], documents: Sequence[dict[str, Any]], upload_dir: Path
) -> str:
    """The index panel: counts, embedder, and the list of documents.

    >>> out = render_stats({"documents": 1, "chunks": 2, "embedder": "e5"},
    ...                    [{"doc_id": "a", "title": "A", "source": "a.md", "chunks": 2}], Path("up"))
    >>> "<b>1</b> documents" in out and "A" in out
    True
    """
    rows = "".join(
        f"<tr><td>{_esc(str(d.get('title', '')))}</td><td>{_esc(str(d.get('source', '')))}</td>"
        f"<td>{d.get('chunks', '')}</td></tr>"
        for d in documents
    )
    return (
        '<div class="rag-stats">'
        f"<b>{stats.get('documents', 0)}</b> documents · <b>{stats.get('chunks', 0)}</b> chunks · "
        f"embedder <code>{_esc(str(stats.get('embedder', '?')))}</code>"
        f'<div class="rag-src-meta">uploads are saved to {_esc(str(upload_dir))}</div>'
        f"<details><summary>Documents ({len(documents)})</summary>"
        f'<table class="rag-docs"><tr><th>title</th><th>source</th><th>chunks</th></tr>{rows}'
        "</table></details></div>"
    )


# ---------------------------------------------------------------------------- uploads
def safe_filename(name: str, max_len: int = 100) -> str:
    """A file name safe to write into the upload folder.

    Any directory part is dropped (``/`` and ``\\``), characters other than letters (any
    script), digits, ``.``, ``_`` and ``-`` become ``_``, and leading dots go (no hidden
    files, no ``..``).

    Raises:
        UploadError: nothing usable is left.

    Example:
        >>> safe_filename("../../etc/passwd"), safe_filename("/abs/path.md")
        ('passwd', 'path.md')
        >>> safe_filename("a b?.md"), safe_filename("..\\\\笔记 1.txt")
        ('a_b.md', '笔记_1.txt')
    """
    base = unicodedata.normalize("NFKC", str(name)).replace("\x00", "")
    base = re.split(r"[\\/]", base)[-1].strip()
    base = re.sub(r"[^\w.\-]+", "_", base)
    base = re.sub(r"_{2,}", "_", base).lstrip("._-")
    stem, dot, ext = base.rpartition(".")
    if dot and stem:
        stem = stem.rstrip("_-. ") or "file"
        ext = ext[:12]
        base = f"{stem[: max(1, max_len - len(ext) - 1)]}.{ext}"
    else:
        base = base[:max_len]
    if not base or base in (".", ".."):
        raise UploadError(f"{name!r}: not a usable file name")
    return base


def validate_upload(path: Path, name: str, max_mb: float) -> str:
    """Check one uploaded file; return the name to save it under.

    Args:
        path: Where the upload currently is (Gradio's temporary copy).
        name: The name the user's browser sent.
        max_mb: ``settings.max_file_mb``.

    Raises:
        UploadError: wrong extension, empty, over the size limit, or an unusable name.

    Example:
        >>> validate_upload(Path("/nonexistent"), "x.exe", 20)
        Traceback (most recent call last):
        rag.errors.UploadError: x.exe: only .md, .markdown, .txt, .html, .htm, .jsonl files can be added
    """
    safe = safe_filename(name)
    display = Path(str(name).replace("\\", "/")).name or safe
    if Path(safe).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise UploadError(f"{display}: only {', '.join(ALLOWED_EXTENSIONS)} files can be added")
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise UploadError(f"{display}: the upload could not be read ({exc.strerror})") from exc
    if size == 0:
        raise UploadError(f"{display}: the file is empty")
    if size > max_mb * 1e6:
        raise UploadError(f"{display}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit")
    return safe


def save_upload(src: Path, safe_name: str, upload_dir: Path) -> Path:
    """Copy an upload into ``upload_dir`` as ``safe_name`` (atomically; never outside it).

    Raises:
        UploadError: the target would fall outside ``upload_dir``.
    """
    root = Path(upload_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / safe_name
    if target.parent != root or safe_name in ("", ".", ".."):
        raise UploadError(f"{safe_name}: would be written outside {root}")
    tmp = root / f".{uuid.uuid4().hex}.part"  # hidden: loaders skip it if we crash
    try:
        shutil.copyfile(src, tmp)
        if target.is_symlink():
            target.unlink()
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def save_uploads(
    files: Sequence[tuple[Path, str]], upload_dir: Path, max_mb: float
) -> tuple[list[Path], list[str]]:
    """Validate and save several uploads.

    Args:
        files: ``(temporary path, name sent by the browser)`` pairs.
        upload_dir: The folder uploads are kept in (and indexed from).
        max_mb: Size limit per file.

    Returns:
        The saved paths and one message per refused file.
    """
    saved: list[Path] = []
    errors: list[str] = []
    if len(files) > MAX_UPLOAD_FILES:
        errors.append(f"{len(files)} files at once; only the first {MAX_UPLOAD_FILES} were taken")
        files = files[:MAX_UPLOAD_FILES]
    for path, name in files:
        try:
            safe = validate_upload(Path(path), name, max_mb)
            saved.append(save_upload(Path(path), safe, upload_dir))
        except UploadError as exc:
            errors.append(str(exc))
    return saved, errors


def default_upload_dir(settings: Settings) -> Path:
    """``uploads/`` beside the index directory (``data/uploads`` by default).

    >>> default_upload_dir(Settings.load(env={}, index_dir=Path("/x/data/index")))
    PosixPath('/x/data/uploads')
    """
    return Path(settings.index_dir).parent / "uploads"


# ---------------------------------------------------------------------------- serving rules
def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost.

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` -> ``("user", "pass")``; None for None or empty.

    Raises:
        BindError: the value is not ``user:pass`` with both parts non-empty.

    >>> parse_auth("ann:s3cret:x")
    ('ann', 's3cret:x')
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise BindError("--auth must be user:password (both non-empty)")
    return user, password


def check_bind(host: str, auth: tuple[str, str] | None, insecure: bool) -> str | None:
    """Refuse to serve beyond this machine without a password, unless told to.

    Returns:
        A warning to print, or None.

    Raises:
        BindError: ``host`` is not loopback and neither ``auth`` nor ``insecure`` is given.

    >>> check_bind("127.0.0.1", None, False) is None
    True
    >>> check_bind("0.0.0.0", None, True).startswith("warning")
    True
    """
    if is_loopback(host):
        return None
    if auth is None and not insecure:
        raise BindError(
            f"refusing to serve on {host} without a password: anyone who can reach this "
            "machine could read the index and run questions. Add --auth user:password "
            "(or RAG_UI_AUTH), or --insecure if the network is trusted."
        )
    if auth is None:
        return (
            f"warning: serving on {host} WITHOUT authentication (--insecure); anyone who can "
            "reach this port can use the assistant and upload files"
        )
    return (
        f"warning: serving on {host} over plain HTTP; the password and questions travel "
        "unencrypted (put a TLS proxy in front for untrusted networks)"
    )


# ---------------------------------------------------------------------------- LLM plumbing
class OneAtATime:
    """Wraps an LLM so only one request runs at a time (the embedded model has one slot).

    Args:
        llm: The model.
        lock: Shared by every session of the app.
    """

    def __init__(self, llm: LLM, lock: threading.Lock) -> None:
        self._llm = llm
        self._lock = lock
        self.name = llm.name
        self.where = getattr(llm, "where", llm.name)

    @property
    def busy(self) -> bool:
        """True while another request holds the model."""
        return self._lock.locked()

    def complete(self, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        with self._lock:
            return self._llm.complete(messages, **kwargs)

    def stream(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[str]:
        with self._lock:
            yield from self._llm.stream(messages, **kwargs)

    def close(self) -> None:
        """The wrapped model belongs to the assistant: nothing to do."""


def start_llm_in_background(assistant: Assistant) -> threading.Thread | None:
    """Start the embedded model now (in a thread) so the first answer does not wait for it."""
    from rag.errors import LLMError
    from rag.llm.local import EmbeddedLLM

    llm = assistant.llm
    if not isinstance(llm, EmbeddedLLM) or llm.status != "not started":
        return None

    def run() -> None:
        with contextlib.suppress(LLMError):  # status says "failed: ..."; questions report it
            llm.start()

    thread = threading.Thread(target=run, name="embedded-llm-start", daemon=True)
    thread.start()
    return thread


@dataclass
class LLMChoice:
    """What the settings panel asked for."""

    kind: str = LLM_DEFAULT
    base_url: str = ""
    model: str = ""
    api_key: str = ""
    temperature: float = 0.1


# ---------------------------------------------------------------------------- the app
CSS = """
.rag-header h1 { margin: 0 0 2px 0; font-size: 1.6em; }
.rag-header p { margin: 0; color: var(--body-text-color-subdued); }
#rag-model-badge { text-align: right; align-self: center; }
.rag-model { display: inline-block; margin-top: 6px; padding: 2px 10px; border-radius: 999px;
  font-size: 0.85em; border: 1px solid var(--border-color-primary); }
.rag-model-ready { background: #e8f6ec; color: #18633a; border-color: #b9e2c6; }
.rag-model-loading { background: #fff6e0; color: #7a5a00; border-color: #f0d68a; }
.rag-model-failed { background: #fdeaea; color: #8a1c1c; border-color: #f2b8b8; }
.rag-model-off { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
a.cite, .prose a.cite, .message a.cite { color: #1f5fbf !important; text-decoration: none !important;
  font-weight: 600; padding: 0 1px; border-radius: 3px; cursor: pointer; }
a.cite:hover { background: #e3edff; }
.rag-pending { color: var(--body-text-color-subdued); font-style: italic; }
.rag-cursor { color: var(--body-text-color-subdued); }
.rag-abstain { border: 1px dashed #c9a227; background: #fffbea; border-radius: 8px; padding: 8px 12px; }
.rag-abstain-title { font-weight: 600; color: #7a5a00; margin-bottom: 4px; }
.rag-why { font-size: 0.82em; color: var(--body-text-color-subdued); margin-top: 4px; }
.rag-notice { margin-top: 8px; padding: 4px 10px; border-left: 3px solid #e0a100;
  background: #fff8e6; color: #6b4e00; font-size: 0.9em; border-radius: 4px; }
.rag-error { border-left-color: #c0392b; background: #fdeeee; color: #7d1f16; }
.rag-meta { margin-top: 6px; font-size: 0.78em; color: var(--body-text-color-subdued); }
.rag-spin { display: inline-block; width: 0.8em; height: 0.8em; border: 2px solid #9bb5e0;
  border-top-color: transparent; border-radius: 50%; animation: rag-spin 0.8s linear infinite;
  vertical-align: -1px; }
@keyframes rag-spin { to { transform: rotate(360deg); } }
.rag-status-error { color: #a12a1e; }
.rag-status-notice { color: #7a5a00; }
.rag-status { min-height: 1.4em; font-size: 0.9em; color: var(--body-text-color-subdued); }
.rag-panel-head { font-weight: 600; margin: 2px 0 8px 0; }
.rag-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin-bottom: 8px; background: var(--background-fill-primary); }
.rag-src-more { opacity: 0.9; }
.rag-src-more > summary { cursor: pointer; }
.rag-title { font-weight: 600; }
.rag-tag { font-size: 0.75em; padding: 0 6px; border-radius: 999px;
  background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.rag-src-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin: 2px 0 4px 0;
  word-break: break-all; }
.rag-src-text { font-size: 0.9em; line-height: 1.55; white-space: pre-wrap; }
.rag-sources mark, .rag-doc mark { background: #ffe36e; color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-doc-head { margin-bottom: 6px; }
.rag-badge { font-weight: 700; color: #1f5fbf; }
.rag-doc-body { white-space: pre-wrap; line-height: 1.6; font-size: 0.92em; max-height: 62vh;
  overflow-y: auto; color: var(--body-text-color-subdued); border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: 10px 12px; }
.rag-passage { background: #e3edff; color: var(--body-text-color); border-radius: 3px;
  box-shadow: 0 0 0 2px #e3edff; }
.rag-empty { color: var(--body-text-color-subdued); font-style: italic; }
.rag-stats table.rag-docs { font-size: 0.85em; width: 100%; }
.rag-stats table.rag-docs td, .rag-stats table.rag-docs th { padding: 2px 6px; text-align: left; }
#rag-examples button { font-size: 0.85em; }
"""

# Installed once per page by the header's js_on_load: styles, and a click listener that turns
# a click on any citation link into a call of the hidden "show passage" event.
_PAGE_JS = """
if (!window.__ragCitations) {
  window.__ragCitations = true;
  const style = document.createElement('style');
  style.textContent = __CSS__;
  document.head.appendChild(style);
  document.addEventListener('click', function (event) {
    const link = event.target.closest && event.target.closest('a[href^="#cite-"]');
    if (!link) return;
    const m = (link.getAttribute('href') || '').match(/^#cite-(\\d+)-(\\d+)$/);
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    const box = document.querySelector('#rag-cite-ref textarea, #rag-cite-ref input');
    const go = document.querySelector('#rag-cite-go');
    if (!box || !go) return;
    box.value = m[1] + ':' + m[2];
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { go.click(); }, 0);
  }, true);
}
"""

_SCROLL_JS = """() => {
  const el = document.getElementById('rag-focus');
  if (el) el.scrollIntoView({block: 'center', behavior: 'smooth'});
}"""

_SOURCES_EMPTY = (
    '<div class="rag-empty">The passages retrieved for your question appear here, numbered '
    "like the [n] citations in the answer.</div>"
)
_PASSAGE_EMPTY = (
    '<div class="rag-empty">Click a citation [n] in an answer (or in the sources) to read the '
    "passage highlighted inside its article.</div>"
)


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
        if status == "not started" and self.preload is not None and self.preload.is_alive():
            status = "loading"
        name = llm.name if llm is not None else ""
        return render_model_status(kind, name, status), kind == "embedded" and status == "loading"

    def _chain(self, choice: LLMChoice) -> tuple[Any, bool, Callable[[], None], OneAtATime | None]:
        """(answer chain, use_llm, cleanup, serialized model or None) for one question."""
        from rag.answer.chain import AnswerChain
        from rag.llm.client import LLM

        a = self.assistant
        settings = a.settings.replace(llm_temperature=float(choice.temperature))
        if choice.kind == LLM_EXTRACTIVE or (choice.kind == LLM_DEFAULT and a.llm is None):
            return AnswerChain(a.retriever, lambda: None, settings), False, lambda: None, None
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
            return AnswerChain(a.retriever, lambda: client, settings), True, client.close, None
        one = OneAtATime(a.llm, self._model_lock) if self.default_llm_kind() == "embedded" else None
        model = one or a.llm
        return AnswerChain(a.retriever, lambda: model, settings), True, lambda: None, one

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
        answer: Answer | None = None
        cleanup: Callable[[], None] = lambda: None  # noqa: E731
        try:
            chain, use_llm, cleanup, one = self._chain(choice)
            history = list(session["history"]) or None
            events: Iterator[StreamEvent] = chain.stream(
                question, history=history, k=int(k), mode=mode, use_llm=use_llm
            )
            for event in events:
                if event.kind == "status":
                    text = self._describe_status(event.text, one)
                    chat[-1]["content"] = render_streaming("".join(raw), turn, passages, text)
                    badge = self.model_status()[0] if one is not None else skip
                    yield emit(status=_status(text), badge=badge)
                elif event.kind == "passages":
                    passages = event.passages
                    found = ", ".join(dict.fromkeys(p.title for p in passages)) or "nothing"
                    yield emit(render_sources(passages, turn, terms), _status(f"found: {found}"))
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
                return text + " (the local model is loading first; the first answer takes ~20-40 s)"
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
        doc_text = self.assistant.store.document_text(passage.doc_id)
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
        return render_stats(a.stats(), a.store.documents(), self.upload_dir)

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
        before = {d["doc_id"]: d for d in self.assistant.store.documents()}
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
        docs = self.assistant.store.documents()
        new = [d for d in docs if d["doc_id"] not in before]
        names = {p.name for p in saved}
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
        if not new:
            lines.append(
                f"✓ saved {', '.join(sorted(map(_esc, names)))} (already in the index, updated if changed)"
            )
        say(1.0, desc="done")
        return _upload_report(lines, _esc(report.summary())), self.index_html(), None

    # ------------------------------------------------------------------ layout
    def build(self) -> gr.Blocks:
        """The page."""
        import gradio as gr

        s = self.settings
        badge, polling = self.model_status()
        with gr.Blocks(title="Ask the articles", fill_width=True, analytics_enabled=False) as app:
            with gr.Row(equal_height=True):
                gr.HTML(
                    '<div class="rag-header"><h1>Ask the articles</h1>'
                    "<p>Ask in Chinese or English. Answers come only from the indexed articles, "
                    "with numbered citations: click [n] to read the passage in its article.</p>"
                    "</div>",
                    js_on_load=_PAGE_JS.replace("__CSS__", json.dumps(CSS)),
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
                            for q in self.examples
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
                choices = self.llm_choices()
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
                index_info = gr.HTML(self.index_html(), elem_id="rag-index-info", padding=False)
                files = gr.File(
                    label=f"Add Markdown, TXT, HTML or JSONL files (≤ {s.max_file_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(ALLOWED_EXTENSIONS),
                    type="filepath",
                    elem_id="rag-files",
                )
                add = gr.Button("Add to the index", variant="primary", elem_id="rag-add")
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
                    self.respond,
                    inputs,
                    outputs,
                    api_name="ask",
                    concurrency_limit=ANSWER_CONCURRENCY,
                    concurrency_id="answer",
                    show_progress="hidden",
                ),
                ask.click(
                    self.respond,
                    inputs,
                    outputs,
                    api_visibility="private",
                    concurrency_limit=ANSWER_CONCURRENCY,
                    concurrency_id="answer",
                    show_progress="hidden",
                ),
            ]
            for button, text in zip(example_buttons, self.examples, strict=True):
                asked.append(
                    button.click(
                        lambda q=text: q, None, question, api_visibility="private", queue=False
                    ).then(
                        self.respond,
                        inputs,
                        outputs,
                        api_visibility="private",
                        concurrency_limit=ANSWER_CONCURRENCY,
                        concurrency_id="answer",
                        show_progress="hidden",
                    )
                )
            clear.click(
                self.clear,
                None,
                [chatbot, session, sources, passage, status, cite_ref],
                api_name="clear",
                cancels=asked,
                queue=False,
            )
            cite_go.click(
                self.show_passage,
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
                return self.upload(paths, progress)

            add.click(
                upload,
                [files],
                [upload_report, index_info, files],
                api_name="upload",
                concurrency_limit=1,
            )
            timer.tick(
                self._tick,
                None,
                [model_badge, timer],
                api_visibility="private",
                show_progress="hidden",
            )
            app.load(
                self._on_load,
                None,
                [model_badge, index_info],
                api_visibility="private",
                show_progress="hidden",
            )

            def search(query: str, mode: str = "hybrid", k: float = 5) -> list[dict[str, Any]]:
                """Passages only (no answer): ``[{"text", "doc_id", "title", "score"...}]``."""
                a = self.assistant
                return [p.to_dict() for p in a.retrieve(query, k=int(k), mode=mode)]

            gr.api(search, api_name="search", concurrency_limit=None)
        return app

    def _tick(self) -> tuple[str, Any]:
        import gradio as gr

        badge, polling = self.model_status()
        return badge, gr.Timer(active=polling)

    def _on_load(self) -> tuple[str, str]:
        return self.model_status()[0], self.index_html()


def _upload_report(lines: list[str], summary: str) -> str:
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f'<div class="rag-upload"><div>{summary}</div><ul>{items}</ul></div>'


def _file_path(f: Any) -> str:
    if isinstance(f, dict):
        return str(f.get("path") or f.get("name"))
    return str(getattr(f, "path", None) or getattr(f, "name", None) or f)


def _file_name(f: Any) -> str:
    if isinstance(f, dict) and f.get("orig_name"):
        return str(f["orig_name"])
    return Path(_file_path(f)).name


def _status(text: str, kind: str = "busy") -> str:
    icon = {"busy": '<span class="rag-spin"></span>', "done": "✓", "notice": "⚠", "error": "✗"}.get(
        kind, ""
    )
    if text == "ready":
        return '<div class="rag-status">Ready.</div>'
    return f'<div class="rag-status rag-status-{kind}">{icon} {_esc(text)}</div>'


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


# ---------------------------------------------------------------------------- entry points
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
    return ui.build()


def launch(
    app: gr.Blocks,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> str:
    """Queue and serve the page; returns its local URL.

    Args:
        app: From :func:`build_app`.
        settings: ``max_file_mb`` limits uploads at the HTTP layer too.
        host: Interface to bind (check it with :func:`check_bind` first).
        port: Port (None: Gradio picks a free one from 7860).
        auth: ``(user, password)`` for Gradio's login page.
        prevent_thread_lock: Return at once (tests) instead of serving until interrupted.
        quiet: No startup banner.
    """
    app.queue(default_concurrency_limit=2)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=prevent_thread_lock,
        max_file_size=int(settings.max_file_mb * 1e6),
        show_error=True,
        quiet=quiet,
        footer_links=["api"],
    )
    return url


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Wait until the page answers (used by tests and the launcher)."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)
