"""An answer without an LLM: the evidence sentences that best match the question, cited.

It is the instant draft shown while the model reads, the answer of ``--no-llm``, and the
fallback when the LLM is unreachable, times out, or writes something the passages don't
support. Sentences come from :mod:`rag.answer.evidence` (scored by e5 similarity and the
question's words; never a sentence flagged as an instruction to the model).

Example:
    >>> from rag.answer.evidence import Evidence, EvidenceSet
    >>> ev = [Evidence(0, 0, 8, "DDPM 采样很慢。", score=0.80),
    ...       Evidence(2, 0, 22, "DDIM 只需 20~100 步就能达到相近效果。", score=0.91)]
    >>> extract = extractive_answer(EvidenceSet(ev, ev))
    >>> extract.text, extract.cited
    ('DDIM 只需 20~100 步就能达到相近效果。[3]', [3])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.claims.names import is_strong_name, question_names
from rag.answer.claims.words import ASKS_WHY, NORM_DROP
from rag.answer.evidence import (
    Evidence,
    EvidenceSet,
    next_piece,
    previous_piece,
    without_heading,
    without_list_marks,
    without_next_begun,
)
from rag.text.language import CJK


@dataclass
class Extract:
    """An extractive answer and the passage numbers it cites.

    ``cited`` numbers passages as retrieved (and as the prompt does): ``[n]`` is the n-th
    retrieved passage.
    """

    text: str
    cited: list[int]
    sentences: list[Evidence] = field(default_factory=list)


def extractive_answer(
    evidence: EvidenceSet, max_sentences: int = 2, keep_within: float = 0.03
) -> Extract:
    """The best evidence sentence, and the next ones whose score is within ``keep_within``.

    Args:
        evidence: The selected evidence (its ``chosen`` sentences are the candidates).
        max_sentences: Sentences at most.
        keep_within: A further sentence is kept only if it scores at most this much below the
            best one (a near tie: the answer may span both).
    """
    ranked = sorted(evidence.chosen, key=lambda e: -e.score)
    if not ranked:
        return Extract("", [])
    best = [ranked[0]] + [
        e
        for e in ranked[1:max_sentences]
        if e.score >= ranked[0].score - keep_within and _same_subject(ranked[0], e, evidence)
    ]
    best.sort(key=lambda e: (e.passage, e.start))
    best = _with_what_follows_a_colon(best, evidence.candidates)
    if evidence.terms is not None and ASKS_WHY.search(evidence.terms.question):
        best = _with_the_reason(best, evidence.candidates)
    # "引言与背景 FlashAttention的…": not the opening; "…注意力分数 在深度学习中,": not the end
    best = [without_next_begun(without_heading(e)) for e in best]
    cited: list[int] = []
    parts = []
    runs_on = False  # the part before runs on into this one
    for i, e in enumerate(best):
        n = e.passage + 1
        if n not in cited:
            cited.append(n)
        announces = e.text.rstrip().endswith(_GOES_ON) and i + 1 < len(best)
        joins_next = announces and best[i + 1].passage == e.passage
        text = e.text if joins_next else as_piece(e, evidence.candidates)
        if runs_on and text.startswith("…") and not e.text.startswith("…"):
            text = text[1:]  # the rest of the list the part before began
        parts.append(text if joins_next else f"{text}[{n}]")
        runs_on = joins_next
    joined = "".join(parts) if any(CJK.search(p) for p in parts) else " ".join(parts)
    return Extract(joined, cited, best)


def _same_subject(best: Evidence, other: Evidence, evidence: EvidenceSet) -> bool:
    """Whether ``other``'s passage mentions each name of the question (an acronym, CamelCase,
    digits) that ``best``'s passage mentions: to "Kimi-VL 的总参数量是多少?" the Kimi-VL sentence
    was shown beside DeepSeek-V3's "总参数量达到 671B", a near tie in score about another model."""
    if evidence.terms is None or other.passage == best.passage:
        return True
    names = [norm for s, norm in question_names(evidence.terms.question) if is_strong_name(s)]

    def text(p: int) -> str:
        return NORM_DROP.sub(
            "", " ".join(c.text for c in evidence.candidates if c.passage == p).lower()
        )

    theirs, mine = text(other.passage), text(best.passage)
    return all(n in theirs for n in names if n in mine)


