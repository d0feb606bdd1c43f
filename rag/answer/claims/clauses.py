"""Clauses: the answer cut into sentences and clauses, with the citations each clause carries.

Sentences end at 。！？!? or a period before a space; each keeps the citations that follow it.
Clauses are cut at ，,；;： and, in Chinese, before 但/然而/而且/并且/因此/所以/从而/不过; in English,
before but/while/whereas/although/which/because (not after "of/in… which"). Brackets, quotes
and citations are masked first; an English aside in parentheses of 5+ words is a clause of its
own. A fragment with fewer than 2 content units, or an opening adverbial ("In auction-based
ads,", "在相同的策略下，"), is merged into its neighbour. Whether what is left once clauses go can
stand alone: :mod:`rag.answer.claims.remnants`.

Example:
    >>> t = "DDIM 可以提速 10~50 倍，但需要更多的计算资源 [1]。"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['DDIM 可以提速 10~50 倍，但需要更多的计算资源 [1]。']
    >>> [t[s:e] for s, e in split_clauses(t, 0, t.index(" [1]"), english=False)]
    ['DDIM 可以提速 10~50 倍', '，但需要更多的计算资源']
    >>> is_abstention("资料中没有相关内容。"), is_abstention("DDIM 仅采样 20~100 步 [1]。")
    (True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.claims.result import Clause
from rag.answer.claims.words import CITE, CJK, EN_EXTRA_STOP, EN_STOP, EN_WORD, is_english
from rag.text.citations import CITATION

__all__ = [
    "NO_ANSWER",
    "Parsed",
    "Sentence",
    "is_abstention",
    "parenthetical",
    "parse_answer",
    "parse_citations",
    "split_clauses",
    "split_sentences",
]

NO_ANSWER = {"zh": "资料中没有相关内容。", "en": "The articles don't cover this."}
# ("无法从" only before the sources: "pointwise模式的打分无法从候选列表整体…出发进行排序" is an answer)
ABSTAIN_PATTERNS = re.compile(
    r"资料中没有|没有相关内容|没有提到|未提及|并未提及|没有涉及|无法回答|"
    r"无法从(?:所给|给定|提供|上述|以上|这些)?的?(?:资料|文章|段落|文中|原文|来源|材料|内容|信息)|"
    r"不包含|没有包含|没有给出|"
    r"未涉及|没有说明|未说明|没有明确(?:说明|提到|给出)|未明确|没有直接回答|"
    r"don't cover|do not cover|doesn't cover|does not cover|not covered|do not contain|"
    r"does not contain|doesn't contain|don't contain|no information|"
    r"not (?:explicitly |directly |specifically |clearly )?(?:mentioned|stated|specified|provided|"
    r"discussed)|"
    r"cannot answer|can't answer|do not mention|does not mention|doesn't mention",
    re.IGNORECASE,
)


def parse_citations(match: re.Match[str]) -> list[int]:
    """Passage numbers of one citation match of :data:`CITE` (``[1, 2]`` -> ``[1, 2]``)."""
    raw = match.group(1) or match.group(2) or ""
    return [int(n) for n in re.findall(r"\d+", raw)]


def is_abstention(text: str) -> bool:
    """True when the answer says the passages do not contain the answer.

    >>> is_abstention("The articles don't cover this."), is_abstention("It is faster [1].")
    (True, False)
    >>> is_abstention("DeepSeek-V3 uses a schedule that is not explicitly mentioned in the sources.")
    True
    >>> is_abstention("无法从资料中找到答案。"), is_abstention("因为打分无法从候选列表整体出发进行排序 [1]。")
    (True, False)
    """
    stripped = CITE.sub("", text).strip()
    if not stripped:
        return True
    return bool(ABSTAIN_PATTERNS.search(stripped[:80])) and len(stripped) < 160


_SENT_END = re.compile(r"[。！？!?]+|\.(?=\s|$)|\n+")
# "etc." / "e.g." / "vs." inside an English sentence, or a full stop before a lowercase word: no end
_ABBREVIATION = re.compile(r"(?:\b(?:etc|e\.g|i\.e|vs|cf|al|approx|resp|Fig|Eq))$", re.IGNORECASE)
# a title before a name: "Saint Girolamo… and statues of St. John of Matha and St. Felix of Valois"
_TITLE = re.compile(r"\b(?:St|Mr|Mrs|Ms|Dr|Prof|Mt)$")
_LOWER_NEXT = re.compile(r"\s+[a-z]")
# the number of a list item ("改进： 1. 使用了…", "2、提高了…", "(3) Uses…"): not a sentence's end,
# and no figure the clause claims
# (after a Chinese comma too: "假如我们有N张显卡, 1. (缓解GIL限制)…" numbers the first item)
_LIST_NUMBER = re.compile(
    r"(?:^|[\n：:。；;!?！？])[ \t]*\d{1,2}$|[.:][ \t]+\d{1,2}$|(?:[\u3400-\u9fff][,，]|，)[ \t]*\d{1,2}$"
)
LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.、)）]|[（(]\d{1,2}[)）])\s*(?=\S)")
_TAIL = re.compile(r"(?:\s*(?:" + CITATION.pattern + r"|[。！？!?.…]))+\s*$")
_CLAUSE_PUNCT = re.compile(r"[，；;]|(?<!\d),|,(?!\d)|：|:(?=\s)")  # not in 10,000
_ZH_CONJ = ("但是", "但", "然而", "而且", "并且", "因此", "所以", "从而", "不过")
# openings stripped before a fragment is sized (longest first where one holds another)
_ZH_LEAD = tuple(
    """但是 但 然而 而且 并且 而是 而 因此 所以 从而 不过 同时 并 以及 且 此外 另外 其中 也就是说 也就是 即 甚至 还""".split()  # noqa: SIM905 - a word list reads better as text
)
_EN_CONJ = re.compile(
    r"(?<!\bof)(?<!\bin)(?<!\bby)(?<!\bfor)(?<!\bon)(?<!\bto)(?<!\bat)(?<!\bwith)"
    r"\s+(?=(?:but|while|whereas|although|though|which|so that|and because|because)\b)",
    re.IGNORECASE,
)
EN_LEAD = re.compile(
    r"^(?:and|but|while|whereas|although|though|which|so|because|and because|then|also|thus|"
    r"hence|therefore|making|so that)\b[\s,]*",
    re.IGNORECASE,
)


def _masked(text: str) -> str:
    """``text`` with citations and bracketed asides blanked out (same length)."""
    out = CITE.sub(lambda m: " " * len(m.group(0)), text)
    for pat in (r"\([^()]*\)", r"（[^（）]*）", r"《[^《》]*》", r"“[^“”]*”", r"\"[^\"]*\""):
        out = re.sub(pat, lambda m: "(" + "x" * (len(m.group(0)) - 2) + ")", out)
    return out


# A sentence that is only the answer to a yes/no question ("不是。", "No.", "是的 [1]。"): it
# says nothing checkable on its own, so it is judged with the sentence that follows it.
_POLARITY_ONLY = re.compile(
    r"^(?:是的?|不是|对|不对|没错|不|否|可以|不可以|能|不能|会|不会|需要|不需要|有|没有|用|不用|"
    r"必须|不必|yes|no|yes,?\s*(?:it|they|this|that)\s+(?:is|are|does|do|can|will|has|have)|"
    r"no,?\s*(?:it|they|this|that)\s+(?:is|are|does|do|can|will|has|have)(?:n't|\s+not))[\s,，]*$",
    re.IGNORECASE,
)


def is_polarity_only(sentence: str) -> bool:
    """True for a sentence that only says yes or no.

    >>> is_polarity_only("不是 [1]。"), is_polarity_only("No, it doesn't."), is_polarity_only("不是 DDPM。")
    (True, True, False)
    """
    body = CITE.sub("", sentence).strip().rstrip("。！？!?.…").strip()
    return bool(_POLARITY_ONLY.match(body))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the answer's sentences, each keeping the citations that follow it; a
    yes/no sentence is one sentence with the next (:func:`is_polarity_only`)."""
    spans = _raw_sentences(text)
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and is_polarity_only(text[merged[-1][0] : merged[-1][1]]):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _raw_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    masked = _masked(text)
    for m in _SENT_END.finditer(masked):
        if m.group(0) == "." and _not_an_end(text, m.start()):
            continue
        end = m.end()
        follow = CITE.match(text, end)
        while follow:
            end = follow.end()
            follow = CITE.match(text, end)
        if text[pos:end].strip():
            spans.append((pos, end))
        pos = end
    if pos < len(text) and text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def _not_an_end(text: str, dot: int) -> bool:
    """The full stop at ``dot`` ends an abbreviation or a list item's number, or is followed by
    a lowercase word.

    >>> s = "Attributes such as price, brand, etc. are scattered [1]."
    >>> _not_an_end(s, s.index(".")), _not_an_end(s, len(s) - 1)
    (True, False)
    >>> s = "做了以下改进： 1. 使用了耦合层。 2. 提高了质量。"
    >>> _not_an_end(s, s.index(".")), _not_an_end("共有 2.", 4), _not_an_end("It has 8. Each", 8)
    (True, False, False)
    >>> _not_an_end("A rate of 0.1. It is", 13)  # a decimal, not the number of an item
    False
    >>> s = "Steps: 1. Start at t=0. 2. Move one step."
    >>> _not_an_end(s, s.index("2.") + 1)
    True
    >>> s = "with statues of St. John of Matha and St. Felix on either side [1]. The latency is 20 ms. It"
    >>> [_not_an_end(s, i) for i, ch in enumerate(s) if ch == "."]
    [True, True, False, False]
    >>> s = "假如我们有N张显卡, 1. (缓解GIL限制)在DDP模式下,会有N个进程被启动。"
    >>> _not_an_end(s, s.index("1.") + 1), _not_an_end("The values are 1, 2. Next", 19)
    (True, False)
    """
    return bool(
        _ABBREVIATION.search(text[max(0, dot - 8) : dot])
        or (
            _TITLE.search(text[max(0, dot - 8) : dot])
            and text[dot + 1 : dot + 3].strip()[:1].isupper()
        )
        or _LOWER_NEXT.match(text, dot + 1)
        or (
            _LIST_NUMBER.search(text, 0, dot)
            and text[dot + 1 : dot + 2].isspace()
            and text[dot + 1 :].strip()
        )
    )


