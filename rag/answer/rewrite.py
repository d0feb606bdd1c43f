"""Turn a follow-up ("那它和 DDPM 比呢?") into a standalone question before retrieval.

With an LLM, the model rewrites it from the conversation; without one (or if it fails), a
heuristic carries the previous question's subject over: its names and key words are put in
front of the follow-up.

Example:
    >>> history = [{"role": "user", "content": "DDIM 需要重新训练模型吗?"},
    ...            {"role": "assistant", "content": "不需要 [1]。"}]
    >>> heuristic_rewrite("那它和 DDPM 比呢?", history)
    'DDIM 需要重新训练模型吗? 那它和 DDPM 比呢?'
    >>> heuristic_rewrite("FlashAttention 为什么快?", history)
    'FlashAttention 为什么快?'
    >>> heuristic_rewrite("和标准实现比快多少?", history)
    'DDIM 需要重新训练模型吗? 和标准实现比快多少?'
"""

from __future__ import annotations

import re

from rag.answer.claims.words import CITE
from rag.text.glossary import EN_STOPWORDS
from rag.text.language import ZH_QUESTION_MARKERS

# what the chain adds to an answer for the reader: the English source line, the fallback note
_SOURCE_LINE = re.compile(r"\s*(?:Source \[\d+\]: |来源 \[\d+\]：)“[^”]*”")
_CHAIN_NOTE = re.compile(
    r"\s*(?:（[^（）]*；以下是文章中最相关的原句。）"
    r"|\([^()]*; showing the most relevant sentences of the articles instead\.\))"
)


def plain_answer(text: str) -> str:
    """An earlier answer as a model should read it in the conversation: without the chain's
    source line and notes (the model copied "Source: “…”" into its next answer) and without
    its ``[n]`` marks (they numbered that turn's passages, not this one's).

    Example:
        >>> plain_answer("It is fast [1].\\nSource [1]: “YOLO 很快。”")
        'It is fast.'
        >>> plain_answer("锦囊 [1]。\\n来源 [1]：“细选(锦囊)”")
        '锦囊。'
    """
    text = _CHAIN_NOTE.sub("", _SOURCE_LINE.sub("", text))
    return CITE.sub("", text).strip()


# a word that points back to something named earlier
_POINTS_BACK = (
    r"(它|它们|这个方法|该方法|这种|那种|其中|前者|后者|上面|上述|两者|二者|哪一个|\bit\b|\bthey\b|"
    r"\bthis\b|\bthat\b|\bthose\b|\bthese\b|\bits\b|\bthem\b|\bwhich one\b)"
)
_FOLLOW_UP = re.compile(
    r"^(那|那么|它|它们|这个|那个|这些|那些|其|此|还有|另外|再|and |what about|how about|and what|"
    r"why|then )|"
    # a comparison whose first side is the previous subject ("和标准实现比快多少?")
    r"^(和|跟|与|比(?!较)|相比|相较|compared (?:to|with) |versus |vs\.? )|" + _POINTS_BACK,
    re.IGNORECASE,
)
_POINTER = re.compile(_POINTS_BACK, re.IGNORECASE)
# an opening that leans on what was asked before: "What about X?", "那 X 呢?", "和 X 比呢?"
_LEANS_BACK = re.compile(
    r"^(?:那|那么|还有|另外|and\b|what about|how about|and what|和|跟|与|比(?!较)|相比|相较|"
    r"compared (?:to|with)|versus|vs\b)",
    re.IGNORECASE,
)


def _leans_back(question: str) -> bool:
    """The question points back ("it", 它) or opens on the previous subject ("What about …")."""
    return bool(_POINTER.search(question) or _LEANS_BACK.match(question.strip()))


REWRITE_PROMPT = {
    "zh": "根据对话，把用户最后的问题改写成一个不依赖上下文、意思完整的问题。只输出改写后的问题。",
    "en": "Rewrite the user's last question as a standalone question that needs no context. "
    "Output only the rewritten question.",
}


def needs_rewrite(question: str, history: list[dict[str, str]] | None) -> bool:
    """True when there is history and the question refers back to it."""
    if not history or not any(t.get("role") == "user" for t in history):
        return False
    q = question.strip()
    return bool(_FOLLOW_UP.search(q)) or len(q) <= 8


def heuristic_rewrite(
    question: str, history: list[dict[str, str]] | None, max_turns: int = 3
) -> str:
    """Prefix a follow-up with the previous question (so its subject is retrieved too); when
    that one was a follow-up as well, with the questions back to the one that named the
    subject ("What is FFM?" "Who proposed it?" "When?": all three), ``max_turns`` at most.

    Example:
        >>> turns = [{"role": "user", "content": q} for q in ("What is FFM?", "Who proposed it?")]
        >>> heuristic_rewrite("When?", turns)
        'What is FFM? Who proposed it? When?'
    """
    if not needs_rewrite(question, history):
        return question
    asked = [
        {"role": "user", "content": str(t["content"]).strip()}
        for t in history or []
        if t.get("role") == "user" and str(t.get("content") or "").strip()
    ]
    context: list[str] = []
    for i in range(len(asked) - 1, max(-1, len(asked) - 1 - max_turns), -1):
        context.insert(0, asked[i]["content"])
        if not needs_rewrite(asked[i]["content"], asked[:i]):
            break
    return " ".join([*context, question]).strip()


