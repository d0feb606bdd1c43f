"""Quotes and glosses in an answer, settled before the check: a gloss the passages never wrote
(:func:`drop_invented_glosses`), a quoted passage sentence that says nothing of its clause
(:func:`drop_unrelated_quotes`), a quote that only repeats the words before it
(:func:`drop_echoes`), and a term written both ways, once as the passages do
(:func:`without_glossed`).

The prompt asks an English answer over Chinese passages to quote the Chinese words it
translates ("the heat equation ("热传导方程") [1]"). The reader takes such a quote for the
article's own words, but the small model also writes glosses of its own: ``("点击率×广告ID")``
for the passage's ``ctr×bid``, the English question put in quotes, a Chinese translation of an
English title the article never gives. A quote whose characters the passages do not have
(fewer than 80 % of its character pairs, spaces and punctuation aside) is removed from the
answer with its parentheses before the clauses are checked, so that it neither passes as a
quote nor takes a correct clause down with it ("排序的依据就是 CTR×bid" was removed for the
gloss's "ID"); the notice names it.

Example:
    >>> text = 'Ads are sorted by CTR×bid ("点击率×广告ID") [1].'
    >>> kept, dropped = drop_invented_glosses(text, ["排序的依据就是 ctr×bid 。"])
    >>> kept, [g.text for g in dropped]
    ('Ads are sorted by CTR×bid [1].', ['("点击率×广告ID")'])
    >>> drop_invented_glosses('linear ("具有线性时间复杂度") [1].', ["FM 具有线性时间复杂度"])[1]
    []
    >>> drop_invented_glosses("It uses MLA (Multi-Layer Attention) [1].", ["采用了 MLA 来确保推理效率"])[0]
    'It uses MLA [1].'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.claims.units import Unit
from rag.answer.claims.words import CJK

__all__ = [
    "Gloss",
    "attach_stray_quotes",
    "close_open_quote",
    "drop_echoes",
    "drop_invented_glosses",
    "drop_unrelated_quotes",
    "glossed_by_passages",
    "without_glossed",
]

_GLOSS = re.compile(r"\s*\(\s*[\"“]([^\"”()]+)[\"”]\s*\)")
# an acronym and its expansion in parentheses: "MLA (Multi-Layer Attention)"
_EXPANSION = re.compile(
    r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*)(\s*\(([A-Z][A-Za-z]*(?:[\s-]+[A-Za-z]+){1,6})\))"
)
_NOT_CHARS = re.compile(r"[\s\W_]+")
MIN_SHARE = 0.8  # of the quote's character pairs the passages must have


@dataclass
class Gloss:
    """A removed quote: its text (with the parentheses) and where it was in the answer."""

    text: str
    start: int
    end: int
    reason: str = "a quote the passages do not have"


def _pairs(text: str) -> list[str]:
    t = _NOT_CHARS.sub("", unicodedata.normalize("NFKC", text).lower())
    return [t[i : i + 2] for i in range(len(t) - 1)] or ([t] if t else [])


def _quoted(quote: str, passages: str) -> bool:
    """Most of the quote's character pairs are in the passages (the model drops a 的, cuts a
    quote with "…": near-verbatim is a quote)."""
    pairs = _pairs(quote)
    return not pairs or sum(p in passages for p in pairs) >= MIN_SHARE * len(pairs)


def _expands(acronym: str, words: str) -> bool:
    """The words' initials spell the acronym's capitals ("Multi-Layer Attention" for MLA)."""
    initials = "".join(w[0] for w in re.split(r"[\s-]+", words) if w).upper()
    return initials == "".join(ch for ch in acronym if ch.isupper())


def drop_invented_glosses(text: str, passages: Sequence[str]) -> tuple[str, list[Gloss]]:
    """``text`` without the quoted glosses the passages do not have, and those glosses.

    Args:
        text: The model's answer.
        passages: The texts of the passages it was given.
    """
    text = drop_echoes(text)  # (no claim: not named in the notice)
    joined = _NOT_CHARS.sub("", unicodedata.normalize("NFKC", "\n".join(passages)).lower())
    dropped = [
        Gloss(m.group(0).strip(), m.start(), m.end())
        for m in _GLOSS.finditer(text)
        if not _quoted(m.group(1), joined)
    ]
    dropped += [
        Gloss(m.group(2).strip(), m.start(2), m.end(2), "an expansion the passages do not have")
        for m in _EXPANSION.finditer(text)
        if _expands(m.group(1), m.group(3)) and _NOT_CHARS.sub("", m.group(3).lower()) not in joined
    ]
    dropped.sort(key=lambda g: g.start)
    for g in reversed(dropped):
        text = text[: g.start] + text[g.end :]
    return text, dropped


# where the English words a quote should render start: the sentence's start, or the end of an
# earlier quote in it
_SENTENCE_START = re.compile(r"(?:[.!?。！？]\s|\n|\))")


_LONG_QUOTE = 15  # Chinese characters: a sentence of the passage, no term's gloss


def _english_before(text: str, at: int) -> str | None:
    """The English a quote at ``at`` stands for: the text since its sentence's start (or the
    end of an earlier quote); None when that holds fewer than three English words (a Chinese
    sentence, or a term and its gloss) or more Chinese characters than English words (a Chinese
    sentence listing names: "RWKV、RetNet、LRU都可以归入此类")."""
    starts = [s.end() for s in _SENTENCE_START.finditer(text, 0, at)]
    english = text[starts[-1] if starts else 0 : at]
    words = len(re.findall(r"[A-Za-z]{2,}", english))
    return english if words >= 3 and len(CJK.findall(english)) <= words else None


def drop_unrelated_quotes(
    text: str, held: Callable[[str, str], tuple[int, int]]
) -> tuple[str, list[Gloss]]:
    """``text`` without the quotes of the passages that say nothing of the English before them.

    The quote stands for the Chinese an English clause renders; the small model also appends
    a sentence of the passage that merely sits near the question: 'Because a second impression
    of the same ad to the same user counts as a valid repeat ("作为确定性策略,相同的策略,在同一个
    状态处,动作是唯一确定的...") [4]' (a near miss: the ads article hidden). Judged with its quote,
    such a clause rests on the quote's words; without it, it only restates the question. A
    quoted passage sentence (15 Chinese characters or more: not a term's gloss) that holds none
    of the three or more words and names of the English before it (since the sentence's start)
    is removed with its parentheses, like an invented gloss.

    Args:
        text: The answer (after :func:`drop_invented_glosses`).
        held: ``(english, quote) -> (found, total)``: how many of the English text's words and
            names the quote has (rendered), of how many.

    Example:
        >>> held = lambda en, q: (sum(w in q for w in en.split()), len(en.split()))
        >>> quote = "作为确定性策略,相同的策略,在同一个状态处,动作是唯一确定的"
        >>> drop_unrelated_quotes(f'It counts as a repeat ("{quote}") [1].', held)[0]
        'It counts as a repeat [1].'
        >>> drop_unrelated_quotes(f'It counts as a repeat ("{quote}, a repeat") [1].', held)[1]
        []
        >>> drop_unrelated_quotes('It counts as a repeat ("重复") [1].', held)[1]
        []
    """
    dropped: list[Gloss] = []
    for m in _GLOSS.finditer(text):
        if not CJK.search(m.group(1)):
            continue
        english = _english_before(text, m.start())
        if english is None:
            continue
        if len(CJK.findall(m.group(1))) < _LONG_QUOTE:
            continue  # the gloss of a term ("碱性" for "basic")
        found, total = held(english, m.group(1))
        if found == 0 and total >= 3:
            dropped.append(
                Gloss(m.group(0).strip(), m.start(), m.end(), "a quote that does not say this")
            )
    for g in reversed(dropped):
        text = text[: g.start] + text[g.end :]
    return text, dropped


# an English clause's quote of the passage, parentheses and inner quotes allowed
_QUOTED = re.compile(r'\(\s*"([^"]+)"\s*\)')
# the sentences of a quote: after 。！？, or after ". " before a capital
_QUOTE_SENTENCE_END = re.compile(r"(?<=[。！？!?])\s*|(?<=\.)\s+(?=[A-Z])")
_TRIM_FROM = 60  # characters: a quote this long is cut to the sentences that say the English


# an English sentence's full stop, then a quote in parentheses and its citation: the quote the
# model meant for that sentence ("N processes are started with N GPUs. ("N个进程被启动…") [1]")
_STRAY_QUOTE = re.compile(
    r"([A-Za-z0-9])\.\s+(\(\s*[\"“][^\"”()]+[\"”]\s*\))(\s*\[\d+(?:\s*,\s*\d+)*\])?(\s*[.。])?"
)


def attach_stray_quotes(text: str) -> str:
    """``text`` with a quote written after its English sentence's full stop moved inside it.

    "How many GPU processes does DDP start with N GPUs?" was answered "N processes are started
    with N GPUs. ("N个进程被启动…") [1]" and shown with the quote as a sentence of its own
    ending in "。".

    Example:
        >>> attach_stray_quotes('N processes are started. ("N个进程被启动") [1]')
        'N processes are started ("N个进程被启动") [1].'
        >>> attach_stray_quotes('It is linear. ("具有线性时间复杂度") [1]. FM is fast [1].')
        'It is linear ("具有线性时间复杂度") [1]. FM is fast [1].'
    """

    def moved(m: re.Match[str]) -> str:
        return f"{m.group(1)} {m.group(2)}{m.group(3) or ''}."

    return _STRAY_QUOTE.sub(moved, text)


_OPEN_QUOTE = re.compile(r"\(\s*([\"“])")
_TAIL = re.compile(r"(\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)*)$")
_CLOSED = re.compile(r"[\"”]\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)*\)")


def close_open_quote(text: str) -> str:
    """``text`` with a quote the model opened and never closed closed at its end.

    "What are the limitations of the image pyramid approach?" was answered "The image pyramid
    approach has limitations ("在正式介绍之前,… 然后将这些图像直接输入到detector中去进行检测。" (the
    reply stopped there): the passage's sentences were checked and shown as the answer's own,
    each with a citation inside the open parenthesis. Closed, it is one quote like the others.

    Example:
        >>> close_open_quote('It has limitations ("第一大类方法叫做image pyramid。')
        'It has limitations ("第一大类方法叫做image pyramid。")'
        >>> close_open_quote('It is slow ("这种方法通常是缓慢的。 [1]')
        'It is slow ("这种方法通常是缓慢的。") [1]'
        >>> close_open_quote('It is slow ("这种方法通常是缓慢的") [1].')
        'It is slow ("这种方法通常是缓慢的") [1].'
        >>> close_open_quote('It skips it ("不如直接训练语言模型" [1]).')
        'It skips it ("不如直接训练语言模型" [1]).'
        >>> close_open_quote('It pools ("It replaces the last pooling layer (after the last conv).')
        'It pools ("It replaces the last pooling layer (after the last conv).")'
    """
    opened = list(_OPEN_QUOTE.finditer(text))
    # (closed: its quote mark, then the parenthesis, perhaps with the citation between them,
    # '"…内化" [1]).'; a parenthesis of the passage inside the quote, "(after the last
    # convolutional layer)", closes nothing)
    if not opened or _CLOSED.search(text[opened[-1].end() :]):
        return text
    tail = _TAIL.search(text)
    cut = tail.start() if tail else len(text)
    close = "”)" if opened[-1].group(1) == "“" else '")'
    return text[:cut] + close + text[cut:]


def trim_long_quotes(text: str, held: Callable[[str, str], tuple[int, int]]) -> str:
    """``text`` with each long quote of an English clause cut to its sentences that say most
    of the English before it.

    The small model, asked to quote the Chinese that states its answer, often copies a whole
    stretch of the passage: "FFM has a higher computational cost than FM ("FFM(Field-aware
    Factorization Machine)是Yuchin Juan等人在2015年…提出的一种对FM改进算法… FFM相比于FM的计算时间复杂度
    更高,但同时也提高了本身模型的表达能力。 FM也可以看…")" buries the one sentence that says it.
    Of a quote of :data:`_TRIM_FROM` characters or more, the sentences that hold the most of the
    English words and names (rendered, as ``held`` counts them) stay, with any between them (a
    quote stays the passage's own words); the others go. A quote that holds none of them is left
    to :func:`drop_unrelated_quotes`; one whose sentences all hold as many is left whole.

    Example:
        >>> held = lambda en, q: (sum(w in q for w in en.split()), len(en.split()))
        >>> quote = "FFM 是对 FM 的一种改进算法,主要是引入了 field 概念。 FFM 的 cost 更高,但同时提高了表达能力。"
        >>> trim_long_quotes(f'FFM has a higher cost than FM ("{quote}") [1].', held)
        'FFM has a higher cost than FM ("FFM 的 cost 更高,但同时提高了表达能力。") [1].'
    """
    out, last = [], 0
    for m in _QUOTED.finditer(text):
        english = _english_before(text, m.start()) if len(m.group(1)) >= _TRIM_FROM else None
        if english is None:
            continue
        parts = [p.strip() for p in _QUOTE_SENTENCE_END.split(m.group(1)) if p and p.strip()]
        found = [held(english, p)[0] for p in parts]
        if len(parts) < 2 or max(found) == 0 or min(found) == max(found):
            continue
        best = [i for i, f in enumerate(found) if f == max(found)]
        out += [text[last : m.start(1)], " ".join(parts[best[0] : best[-1] + 1])]
        last = m.end(1)
    return "".join(out) + text[last:]


# a name with its Chinese in parentheses, a Chinese term with its English: "McCulloch (麦克洛奇)",
# "数据并行（Data Parallelism）"
_NAME_ZH = re.compile(r"([A-Z][A-Za-z\-]+)\s*[(（]\s*[\"“]?([\u4e00-\u9fff]{2,})[\"”]?\s*[)）]")
_ZH_LATIN = re.compile(
    r"([\u4e00-\u9fff]{2,})\s*[(（]\s*([A-Za-z][A-Za-z0-9 \-]*[A-Za-z0-9])\s*[)）]"
)


@lru_cache(maxsize=8)
def _compact(passages_low: str) -> str:
    """The passages without spaces and hyphens (once per answer: every clause asks)."""
    return re.sub(r"[\s\-]+", "", passages_low)


def glossed_by_passages(text: str, passages_low: str) -> tuple[set[str], list[tuple[int, int]]]:
    """What the answer wrote twice, once as the passages do: the Latin names followed by a
    Chinese gloss the passages have, and the spans of the Chinese terms followed by an English
    gloss they have. Either form is the same claim; the one the passages write stands for both
    ("It was conceived by McCulloch (麦克洛奇)…" over "爱德华·麦克洛奇"; "这实际上就是数据并行（Data
    Parallelism）" over "(实际上就是Data Parallelism)").

    Example:
        >>> glossed_by_passages("由 McCulloch (麦克洛奇) 构思", "爱德华·麦克洛奇和沃尔特")
        ({'McCulloch'}, [])
        >>> glossed_by_passages("就是数据并行（Data Parallelism）", "实际上就是data parallelism")
        (set(), [(1, 6)])
    """
    compact = _compact(passages_low)
    names = {m.group(1) for m in _NAME_ZH.finditer(text) if m.group(2) in passages_low}
    spans = [  # the run's last characters: about two per English word, and one more
        (max(m.start(1), m.end(1) - 2 * len(m.group(2).split()) - 1), m.end(1))
        for m in _ZH_LATIN.finditer(text)
        if re.sub(r"[\s\-]+", "", m.group(2).lower()) in compact
    ]
    return names, spans


def without_glossed(
    text: str, names: list[tuple[str, str]], units: list[Unit], passages_low: str
) -> tuple[list[tuple[str, str]], list[Unit]]:
    """A clause's names and units without those it also wrote as the passages do
    (:func:`glossed_by_passages`): the other form is checked instead."""
    glossed, spans = glossed_by_passages(text, passages_low)
    return [n for n in names if n[0] not in glossed], [
        u for u in units if not any(s <= u.pos < e for s, e in spans)
    ]


def drop_echoes(text: str) -> str:
    """``text`` without a quote that repeats the words right before it: asked in English, the
    model answered '图像金字塔和多尺度滑动窗口检测 ("图像金字塔和多尺度滑动窗口检测") [1].', its own
    Chinese "translated" into the same Chinese.

    Example:
        >>> drop_echoes('图像金字塔检测 ("图像金字塔检测") [1].')
        '图像金字塔检测 [1].'
        >>> drop_echoes('the heat equation ("热传导方程") [1].')
        'the heat equation ("热传导方程") [1].'
    """
    for m in reversed(list(_GLOSS.finditer(text))):
        quote = _NOT_CHARS.sub("", m.group(1))
        before = _NOT_CHARS.sub("", text[: m.start()])
        if quote and before.endswith(quote):
            text = text[: m.start()] + text[m.end() :]
    return text