def _content_size(text: str, english: bool) -> int:
    """Content words of an English fragment, or half the characters of a Chinese one."""
    if english:
        words = [w.lower() for w in EN_WORD.findall(text)]
        return sum(
            1 for w in words if w not in EN_STOP and w not in EN_EXTRA_STOP and len(w) > 2
        ) + len(re.findall(r"\d+", text))
    return len(CJK.findall(text)) // 2 + len(re.findall(r"[A-Za-z0-9]+", text))


def split_clauses(text: str, start: int, end: int, english: bool) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]`` (a sentence body without its tail)."""
    masked = _masked(text)
    cuts = _cuts(masked, start, end, english)
    if english:  # "…not differentiable (it involves taking the logarithm…)": its own claim
        for s, e in _asides(text, start, end):
            cuts = sorted({*cuts, s, *([e] if e < end else [])})
    spans = [(cuts[i], cuts[i + 1] if i + 1 < len(cuts) else end) for i in range(len(cuts))]
    return _merge_fragments(text, spans, end, english)


_PAREN = re.compile(r"\s*\(([^()]*)\)")


def _asides(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of an English sentence's parenthetical asides that say something of their own
    (5+ English words, no Chinese: not a gloss like "(热图)" or a name like "(Click Through
    Rate, CTR)")."""
    return [
        (m.start(), m.end())
        for m in _PAREN.finditer(text, start, end)
        if m.start() > start and parenthetical(m.group(0))
    ]