def rewrite_messages(
    question: str, history: list[dict[str, str]], lang: str
) -> list[dict[str, str]]:
    """Chat messages asking an LLM for the standalone form of ``question``."""
    lines = []
    for turn in history[-6:]:
        role = "用户" if turn.get("role") == "user" else "助手"
        if lang != "zh":
            role = "User" if turn.get("role") == "user" else "Assistant"
        content = str(turn.get("content") or "")
        if turn.get("role") == "assistant":
            content = plain_answer(content)
        lines.append(f"{role}: {content[:300]}")
    last = "用户最后的问题" if lang == "zh" else "User's last question"
    convo = "\n".join(lines) + f"\n{last}: {question}"
    return [
        {"role": "system", "content": REWRITE_PROMPT.get(lang, REWRITE_PROMPT["en"])},
        {"role": "user", "content": convo},
    ]


_ASKS = re.compile(
    ZH_QUESTION_MARKERS + "|"
    r"^\W*(?:what|why|how|which|who|whom|when|where|whose|does|do|did|is|are|was|were|can|could|"
    r"should|will|would|has|have|may|might|must)\b",
    re.IGNORECASE,
)


def asks(text: str) -> bool:
    """A question (a question mark, a Chinese question word, or English question word order).

    Example:
        >>> asks("How much faster is it?"), asks("DDIM is faster than DDPM sampling.")
        (True, False)
        >>> asks("DDIM 比 DDPM 快多少"), asks("Is DDIM faster than DDPM")
        (True, True)
    """
    return bool(_ASKS.search(text.strip()))


def clean_rewrite(text: str, fallback: str, question: str = "") -> str:
    """The model's rewrite, or ``fallback`` when it is empty or implausible.

    Implausible: far longer than the follow-up with its context, a statement where the user
    asked a question (the small model sometimes answers instead of rewriting: "How much faster
    is it?" -> "DDIM is faster than DDPM sampling."), or a text that keeps none of the
    follow-up's own words (:func:`kept_share`), a comparison that lost its comparison, or a
    follow-up that points back ("it", 它) given back without a word added.

    Example:
        >>> clean_rewrite("What is SPP?", "What is YOLO? And how does SPP differ?",
        ...               "And how does SPP differ?")
        'What is YOLO? And how does SPP differ?'
        >>> q = "Why doesn't it need a reward model?"
        >>> clean_rewrite(q, "What is DPO? " + q, q)
        "What is DPO? Why doesn't it need a reward model?"
        >>> clean_rewrite("Why doesn't DPO need a reward model?", "What is DPO? " + q, q)
        "Why doesn't DPO need a reward model?"
    """
    text = text.strip().strip('"“”').splitlines()[0].strip() if text.strip() else ""
    text = re.sub(r"^(改写后的问题|问题|Rewritten question|Question)\s*[:：]\s*", "", text)
    if not text or len(text) > 4 * max(len(fallback), 40):
        return fallback
    if question and asks(question) and not asks(text):
        return fallback
    if question and kept_share(question, text) == 0:  # it repeats the previous question
        return fallback
    if question and _COMPARES.search(question) and not _COMPARES.search(text):
        return fallback  # "And how does SPP differ?" (after YOLO) came back as "What is SPP?"
    if question and _leans_back(question) and _words(text) <= _words(question):
        # "Why doesn't it need a reward model?" (after DPO) came back unchanged, and "What about
        # the reference model?" as "What is the reference model?": no word of the conversation
        return fallback
    return text


_COMPARES = re.compile(
    r"\b(?:differ\w*|compar\w*|versus|vs\b|than|contrast\w*|distinguish\w*)|"
    r"区别|不同|差别|差异|相比|相较|比较|对比|比(?!例|如|赛|特)"
)


_REFERS = re.compile(r"它们|它|那么|那|这个|这些|那个|那些|其|此|呢|吗|吧|[?？!！。，,]")


def kept_share(question: str, rewrite: str) -> float:
    """The share of the follow-up's own words that its rewrite keeps (1.0 when it has none).

    The small model sometimes repeats the previous question instead of rewriting: after
    "FlashAttention 的关键创新是什么?", "和标准实现比快多少?" came back as "FlashAttention的关键创新
    是什么?", and the answer was to the first question again. Its words are its Latin words
    (stop words left out) and the character pairs of its Chinese (pronouns left out).

    Example:
        >>> kept_share("和标准实现比快多少?", "FlashAttention的关键创新是什么?")
        0.0
        >>> kept_share("和标准实现比快多少?", "FlashAttention 和标准实现比快多少?")
        1.0
        >>> kept_share("Which tasks was it evaluated on?", "Which tasks was Prefix-Tuning evaluated on?")
        1.0
    """
    units = _words(question)
    if not units:
        return 1.0
    target = rewrite.lower()
    return sum(u in target for u in units) / len(units)


def _words(text: str) -> set[str]:
    """A text's Latin words (stop words left out) and the character pairs of its Chinese
    (pronouns and particles left out)."""
    units = {w for w in re.findall(r"[a-z][a-z0-9-]{2,}", text.lower()) if w not in EN_STOPWORDS}
    for run in re.findall(r"[\u3400-\u9fff]+", _REFERS.sub(" ", text)):
        units.update(run[i : i + 2] for i in range(len(run) - 1))
    return units
