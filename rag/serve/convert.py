"""Between OpenAI's chat format and the assistant: messages in, answers and sources out."""

from __future__ import annotations

import re

from rag.schema import Answer
from rag.serve.errors import ApiError
from rag.serve.models import ChatMessage, ContentPart, RagInfo, Source, Usage
from rag.text.sources import source_link

SOURCES_HEADING = {"zh": "来源", "en": "Sources"}
NEAREST_HEADING = {"zh": "最接近的段落", "en": "Nearest passages"}
CHECKED_HEADING = {
    "zh": "—— 核对后的回答（引用已校验）——",
    "en": "— checked answer (citations verified) —",
}
_RULE = "\n\n---\n**"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&$])")
_PLAIN_URL = re.compile(r"https?://[^\s<>()\[\]{}\"'`\\|^]+\Z")


def markdown_text(text: str) -> str:
    r"""``text`` on one line, as literal Markdown: no tags, links, images or emphasis.

    Titles and sources are data from the documents; a client that renders the answer as
    Markdown (or HTML) shows them as written and runs nothing.

    Example:
        >>> print(markdown_text("</资料> 新规则\n<b>x</b> ![i](http://e/)"))
        \</资料\> 新规则 \<b\>x\</b\> \!\[i\]\(http://e/\)
        >>> print(markdown_text("https://blog.example/posts/dpo_v2#page=4"))
        https://blog.example/posts/dpo_v2#page=4
    """
    if _PLAIN_URL.match(text):  # a web source stays a clickable address, unescaped
        return text
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def message_text(content: str | list[ContentPart] | None) -> str:
    """The text of a message (text parts joined; images and other parts dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(
        part.text for part in content if part.text and part.type in ("text", "input_text")
    )


def strip_added_text(content: str) -> str:
    """An earlier answer of this server without what it added for display.

    Drops the appended sources list, and keeps only the checked answer when the streamed draft
    was followed by one, so history holds what was verified.

    Example:
        >>> strip_added_text("DDIM 不需要重新训练 [1]。\\n\\n---\\n**来源**\\n- [1] DDIM — ddim.md")
        'DDIM 不需要重新训练 [1]。'
    """
    for heading in (*SOURCES_HEADING.values(), *NEAREST_HEADING.values()):
        cut = content.find(f"{_RULE}{heading}**")
        if cut >= 0:
            content = content[:cut]
    for heading in CHECKED_HEADING.values():
        cut = content.rfind(heading)
        if cut >= 0:
            content = content[cut + len(heading) :]
    return content.strip()


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, a user's) and the user/assistant history before it.

    Raises:
        ApiError: the last message is not from the user.
    """
    last = messages[-1]
    if last.role != "user":
        raise ApiError(
            400,
            f"the last message must be the user's question (it is a {last.role!r} message)",
            param=f"messages.{len(messages) - 1}.role",
            code="invalid_value",
        )
    history: list[dict[str, str]] = []
    for m in messages[:-1]:
        if m.role not in ("user", "assistant"):
            continue
        text = message_text(m.content)
        if m.role == "assistant":
            text = strip_added_text(text)
        if text.strip():
            history.append({"role": m.role, "content": text})
    return message_text(last.content), history


def answer_sources(answer: Answer) -> list[Source]:
    """The cited passages, numbered as in the text; the nearest 3 when nothing is cited."""
    cited = {p.chunk_id for p in answer.citations}
    out = [
        Source(n=i, cited=True, url=source_link(p.source), **p.to_dict())
        for i, p in enumerate(answer.passages, start=1)
        if p.chunk_id in cited
    ]
    if not out and answer.abstained:
        out = [
            Source(n=i, cited=False, url=source_link(p.source), **p.to_dict())
            for i, p in enumerate(answer.passages[:3], 1)
        ]
    return out


def sources_text(sources: list[Source], lang: str) -> str:
    """The sources as a short Markdown list to append to the answer text ('' when none)."""
    if not sources:
        return ""
    heading = SOURCES_HEADING[lang] if sources[0].cited else NEAREST_HEADING[lang]
    lines = [f"- [{s.n}] {markdown_text(s.title)} — {markdown_text(s.source)}" for s in sources]
    return f"{_RULE}{heading}**\n" + "\n".join(lines)


def _token_count(text: str) -> int:
    from rag.answer.budget import TokenBudget

    return TokenBudget().count(text) if text else 0


def make_usage(answer: Answer, question: str, history: list[dict[str, str]], content: str) -> Usage:
    """The LLM's own counts when it reported them, else tiktoken counts of what was exchanged."""
    prompt = answer.usage.get("prompt_tokens")
    if prompt is None:
        prompt = _token_count(question) + sum(_token_count(h["content"]) for h in history)
    completion = answer.usage.get("completion_tokens")
    if completion is None:
        completion = _token_count(content)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def rag_info(answer: Answer, mode: str) -> RagInfo:
    """How the answer was made (the ``rag`` field)."""
    return RagInfo(
        abstained=answer.abstained,
        llm=answer.llm,
        mode=mode,
        notice=answer.notice,
        standalone_question=answer.standalone_question,
        timings={k: round(v, 4) for k, v in answer.timings.items()},
        coverage=answer.coverage,
        unsupported_claims=answer.unsupported_claims,
        model_text=answer.model_text,
        claims=answer.claims,
    )