def parenthetical(text: str) -> bool:
    """An English aside in parentheses that makes a claim of its own.

    Example:
        >>> parenthetical(" (it involves taking the logarithm of the probabilities)")
        True
        >>> parenthetical('(auxiliary-loss-free strategy for load balancing)")')
        True
        >>> parenthetical("(热图)"), parenthetical("(Click Through Rate, CTR)")
        (False, False)
    """
    # (the end of a quote the aside sat in may follow: '…策略(auxiliary-loss-free strategy)")')
    m = re.fullmatch(r"\s*\(([^()]*)\)[\s,;:\"”')]*", CITE.sub("", text))
    return bool(m) and not CJK.search(m.group(1)) and len(EN_WORD.findall(m.group(1))) >= 5


def _cuts(masked: str, start: int, end: int, english: bool) -> list[int]:
    """Where clauses may start: at clause punctuation and before conjunctions."""
    cuts = [start]
    for m in _CLAUSE_PUNCT.finditer(masked, start, end):
        if english and re.match(
            r"\s*(?:of|in|by|for|on|to|at|with|from)\s+which\b", masked[m.end() : end]
        ):
            continue  # ", of which ..." belongs to its noun
        cuts.append(m.start())
    if english:
        for m in _EN_CONJ.finditer(masked, start, end):
            cuts.append(m.end())
    else:
        for conj in _ZH_CONJ:
            for m in re.finditer(re.escape(conj), masked[start:end]):
                at = start + m.start()
                prev = masked[at - 1] if at > start else ""
                if (
                    prev
                    and CJK.match(prev)
                    and not masked[at - 1 : at + len(conj)].startswith(("不但", "不过"))
                ):
                    cuts.append(at)
    return sorted(set(c for c in cuts if start <= c < end))


