"""Everything the page shows, as pure functions from data to HTML (tested without a browser).

Citations are plain ``<a class="cite" href="#cite-T-N">`` links (the chatbot's sanitizer keeps
``class`` and ``href``, not ``data-*``); the page script (``static/page.js``) turns a click on
one into a call of the ``/show_passage`` handler.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.schema import Answer, Passage
from rag.text.citations import CITATION, citation_numbers
from rag.text.language import CJK
from rag.text.sources import source_link

_REF = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")

_SOURCES_EMPTY = (
    '<div class="rag-empty">The passages retrieved for your question appear here, numbered '
    "like the [n] citations in the answer.</div>"
)
_PASSAGE_EMPTY = (
    '<div class="rag-empty">Click a citation [n] in an answer (or in the sources) to read the '
    "passage highlighted inside its article.</div>"
)


def _terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for the BM25 terms (longest first).

    Latin terms need two characters and may not start inside another Latin word (so ``dpo``
    does not light up inside ``ddpo``); Chinese terms match anywhere.
    """
    parts: list[str] = []
    for term in sorted(
        {t.strip().lower() for t in terms if t and t.strip()}, key=len, reverse=True
    ):
        if CJK.search(term):
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


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _esc_md(text: str) -> str:
    r"""Escaped answer text, shown as written: a ``#`` opening a line stays a character, not a
    heading, and Markdown images and links stay text (an image would be fetched by the browser
    as soon as the answer shows: a way to send data out that a hostile document could ask for).

    >>> print(_esc_md("# x ![i](https://e.example/?q=1) [a](javascript:alert(1)) <b>"))
    \# x !\[i]\(https://e.example/?q=1) [a]\(javascript:alert(1)) &lt;b&gt;
    """
    text = re.sub(r"(?m)^(\s*)#", r"\1\\#", _esc(text))
    return re.sub(r"!\[", r"!\\[", re.sub(r"\]\(", r"]\\(", text))


def _source_html(source: str) -> str:
    """A web page's URL as a link (a PDF's opens at the cited page: ``URL, p. 4``)."""
    link = source_link(source)
    if link:
        url = html.escape(link, quote=True)
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


def render_streaming(
    raw: str, turn: int, passages: Sequence[Passage], status: str = "", draft: str = ""
) -> str:
    """The answer while it streams: the raw LLM text so far, citations already clickable.

    Before the first token, the extractive ``draft`` (if any) is shown, marked as a draft; the
    model's answer replaces it.

    >>> render_streaming("", 0, [], "retrieving passages")
    '<span class="rag-pending">retrieving passages…</span>'
    >>> "rag-draft" in render_streaming("", 0, [], "asking the model", draft="DDIM 很快。[1]")
    True
    """
    if not raw:
        pending = f'<span class="rag-pending">{_esc(status or "thinking")}…</span>'
        if not draft:
            return pending
        body = linkify_citations(_esc_md(draft), turn, passages)
        return (
            '<div class="rag-draft"><span class="rag-draft-label">draft — the articles\' own '
            f"words, while the model writes</span><br>{body}</div>{pending}"
        )
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


def _status(text: str, kind: str = "busy") -> str:
    icon = {"busy": '<span class="rag-spin"></span>', "done": "✓", "notice": "⚠", "error": "✗"}.get(
        kind, ""
    )
    if text == "ready":
        return '<div class="rag-status">Ready.</div>'
    return f'<div class="rag-status rag-status-{kind}">{icon} {_esc(text)}</div>'


def _upload_report(lines: list[str], summary: str) -> str:
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f'<div class="rag-upload"><div>{summary}</div><ul>{items}</ul></div>'