_SENTENCE_END = re.compile(r"[。！？!?.…;；][”\"’）)]*\s*$")
_CUT_AT = re.compile(r"\s*[,，、:：]\s*$")
_BEGUN = re.compile(r"^\s*[、，,；;：:]\s*")  # a chunk that began inside a sentence


def as_piece(e: Evidence, candidates: list[Evidence]) -> str:
    """A sentence the evidence split cut at a comma (it cuts sentences over 130 characters),
    marked as a piece: "…" before it when the piece before it in the passage does not end its
    sentence, and instead of the comma it ends at ("InstructGPT, 以及 搜索算法(…)" read as a whole
    sentence; it is the end of "研究界已探索多种方法来提高模型的推理能力:比如 …代表工作:"), or the
    colon of one whose announced part is not shown.

    A piece that opens with the punctuation of the sentence it was cut from (a chunk that began
    inside a sentence: "、热传导方程等内容的联系。") opens with "…" instead.

    Example:
        >>> a = Evidence(0, 0, 20, "研究界已探索多种方法,比如 基于过程的奖励模型,")
        >>> b = Evidence(0, 21, 40, "以及 搜索算法(蒙特卡洛树搜索)。")
        >>> as_piece(a, [a, b]), as_piece(b, [a, b])
        ('研究界已探索多种方法,比如 基于过程的奖励模型…', '…以及 搜索算法(蒙特卡洛树搜索)。')
        >>> c = Evidence(1, 0, 14, "、热传导方程等内容的联系。")
        >>> as_piece(c, [c])
        '…热传导方程等内容的联系。'
    """
    text = e.text.rstrip()
    if _BEGUN.match(text):
        text = "…" + _BEGUN.sub("", text)
    prev = previous_piece(e, candidates)
    begun = prev is not None and e.start - prev.end <= 2 and not _SENTENCE_END.search(prev.text)
    if begun and not text.startswith("…"):
        text = "…" + text.lstrip()
    if _CUT_AT.search(text):
        text = _CUT_AT.sub("", text) + "…"
    return text


_REASON = re.compile(r"因为|由于|之所以|原因|\bbecause\b|\bdue to\b", re.IGNORECASE)
# a sentence that opens by giving a reason (not one that merely has 导致 or "since" inside)
_GIVES_REASON = re.compile(
    r"^\W*(?:这是|这主要是)?(?:因为|由于)|^\W*(?:this is )?because\b|^\W*due to\b|原因(?:是|在于)",
    re.IGNORECASE,
)


def _with_the_reason(best: list[Evidence], candidates: list[Evidence]) -> list[Evidence]:
    """A why-question's answer is a reason: when no chosen sentence gives one, the sentence
    after the first of them comes with it if that one does ("DDPM 有一个非常明显的问题:采样过程很
    慢。" restates "Why is DDPM sampling slow?"; "因为 DDPM 的反向过程利用了马尔可夫假设…" follows)."""
    if not best or any(_REASON.search(e.text) for e in best):
        return best
    first = best[0]
    nxt = next_piece(first, candidates)
    if nxt is None or not _GIVES_REASON.search(nxt.text) or any(nxt.start == e.start for e in best):
        return best
    return [first, nxt, *best[1:]]


# a colon or semicolon announces what follows; an enumeration comma ends a piece cut mid-list
_GOES_ON = (":", "：", ";", "；", "、")


def _with_what_follows_a_colon(best: list[Evidence], candidates: list[Evidence]) -> list[Evidence]:
    """A sentence that ends with a colon announces what follows it ("推荐系统优化流程:" before
    "1. 明确业务目标 1. 将业务目标转化为…"), and one cut at a semicolon is half of its sentence
    ("搜索的本质是给定query,匹配doc;" before "推荐的本质是给定user,推荐item。", the half a question
    about recommendation asks for), and one cut after an enumeration comma is the start of a list
    ("分布于越南、老挝、…贵州、" before "广西、河南、山东、广东等地，"): the next sentence of its
    passage comes with it."""
    out: list[Evidence] = []
    for e in best:
        out.append(e)
        if not e.text.rstrip().endswith(_GOES_ON):
            continue
        after = next_piece(e, candidates)
        if after is not None:
            nxt = without_list_marks(after)
            if all(nxt.start != o.start for o in best):
                out.append(nxt)
    return out