def _merge_fragments(
    text: str, spans: list[tuple[int, int]], end: int, english: bool
) -> list[tuple[int, int]]:
    """Merge the fragments that cannot stand alone into their neighbours."""
    merged: list[list[int]] = []
    carry: int | None = None
    for s, e in spans:
        frag = CITE.sub("", text[s:e])
        body = re.sub(r"^[\s，,；;：:]+", "", frag)
        if english:
            body = EN_LEAD.sub("", body)
        else:
            for lead in _ZH_LEAD:
                if body.startswith(lead):
                    body = body[len(lead) :]
                    break
        size = _content_size(body, english)
        if carry is not None:
            s = carry
            carry = None
        if size >= 2 and _leading_modifier(body, english) and (s, e) != spans[-1]:
            carry = (
                s  # "In auction-based ads, ..." / "在相同的策略下，...": part of the next clause
            )
            continue
        if size < 2:
            if (
                merged
                and not (
                    frag.strip(" ，,").rstrip("，,")
                    in ("因此", "所以", "但是", "而且", "是的", "不")
                    or not body.strip()
                )
            ) or (merged and not body.strip() and size == 0 and re.match(r"^[\s，,；;]*$", frag)):
                merged[-1][1] = e
            else:
                carry = s
            continue
        merged.append([s, e])
    if carry is not None:
        if merged:
            merged[-1][1] = end
        else:
            merged.append([carry, end])
    return [(s, e) for s, e in merged]


_EN_PREP_LEAD = re.compile(
    r"^(?:in|during|before|after|for|at|on|with|by|from|under|when|if|as|unlike|like|compared to|"
    r"compared with|according to|besides|apart from|without|within|through|once|since)\b",
    re.IGNORECASE,
)


_DATE = re.compile(
    r"^(?:(?:公元前?)?\d{1,4}\s*年(?:\s*\d{1,2}\s*月)?|\d{1,2}\s*月)(?:\s*\d{1,2}\s*[日号])?"
    r"(?:起|初|底|末|中|间|时|以来|之后|以后|后|前)?\s*$"
)


def _leading_modifier(body: str, english: bool) -> bool:
    """A short adverbial phrase opening a sentence, which qualifies the clause after it."""
    if english:
        return bool(_EN_PREP_LEAD.match(body)) and len(EN_WORD.findall(body)) <= 5
    if _DATE.match(body):  # "2008年1月，…": the date of the statement after it
        return True
    return (
        bool(re.match(r"^(?:在|当|对于|对|从|随着|为了|根据|除了)", body))
        and bool(re.search(r"(?:时|下|中|后|前|里|上|来说|而言|之后|之前|以来)\s*$", body))
        and len(body) <= 16
    )


# --------------------------------------------------------------------------- the answer
@dataclass
class Sentence:
    """One answer sentence: its span, its body (without the tail of citations and end
    punctuation), that punctuation, its clauses (indices into :attr:`Parsed.clauses`)."""

    span: tuple[int, int]
    body: tuple[int, int]
    punct: str
    clauses: list[int]
    english: bool


@dataclass
class Parsed:
    """The answer cut into sentences and clauses, each clause with the passages it cites.

    ``groups[i]`` is the offset of the citation mark clause ``i`` shares with its neighbours
    (-1 when it has none): clauses of one group get one mark when the answer is rebuilt.
    ``dropped`` are cited numbers that name no passage.
    """

    sentences: list[Sentence] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    groups: list[float] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def parse_answer(text: str, n_passages: int) -> Parsed:
    """Sentences, clauses and their citations (``[n]`` for n outside 1..n_passages dropped)."""
    parsed = Parsed()
    for si, (s, e) in enumerate(split_sentences(text)):
        sent = text[s:e]
        tail = _TAIL.search(sent)
        body_end = s + (tail.start() if tail else len(sent))
        tail_text = text[body_end:e]
        punct = "".join(ch for ch in CITE.sub("", tail_text) if ch in "。！？!?.…")
        english = is_english(sent)
        cites = _citations(text, s, e, n_passages, parsed.dropped)
        # clause spans over the body (without leading whitespace)
        bs = s
        while bs < body_end and text[bs].isspace():
            bs += 1
        spans = split_clauses(text, bs, body_end, english) if body_end > bs else []
        idxs = []
        for k, (cs, ce) in enumerate(spans):
            # citations inside or right after the clause (before the next clause starts)
            nxt = spans[k + 1][0] if k + 1 < len(spans) else e
            own = [c for c in cites if cs <= c[0] < nxt]
            later = [c for c in cites if c[0] >= nxt]
            earlier = [c for c in cites if c[0] < cs]
            group = own[0] if own else (later[0] if later else (earlier[-1] if earlier else None))
            nums: list[int] = []
            for c in own or ([group] if group else []):
                for x in c[2]:
                    if x not in nums:
                        nums.append(x)
            raw = text[cs:ce]
            ctext = re.sub(r"^[\s，,；;：:]+", "", CITE.sub("", raw)).strip()
            ctext = LIST_MARKER.sub("", ctext)  # "2. 提高了…" claims no 2
            idxs.append(len(parsed.clauses))
            parsed.clauses.append(Clause(text=ctext, start=cs, end=ce, sentence=si, cited=nums))
            parsed.groups.append(float(group[0]) if group else -1.0)
        parsed.sentences.append(Sentence((s, e), (bs, body_end), punct, idxs, english))
    return parsed


def _citations(
    text: str, s: int, e: int, n_passages: int, dropped: list[int]
) -> list[tuple[int, int, list[int]]]:
    """The citation marks of ``text[s:e]``: (start, end, valid passage numbers); the numbers
    that name no passage are added to ``dropped``."""
    cites: list[tuple[int, int, list[int]]] = []
    for m in CITE.finditer(text, s, e):
        nums = parse_citations(m)
        for num in nums:
            if not 1 <= num <= n_passages and num not in dropped:
                dropped.append(num)
        cites.append((m.start(), m.end(), [x for x in nums if 1 <= x <= n_passages]))
    return cites
