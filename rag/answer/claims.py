"""Claim-level verification of an LLM answer against the passages it was given.

Each answer sentence is cut into clauses (at commas, semicolons and conjunctions such as 但/而且/
因此, "but", "while", "which"; a fragment too short to stand alone stays with its neighbour). A
clause is *supported* when one evidence sentence (or two adjacent ones) of a passage covers it:

(a) every number in the clause is in that sentence, exactly (``10~50``/``10-50``/``10 to 50``,
    ``1万``/``ten thousand``, ``2.8B``, ``1,000``, ``两种``/``two`` are normalised first);
(b) its names (Latin terms, model names, acronyms) are in the passages, literally;
(c) enough of its content words are in that sentence (jieba terms; for an English clause over
    Chinese text, the CC-CEDICT/ML-glossary renderings of its words);
(d) the polarity agrees (a negation on the matched predicate in one and not in the other);
(e) its e5 similarity with that sentence is high enough (mostly decisive for cross-lingual
    clauses).

(a), (b) and (d) are rules; (c) and (e) and a few counts are combined by a logistic model fitted
on the dev split of ``faithfulness.jsonl`` (``claims_model.json``: weights, feature names,
threshold). ``[n]`` is ``passages[n-1]``. Unsupported clauses are removed (the sentence too when
what is left cannot stand alone); citations are repaired to the passage that supports a clause.

Example:
    >>> from rag.schema import Passage
    >>> p = [Passage("DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果，也就是提速 10~50 倍。",
    ...              "ddim", "DDIM", "ddim.md", "ddim#0", 1.0)]
    >>> from rag.text.tokenize_zh import BM25Tokenizer
    >>> terms = BM25Tokenizer()
    >>> c = check_answer("DDIM 可以提速 10~50 倍，但需要更多的计算资源 [1]。", p, terms=terms)
    >>> c.text, [r.reason for r in c.removed]
    ('DDIM 可以提速 10~50 倍 [1]。', ["'计算资源', '多' not in the passages"])
    >>> check_answer("DDIM 可以提速 100 倍 [1]。", p, terms=terms).removed[0].reason
    'number 100 not in [1]'
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.schema import Passage
from rag.text.glossary import EN_STOPWORDS as EN_STOP
from rag.text.glossary import Glossary, stem

__all__ = [
    "FEATURES",
    "CheckedAnswer",
    "ClaimModel",
    "Clause",
    "check_answer",
    "is_abstention",
    "parse_citations",
]

# --------------------------------------------------------------------------- citations
CITE = re.compile(r"\s*(?:\[(\d+(?:\s*[,，、]\s*\d+)*)\]|【(\d+)】)")
NO_ANSWER = {"zh": "资料中没有相关内容。", "en": "The articles don't cover this."}
ABSTAIN_PATTERNS = re.compile(
    r"资料中没有|没有相关内容|没有提到|未提及|并未提及|没有涉及|无法回答|无法从|不包含|没有包含|没有给出|"
    r"未涉及|没有说明|未说明|"
    r"don't cover|do not cover|doesn't cover|does not cover|not covered|do not contain|"
    r"does not contain|doesn't contain|don't contain|not mentioned|no information|"
    r"cannot answer|can't answer|not provided|do not mention|does not mention|doesn't mention",
    re.IGNORECASE,
)


def parse_citations(match: re.Match[str]) -> list[int]:
    """Passage numbers of one citation match of :data:`CITE` (``[1, 2]`` -> ``[1, 2]``)."""
    raw = match.group(1) or match.group(2) or ""
    return [int(n) for n in re.findall(r"\d+", raw)]


def is_abstention(text: str) -> bool:
    """True when the answer says the passages do not contain the answer.

    >>> is_abstention("资料中没有相关内容。"), is_abstention("DDIM 仅采样 20~100 步 [1]。")
    (True, False)
    """
    stripped = CITE.sub("", text).strip()
    if not stripped:
        return True
    return bool(ABSTAIN_PATTERNS.search(stripped[:80])) and len(stripped) < 160


# --------------------------------------------------------------------------- text units
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*(?:[-.'/][A-Za-z0-9_]+)*")
_LATIN_GROUP = re.compile(
    r"[A-Za-z][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*(?:[ \t]+[A-Za-z][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*)*"
    r"|\d+[A-Za-z][A-Za-z0-9_]*"
)
_NORM_DROP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")

ZH_STOP = frozenset(
    [
        "可以",
        "能够",
        "能",
        "会",
        "进行",
        "通过",
        "一种",
        "一个",
        "这种",
        "这样",
        "这个",
        "那个",
        "其中",
        "因此",
        "所以",
        "但是",
        "但",
        "而且",
        "并且",
        "同时",
        "然后",
        "也",
        "还",
        "就是",
        "也就是",
        "主要",
        "例如",
        "比如",
        "包括",
        "以及",
        "非常",
        "十分",
        "通常",
        "一般",
        "之一",
        "用于",
        "来",
        "用",
        "是",
        "有",
        "具有",
        "文章",
        "本文",
        "这篇",
        "介绍",
        "所谓",
        "叫做",
        "称为",
        "称作",
        "即",
        "也是",
        "就",
        "都",
        "将",
        "把",
        "被",
        "对",
        "对于",
        "而",
        "并",
        "从而",
        "甚至",
        "由",
        "它们",
        "它",
        "他",
        "她",
        "其",
        "该",
        "此",
        "这些",
        "那些",
        "什么",
        "如何",
        "为什么",
        "因为",
        "由于",
        "所",
        "使得",
        "使",
        "让",
        "得到",
        "一些",
        "很多",
        "许多",
        "比较",
        "相对",
        "更",
        "最",
        "很",
        "较",
        "已经",
        "仍然",
        "依然",
        "还是",
        "是否",
        "需要",
        "方法",
        "方式",
        "问题",
        "技术",
        "思想",
        "思路",
        "作用",
        "目的",
        "时",
        "时候",
        "情况",
        "方面",
        "可能",
        "可",
        "一定",
        "来说",
        "而言",
        "上",
        "下",
        "中",
        "里",
        "内",
        "之间",
        "以",
        "于",
        "为",
        "在",
        "及",
        "和",
        "与",
        "或",
        "等",
        "的",
        "了",
    ]
)
EN_EXTRA_STOP = frozenset(
    [
        "mention",
        "mentions",
        "mentioned",
        "mentioning",
        "call",
        "calls",
        "called",
        "give",
        "gives",
        "given",
        "giving",
        "include",
        "includes",
        "included",
        "including",
        "take",
        "takes",
        "taken",
        "taking",
        "example",
        "examples",
        "because",
        "since",
        "while",
        "whereas",
        "although",
        "though",
        "also",
        "still",
        "usually",
        "usual",
        "generally",
        "general",
        "often",
        "typically",
        "first",
        "several",
        "essentially",
        "basically",
        "simply",
        "actually",
        "really",
        "certain",
        "certainly",
        "just",
        "namely",
        "i.e",
        "author",
        "authors",
        "article",
        "articles",
        "paper",
        "papers",
        "text",
        "post",
        "blog",
        "describe",
        "describes",
        "described",
        "explain",
        "explains",
        "explained",
        "introduce",
        "introduces",
        "introduced",
        "show",
        "shows",
        "showed",
        "shown",
        "go",
        "goes",
        "going",
        "went",
        "way",
        "ways",
        "thing",
        "things",
        "fact",
        "case",
        "cases",
        "part",
        "parts",
        "kind",
        "kinds",
        "form",
        "forms",
        "need",
        "needs",
        "needed",
        "become",
        "becomes",
        "became",
        "bring",
        "brings",
        "brought",
        "cover",
        "covers",
        "covered",
    ]
)
_TERMS_PATH = Path(__file__).with_name("claims_terms.tsv")


def _load_terms(path: Path = _TERMS_PATH) -> dict[str, frozenset[str]]:
    """English stem -> Chinese renderings from ``claims_terms.tsv`` (supplements the glossary)."""
    out: dict[str, set[str]] = {}
    if not path.exists():
        return {}
    skip = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ---"):
            # sections marked "(dev)" were written from the dev split's answers: a fit can leave
            # them out so that its features look like those of unseen text
            skip = "(dev)" in line and os.environ.get("CLAIMS_TERMS_NO_DEV") == "1"
        if skip or line.startswith("#") or "\t" not in line:
            continue
        en, zh = line.split("\t", 1)
        for form in _variants(en.strip().lower()) | {stem(w) for w in en.lower().split()}:
            out.setdefault(form, set()).add(zh.strip())
    return {k: frozenset(v) for k, v in out.items()}


EXTRA_TERMS: dict[str, frozenset[str]] = {}

_EN_STOP_STEMS = frozenset(stem(w) for w in EN_STOP | EN_EXTRA_STOP)

# --------------------------------------------------------------------------- numbers
_EN_NUM = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "twice": 2,
    "double": 2,
    "triple": 3,
    "half": 0.5,
    "quarter": 0.25,
    "dozen": 12,
}
_SCALE = {
    "hundred": 100,
    "thousand": 1000,
    "million": 10**6,
    "billion": 10**9,
    "百": 100,
    "千": 1000,
    "万": 10**4,
    "亿": 10**8,
    "k": 1000,
    "K": 1000,
    "M": 10**6,
    "B": 10**9,
    "T": 10**12,
}
_ZH_DIGIT = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}
_NUM = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?"
_UNIT = r"\s*(?:%|％|percent\b|[KkMBT](?![A-Za-z])|万|亿|千|百(?!分)|billion\b|million\b|thousand\b|hundred\b)?"
_ARABIC = re.compile(
    rf"(?<![A-Za-z0-9_.])([+-]?)({_NUM})({_UNIT})"
    rf"(?:\s*(?:~|～|–|—|-|到|至|to)\s*({_NUM})({_UNIT}))?(?![A-Za-z0-9_])"
)
_EN_NUM_RE = re.compile(
    r"\b(?:(a|one|\d+)\s+)?(" + "|".join(sorted(_EN_NUM, key=len, reverse=True)) + r")\b"
    r"(?:\s+(hundred|thousand|million|billion)\b)?",
    re.IGNORECASE,
)
_ZH_NUM_CLAUSE = re.compile(
    r"(第)?([零一二两三四五六七八九十百千万亿]+)(?=(分之[零一二三四五六七八九十]+)?)"
)
_ZH_COUNTERS = "种个点大步次维倍层类项条名位张组轮阶部段年款篇级句份路类遍头块"
_ZH_NUM_ZH_STOP = (
    "一些",
    "一样",
    "一直",
    "一定",
    "一般",
    "一起",
    "统一",
    "唯一",
    "一致",
    "一旦",
    "万一",
    "一切",
    "之一",
    "一下",
    "一方面",
    "进一步",
    "一向",
    "一律",
    "百分",
    "千万",
    "十分",
    "一并",
    "一同",
    "单一",
    "同一",
    "一体",
    "一边",
    "一再",
    "一心",
    "一开始",
    "一点",
)


@dataclass(frozen=True)
class Number:
    """A normalised figure: a value or a range, maybe a percentage, maybe with its counter word.

    ``counter`` is the Chinese measure word after the figure (``种`` in ``两种``, ``次`` in ``二次``),
    so that ``二次`` (quadratic) does not match ``二阶``.
    """

    low: float
    high: float
    percent: bool = False
    surface: str = ""
    counter: str = ""

    def key(self) -> tuple[float, float, bool]:
        return (round(self.low, 6), round(self.high, 6), self.percent)


def _zh_value(s: str) -> float | None:
    """Value of a Chinese numeral string (``三``, ``十二``, ``两千``, ``一万``)."""
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            unit = _ZH_UNIT[ch]
            if unit >= 10**4:
                section = (section + (digit or 0)) * unit
                total += section
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return float(total + section + (digit or 0))


def _scaled(num: str, unit: str) -> tuple[float, bool]:
    value = float(num.replace(",", ""))
    u = unit.strip()
    if u in ("%", "％", "percent"):
        return value, True
    if u:
        value *= _SCALE.get(u, _SCALE.get(u.lower(), 1))
    return value, False


def _counter_after(text: str, end: int) -> str:
    m = re.match(r"\s?([" + _ZH_COUNTERS + "])", text[end : end + 2])
    return m.group(1) if m else ""


def numbers_in(text: str, strict: bool = True) -> list[Number]:
    """The figures of ``text``, normalised.

    With ``strict`` (answer clauses) a lone ``一`` counts only before 次/步/倍/维/层; on the
    evidence side a Chinese numeral counts before any counter word, after 第, or when it has
    more than one character.

    >>> [(n.low, n.high) for n in numbers_in("提速 10~50 倍, 1万 次, 2.8B 参数, 两种方案")]
    [(10.0, 50.0), (10000.0, 10000.0), (2800000000.0, 2800000000.0), (2.0, 2.0)]
    >>> [(n.low, n.high) for n in numbers_in("by 10 to 50 times, ten thousand times")]
    [(10.0, 50.0), (10000.0, 10000.0)]
    """
    text = unicodedata.normalize("NFKC", text)
    out: list[Number] = []
    taken: list[tuple[int, int]] = []
    for m in _ARABIC.finditer(text):
        lo, pct = _scaled(m.group(2), m.group(3))
        counter = _counter_after(text, m.end())
        if m.group(4):
            hi, pct2 = _scaled(m.group(4), m.group(5))
            if m.group(5).strip() and not m.group(3).strip():  # "10~50%" / "2~3B"
                lo, pct = _scaled(m.group(2), m.group(5))
            out.append(Number(min(lo, hi), max(lo, hi), pct or pct2, m.group(0).strip(), counter))
        else:
            out.append(Number(lo, lo, pct, m.group(0).strip(), counter))
        taken.append(m.span())
    for m in _EN_NUM_RE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        word = m.group(2).lower()
        value = float(_EN_NUM[word])
        pre = m.group(1)
        if pre and pre.isdigit():
            value = float(pre) * _EN_NUM[word] if _EN_NUM[word] >= 100 else value
        if m.group(3):
            value *= _SCALE[m.group(3).lower()]
        out.append(Number(value, value, False, m.group(0).strip()))
        taken.append(m.span())
    if not _CJK.search(text):
        return out
    for m in re.finditer(
        r"([零一二两三四五六七八九十百千万亿]+)(?:分之([零一二两三四五六七八九十]+))?", text
    ):
        s, e = m.span()
        run = m.group(1)
        if any(ts <= s < te for ts, te in taken):
            continue
        if not m.group(2) and any(_overlaps(text, w, s, e) for w in _ZH_NUM_ZH_STOP):
            continue
        ordinal = s > 0 and text[s - 1] == "第"
        after = text[e : e + 1]
        counter = after if after and after in _ZH_COUNTERS else ""
        if not ordinal and not m.group(2):
            if strict and (not counter or (run == "一" and counter not in "次步倍维层")):
                continue
            if not strict and not counter and len(run) < 2:
                continue
        value = _zh_value(run)
        if value is None:
            continue
        if m.group(2):
            numer = _zh_value(m.group(2))
            if not value or numer is None:
                continue
            value = numer / value
        out.append(Number(value, value, False, ("第" if ordinal else "") + m.group(0), counter))
    return out


def _overlaps(text: str, word: str, s: int, e: int) -> bool:
    lo = max(0, s - len(word))
    for m in re.finditer(re.escape(word), text[lo : e + len(word)]):
        ws = lo + m.start()
        if ws < e and ws + len(word) > s:
            return True
    return False


def _number_found(n: Number, have: frozenset[tuple[float, float, bool, str]]) -> bool:
    key = n.key()
    for lo, hi, pct, counter in have:
        if (lo, hi, pct) == key and (not n.counter or not counter or counter == n.counter):
            return True
    return False


# --------------------------------------------------------------------------- negation
_ZH_NEG = re.compile(
    r"不再|不是|不能|不会|不需要|不需|不必|不用|不可|没有|没|无需|无法|无须|未|不|非|无|别|勿"
)
_ZH_MODAL = frozenset(
    [
        "特别",
        "非常",
        "很",
        "太",
        "再",
        "一定",
        "能",
        "会",
        "需要",
        "必须",
        "可以",
        "能够",
        "用",
        "要",
        "够",
        "都",
        "也",
        "就",
        "只",
        "仅",
        "是",
        "被",
        "在",
        "那么",
        "这么",
        "完全",
        "直接",
        "一样",
        "太过",
        "怎么",
        "总是",
        "一直",
        "再次",
        "得",
        "该",
        "应该",
        "应",
        "算",
        "做",
        "去",
        "来",
        "会有",
        "有",
    ]
)
_ZH_NEG_FALSE = (
    "不同",
    "不断",
    "不少",
    "不仅",
    "不过",
    "不管",
    "不论",
    "无论",
    "非常",
    "不久",
    "不一",
    "无穷",
    "无限",
    "未来",
    "除非",
    "并非常",
    "是否",
    "否则",
    "非线性",
    "不胜枚举",
    "非零",
    "不错",
    "无关紧要",
    "不定",
    "非负",
    "无偏",
    "要不",
    "不然",
    "要么",
)
_EN_NEG = re.compile(
    r"\b(?:not|no|never|without|cannot|none|neither|nor|unlike|instead of|rather than|no longer|"
    r"\w+n't)\b",
    re.IGNORECASE,
)


_EN_CMP = re.compile(
    r"(?<!rather )\bthan\b|\b(?:most|best|worst|least|outperform\w*|surpass\w*|beats?)\b"
    r"|\b(?!(?:inter|sugg|requ|lat|contest|protest|forest|hon|mod|manif|dig|inv|harv|att|inges|arr|"
    r"gu|n|w|r|t|p|v|z|ch|cr|j|l|qu)est\b)[a-z]{2,}est\b",
    re.IGNORECASE,
)
_ZH_CMP = re.compile(
    r"比(?![例较如赛特])|更(?![新改换正])|最(?![终初后近新])|超过|优于|胜过|不如|高于|低于|强于|弱于|远超|领先|全面"
)
_CMP_EVIDENCE_ZH = re.compile(
    r"比(?![例如赛特])|更(?![新改换正])|最(?![终初后])|相比|相较|超过|优于|胜过|不如|高于|低于|强于|弱于|远超|"
    r"领先|加速|提速|倍|\bthan\b"
)
_CMP_EVIDENCE_EN = re.compile(
    r"\bthan\b|\b(?:most|best|worst|least|more|less|fewer)\b|[a-z]{3,}(?:er|est)\b", re.IGNORECASE
)


def _zh_negations(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _ZH_NEG.finditer(text):
        s = m.start()
        if any(
            text.startswith(w, s) or (s > 0 and text.startswith(w, s - 1) and w[1:2] == text[s])
            for w in _ZH_NEG_FALSE
        ):
            continue
        spans.append(m.span())
    return spans


# --------------------------------------------------------------------------- evidence
@dataclass
class _Candidate:
    passage: int  # 0-based
    start: int
    end: int
    text: str
    low: str
    norm: str
    terms: frozenset[str]
    stems: frozenset[str]
    numbers: frozenset[tuple[float, float, bool, str]]
    negations: list[tuple[int, int]]


@dataclass
class _Unit:
    kind: str  # "zh" (a Chinese term) or "en" (an English stem)
    key: str
    weight: float
    surface: str
    subterms: tuple[str, ...] = ()  # zh: shorter terms inside it; en: its variant forms
    pos: int = 0  # offset in the clause


@dataclass
class _ClauseInfo:
    text: str
    english: bool
    numbers: list[Number]
    names: list[tuple[str, str]]  # (surface, normalised)
    units: list[_Unit]
    negated: bool
    neg_preds: list[str]
    neg_scope: list[_Unit] = field(default_factory=list)
    comparative: bool = False


# --------------------------------------------------------------------------- results
@dataclass
class Clause:
    """One clause of the answer and its verdict.

    Attributes:
        text: The clause as written (citations removed).
        start, end: Offsets into the answer.
        sentence: Index of the answer sentence it belongs to.
        status: ``"supported"`` or ``"unsupported"``.
        cited: Passage numbers the answer gave it.
        support: Passage numbers that support it (after repair; empty when unsupported).
        evidence_passage: 1-based number of the best evidence passage (0 when none).
        evidence_start, evidence_end: Offsets of the evidence sentence in that passage's text.
        evidence: The evidence sentence.
        score: Probability of support from the calibrated model (0 when a rule failed).
        similarity: e5 similarity with the evidence sentence (None when not computed).
        reason: Why it is unsupported (empty when supported).
        rule: The rule that decided it (``number``, ``name``, ``negation``, ``comparison``).
        lang: ``zh`` or ``en``: which half of the model scored it (the sentence's language).
        features: The model's inputs for the best evidence sentence.
    """

    text: str
    start: int
    end: int
    sentence: int
    status: str = "supported"
    cited: list[int] = field(default_factory=list)
    support: list[int] = field(default_factory=list)
    evidence_passage: int = 0
    evidence_start: int = 0
    evidence_end: int = 0
    evidence: str = ""
    score: float = 0.0
    similarity: float | None = None
    reason: str = ""
    rule: str = ""
    lang: str = ""
    features: dict[str, float] = field(default_factory=dict)

    @property
    def supported(self) -> bool:
        return self.status == "supported"

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["features"] = {k: round(v, 4) for k, v in self.features.items()}
        return d


@dataclass
class CheckedAnswer:
    """The verified answer.

    Attributes:
        text: Cleaned answer: unsupported clauses removed, citations repaired. ``""`` when
            nothing supported is left (see :attr:`empty`): fall back to the extractive answer.
        clauses: Every clause with its verdict.
        removed: The unsupported clauses.
        cited: Passage numbers cited in ``text``, in order of first citation.
        dropped_numbers: Citation numbers that name no passage.
        abstained: The model said the passages do not answer the question.
        notice: One line naming what was dropped, or None.
        support: Share of clauses supported (1.0 for an abstention).
    """

    text: str
    clauses: list[Clause] = field(default_factory=list)
    removed: list[Clause] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    dropped_numbers: list[int] = field(default_factory=list)
    abstained: bool = False
    notice: str | None = None
    support: float = 1.0

    @property
    def empty(self) -> bool:
        """True when no supported content is left (the chain should answer extractively)."""
        return not self.abstained and not self.text.strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "clauses": [c.to_dict() for c in self.clauses],
            "unsupported": [{"text": c.text, "reason": c.reason} for c in self.removed],
            "cited": self.cited,
            "dropped_numbers": self.dropped_numbers,
            "abstained": self.abstained,
            "notice": self.notice,
            "support": self.support,
        }


# --------------------------------------------------------------------------- model
FEATURES = (
    "cov",
    "miss_c",
    "miss_a",
    "miss_share",
    "name_miss",
    "neg",
    "cmp",
    "sim",
    "sim_x",
    "short",
)
_MODEL_PATH = Path(__file__).with_name("claims_model.json")


@dataclass
class ClaimModel:
    """A logistic model per clause language over :data:`FEATURES`, with its threshold.

    The JSON file stores the feature names next to the weights; loading a file fitted for a
    different feature set fails instead of silently mis-scoring.
    """

    weights: dict[str, dict[str, float]]  # lang -> feature -> weight ("bias" included)
    threshold: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str | None = None) -> ClaimModel:
        data = json.loads(Path(path or _MODEL_PATH).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"claims model {path or _MODEL_PATH} was fitted for features {data['features']}, "
                f"the code computes {list(FEATURES)}: refit it (bench_faithfulness.py --fit)"
            )
        return cls(data["weights"], data["threshold"], data.get("meta", {}))

    def save(self, path: Path | str | None = None) -> None:
        data = {
            "features": list(FEATURES),
            "weights": self.weights,
            "threshold": self.threshold,
            "meta": self.meta,
        }
        Path(path or _MODEL_PATH).write_text(
            json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def prob(self, lang: str, feats: dict[str, float]) -> float:
        w = self.weights[lang]
        z = w["bias"] + sum(w[f] * feats[f] for f in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def contributions(self, lang: str, feats: dict[str, float]) -> dict[str, float]:
        w = self.weights[lang]
        return {f: w[f] * feats[f] for f in FEATURES}


_DEFAULT_MODEL: ClaimModel | None = None


def default_model() -> ClaimModel:
    global _DEFAULT_MODEL
    if _DEFAULT_MODEL is None:
        _DEFAULT_MODEL = ClaimModel.load()
    return _DEFAULT_MODEL


# --------------------------------------------------------------------------- the checker
class _Checker:
    def __init__(
        self,
        passages: Sequence[Passage],
        terms: Callable[[str], list[str]],
        glossary: Glossary | None,
        sentence_spans: Callable[[str], list[tuple[int, int]]],
    ) -> None:
        self.passages = passages
        self.terms = terms
        self.glossary = glossary
        self._term_cache: dict[str, list[str]] = {}
        self._render_cache: dict[str, frozenset[str]] = {}
        self.cands: list[_Candidate] = []
        self.by_passage: list[list[int]] = []
        for pi, p in enumerate(passages):
            idx: list[int] = []
            spans = sentence_spans(p.text)
            singles = [self._candidate(pi, p.text, s, e) for s, e in spans]
            for k, c in enumerate(singles):
                idx.append(len(self.cands))
                self.cands.append(c)
                if k + 1 < len(singles):
                    nxt = singles[k + 1]
                    idx.append(len(self.cands))
                    self.cands.append(self._merge(p.text, c, nxt))
            self.by_passage.append(idx)
        # each passage as one pseudo-candidate: "is this word anywhere in passage p?"
        self.pass_cands: list[_Candidate] = []
        for pi, p in enumerate(passages):
            low = unicodedata.normalize("NFKC", p.text).lower()
            mine = [self.cands[k] for k in self.by_passage[pi]]
            self.pass_cands.append(
                _Candidate(
                    pi,
                    0,
                    len(p.text),
                    p.text,
                    low,
                    _NORM_DROP.sub("", low),
                    frozenset(t for c in mine for t in c.terms),
                    frozenset(s for c in mine for s in c.stems),
                    frozenset(n for c in mine for n in c.numbers),
                    [],
                )
            )
        whole = " ".join(p.text for p in passages)
        self.all_low = unicodedata.normalize("NFKC", whole).lower()
        self.all_norm = _NORM_DROP.sub("", self.all_low)
        self.all_terms = frozenset(t for c in self.cands for t in c.terms)
        self.all_stems = frozenset(s for c in self.cands for s in c.stems) | _stems_of(whole)

    # ---- evidence side
    def _tok(self, text: str) -> list[str]:
        got = self._term_cache.get(text)
        if got is None:
            got = self.terms(text)
            self._term_cache[text] = got
        return got

    def _candidate(self, pi: int, ptext: str, s: int, e: int) -> _Candidate:
        text = ptext[s:e]
        low = unicodedata.normalize("NFKC", text).lower()
        return _Candidate(
            pi,
            s,
            e,
            text,
            low,
            _NORM_DROP.sub("", low),
            frozenset(t for t in self._tok(text) if _CJK.search(t)),
            _stems_of(text),
            _number_keys(text),
            _zh_negations(text) if _CJK.search(text) else [],
        )

    def _merge(self, ptext: str, a: _Candidate, b: _Candidate) -> _Candidate:
        text = ptext[a.start : b.end]
        low = unicodedata.normalize("NFKC", text).lower()
        return _Candidate(
            a.passage,
            a.start,
            b.end,
            text,
            low,
            _NORM_DROP.sub("", low),
            a.terms | b.terms,
            a.stems | b.stems,
            a.numbers | b.numbers | _number_keys(text),
            _zh_negations(text) if _CJK.search(text) else [],
        )

    # ---- clause side
    def clause_info(self, text: str, english: bool | None = None) -> _ClauseInfo:
        text = unicodedata.normalize("NFKC", text)
        if english is None:
            english = _is_english(text)
        numbers = numbers_in(text, strict=True)
        num_spans = [m.span() for m in _ARABIC.finditer(text)]
        names: list[tuple[str, str]] = []
        units: list[_Unit] = []
        # Latin groups
        for m in _LATIN_GROUP.finditer(text):
            group = m.group(0)
            if english:
                for name in _strong_names(group, text, m.start()):
                    names.append((name, _NORM_DROP.sub("", name.lower())))
            else:
                if not re.search(r"[A-Za-z]", group):
                    continue
                names.append((group, _NORM_DROP.sub("", group.lower())))
        if english:
            strong = {n for n, _ in names}
            seen: set[str] = set()
            for m in _EN_WORD.finditer(text):
                w = m.group(0).strip("'")
                if w.endswith("'s"):
                    w = w[:-2]
                if any(w in s.split() or w == s for s in strong):
                    continue
                if any(s <= m.start() < e for s, e in num_spans):
                    continue
                lw = w.lower()
                if lw in _EN_NUM or lw in EN_STOP or lw in EN_EXTRA_STOP or len(lw) < 3:
                    continue
                if lw in ("times", "fold") and re.search(
                    r"\d\s*$|\b(?:" + "|".join(_EN_NUM) + r")\s*$", text[: m.start()].rstrip()
                ):
                    continue
                st = stem(lw)
                if st in _EN_STOP_STEMS or st in seen:
                    continue
                seen.add(st)
                weight = 0.5 if lw.endswith("ly") else 1.0
                if w[:1].isupper() and m.start() > 0:
                    weight = 1.5  # a Capitalised word inside the clause: likely a name
                units.append(_Unit("en", st, weight, w, tuple(sorted(_variants(lw))), m.start()))
        # Chinese terms
        cjk_terms = [t for t in dict.fromkeys(self._tok(text)) if _CJK.search(t)]
        cjk_terms = [t for t in cjk_terms if t not in ZH_STOP and not _is_numeral(t)]
        maximal = [t for t in cjk_terms if not any(t != o and t in o for o in cjk_terms)]
        for t in maximal:
            subs = tuple(o for o in cjk_terms if o != t and o in t)
            units.append(_Unit("zh", t, float(min(len(t), 4)), t, subs, max(0, text.find(t))))
        negated = False
        preds: list[str] = []
        scope: list[_Unit] = []
        if english:
            for m in _EN_NEG.finditer(text):
                if m.group(0).lower() == "no" and re.match(r"\s*[,.]", text[m.end() :]):
                    continue  # the answer particle "No, ..."
                negated = True
                after = [u for u in units if u.pos >= m.end()]
                after.sort(key=lambda u: u.pos)
                scope.extend(after[:1])
        else:
            for _s, e in _zh_negations(text):
                negated = True
                preds.append(_predicate(text, e, self._tok))
        comparative = bool((_EN_CMP if english else _ZH_CMP).search(text))
        return _ClauseInfo(text, english, numbers, names, units, negated, preds, scope, comparative)

    # ---- matching
    def unit_score(self, u: _Unit, c: _Candidate | None) -> float:
        """1 when the unit is in the candidate (``None``: in any passage), partial for compounds."""
        if c is None:
            text, terms, stems = self.all_low, self.all_terms, self.all_stems
        else:
            text, terms, stems = c.low, c.terms, c.stems
        if u.kind == "zh":
            if u.key in terms or u.key in text:
                return 1.0
            if (
                self.glossary is not None
                and not _CJK.search(text[:400])
                and stems
                and any(s in stems for s in self.glossary.en_by_zh.get(u.key, ()))
            ):
                return 1.0
            covered: set[int] = set()
            for st in u.subterms:
                if st in terms or st in text:
                    i = u.key.find(st)
                    covered.update(range(i, i + len(st)))
            for i in range(len(u.key) - 1):
                if u.key[i : i + 2] in text:
                    covered.update((i, i + 1))
            return len(covered) / len(u.key) * 0.9
        # an English word (its variants)
        variants = u.subterms or (u.key,)
        if any(v in stems for v in variants):
            return 1.0
        if len(u.key) >= 5 and u.key in text:
            return 1.0
        if _CJK.search(text):
            for z in self.renderings(u):
                if z in text:
                    return 1.0
        return 0.0

    def renderings(self, u: _Unit) -> frozenset[str]:
        """Chinese renderings of an English unit (glossary plus one-character words)."""
        got = self._render_cache.get(u.key)
        if got is None:
            out: set[str] = set()
            for v in u.subterms or (u.key,):
                if self.glossary is not None:
                    out.update(self.glossary.zh_by_en.get(v, ()))
                out.update(EXTRA_TERMS.get(v, ()))
                if self.glossary is not None and len(v) >= 6:
                    out.update(_prefix_renderings(self.glossary, v))
            got = frozenset(out)
            self._render_cache[u.key] = got
        return got

    def name_rendered(self, name: str) -> bool:
        """A name written in Latin letters whose every word has a rendering in the passages
        (``US Navy`` ~ ``美国海军``); acronyms and words with digits need their letters."""
        words = name.split()
        if not _CJK.search(self.all_low):
            return False
        for w in words:
            lw = w.lower()
            if re.search(r"\d", w) or (
                sum(ch.isupper() for ch in w) >= 2 and lw not in EXTRA_TERMS
            ):
                return False
            unit = _Unit("en", stem(lw), 1.0, w, tuple(sorted(_variants(lw))))
            if self.unit_score(unit, None) < 0.5:
                return False
        return True

    def coverage(self, info: _ClauseInfo, c: _Candidate | None) -> float:
        total = sum(u.weight for u in info.units) + 1.5 * len(info.names)
        if total == 0:
            return 1.0
        got = sum(u.weight * self.unit_score(u, c) for u in info.units)
        norm = self.all_norm if c is None else c.norm
        got += 1.5 * sum(1 for _, n in info.names if n and _name_in(n, norm))
        return got / total

    def neg_mismatch(self, info: _ClauseInfo, c: _Candidate) -> bool:
        if info.english:
            if not _CJK.search(c.text):
                return info.negated != bool(_EN_NEG.search(c.text))
            # a negated word of the clause asserted by the candidate ...
            if self.negated_scope_asserted(info, c):
                return True
            # ... or a word the clause asserts negated by the candidate
            scoped = {id(u) for u in info.neg_scope}
            for _s, e in c.negations:
                window = c.text[e : e + 6]
                for u in info.units:
                    if id(u) in scoped:
                        continue
                    forms = (
                        [u.key]
                        if u.kind == "zh"
                        else [z for z in self.renderings(u) if len(z) >= 2]
                    )
                    if any(window.startswith(z, k) for z in forms for k in range(0, 3)):
                        return True
            return False
        return self._zh_neg_mismatch(info, c)

    def negated_scope_asserted(self, info: _ClauseInfo, c: _Candidate) -> bool:
        """An English clause negates words that the (Chinese) candidate states without negation."""
        if not info.english or not info.neg_scope or not _CJK.search(c.text):
            return False
        for u in info.neg_scope:
            hits = (
                [
                    m.start()
                    for z in self.renderings(u)
                    if len(z) >= 2 or u.kind == "zh"
                    for m in re.finditer(re.escape(z), c.text)
                ]
                if u.kind == "en"
                else [m.start() for m in re.finditer(re.escape(u.key), c.text)]
            )
            if hits and not any(_negated_before(c.text, p, c.negations, 10) for p in hits):
                return True
        return False

    def _zh_neg_mismatch(self, info: _ClauseInfo, c: _Candidate) -> bool:
        # Chinese: a negated predicate in one, the same predicate un-negated in the other
        for pred in info.neg_preds:
            if pred and pred in c.text:
                pos = [m.start() for m in re.finditer(re.escape(pred), c.text)]
                if not any(_negated_before(c.text, p, c.negations) for p in pos):
                    return True
        for s, e in c.negations:
            if c.text[s:e] in ("无", "非", "未", "别", "勿"):
                continue  # 无模型 / 非线性 / 未标注: a compound, not a negated predicate
            pred = _predicate(c.text, e, self._tok)
            if not pred or len(pred) < 2 or pred not in info.text:
                continue
            pos = [m.start() for m in re.finditer(re.escape(pred), info.text)]
            negs = _zh_negations(info.text)
            if not any(_negated_before(info.text, p, negs) for p in pos):
                return True
        return False

    def _rendered(self, info: _ClauseInfo, c: _Candidate) -> list[str]:
        out = []
        for u in info.units:
            if u.kind == "zh":
                if u.key in c.text:
                    out.append(u.key)
            else:
                out.extend(z for z in self.renderings(u) if len(z) >= 2 and z in c.text)
        return out

    def numbers_missing(self, info: _ClauseInfo, c: _Candidate) -> list[Number]:
        return [n for n in info.numbers if not _number_found(n, c.numbers)]


_NAME_SUFFIX = re.compile(r"(?:like|based|style|styled|wise|level|free|aware|type)$")


def _name_in(name: str, hay: str) -> bool:
    """A normalised name in a normalised text: exactly, as a plural, or with one typo if long."""
    if name in hay:
        return True
    head = _NAME_SUFFIX.sub("", name)
    if head != name and len(head) >= 2 and head in hay:
        return True
    if name.endswith("s") and len(name) > 3 and name[:-1] in hay:
        return True
    n = len(name)
    if n < 8:
        return False
    first, last = name[:2], name[-2:]
    for i in range(len(hay) - n + 1):
        window = hay[i : i + n]
        if window[:2] != first and window[-2:] != last:
            continue
        if sum(a != b for a, b in zip(window, name, strict=True)) <= 2:
            return True
    return False


def _number_keys(text: str) -> frozenset[tuple[float, float, bool, str]]:
    return frozenset((*n.key(), n.counter) for n in numbers_in(text, strict=False))


def _is_english(text: str) -> bool:
    """English when its Latin words outweigh its Chinese characters (a word ~ two characters)."""
    return 2 * len(_EN_WORD.findall(CITE.sub("", text))) > len(_CJK.findall(text))


def _is_numeral(t: str) -> bool:
    return bool(
        re.fullmatch(r"[零一二两三四五六七八九十百千万亿第]+[种个点大步次维倍层类项条]?", t)
    )


def _negated_before(text: str, pos: int, negs: list[tuple[int, int]], window: int = 5) -> bool:
    """A negation ends shortly before ``pos`` (or overlaps it: 不可导 negates 可导)."""
    return any(s < pos + 1 and pos - e <= window for s, e in negs)


def _predicate(text: str, end: int, tok: Callable[[str], list[str]]) -> str:
    """The content word governed by a negation (``不再需要预定义的锚框`` -> ``预定义``)."""
    m = _CJK_RUN.match(text, end)
    if not m:
        return ""
    run = m.group(0)[:10]
    pos = 0
    for t in tok(run):
        i = run.find(t, pos)
        if i != pos:  # search mode also yields the parts of a word: keep the reading order
            continue
        pos = i + len(t)
        if t in _ZH_MODAL or len(t) < 2:
            if t in _ZH_MODAL:
                continue
            return ""
        return t
    return ""


_PREFIX_INDEX: dict[int, list[str]] = {}


def _prefix_renderings(glossary: Glossary, word: str) -> set[str]:
    """Renderings of glossary words sharing a long prefix (``assumption`` ~ ``assume``)."""
    import bisect

    keys = _PREFIX_INDEX.get(id(glossary))
    if keys is None:
        keys = sorted(k for k in glossary.zh_by_en if len(k) >= 5)
        _PREFIX_INDEX.clear()
        _PREFIX_INDEX[id(glossary)] = keys
    head = word[:5]
    out: set[str] = set()
    i = bisect.bisect_left(keys, head)
    while i < len(keys) and keys[i].startswith(head):
        k = keys[i]
        common = 0
        for a, b in zip(k, word, strict=False):
            if a != b:
                break
            common += 1
        if common >= max(5, min(len(k), len(word)) - 2):
            out.update(glossary.zh_by_en[k])
        i += 1
    return out


def _variants(w: str) -> set[str]:
    """Forms under which an English word may appear (the glossary's stemmer is rough)."""
    forms = {w}
    for suf, reps in (
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
        ("er", ("", "e")),
        ("est", ("", "e")),
        ("ly", ("",)),
        ("ally", ("al", "")),
        ("ically", ("ic",)),
        ("ation", ("ate", "e", "")),
        ("ion", ("", "e")),
        ("ive", ("e", "")),
        ("ity", ("", "e")),
        ("ness", ("",)),
        ("ment", ("",)),
        ("al", ("",)),
        ("ise", ("ize",)),
        ("ises", ("ize",)),
        ("ised", ("ize",)),
        ("ier", ("y",)),
        ("iest", ("y",)),
    ):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            forms.update(w[: -len(suf)] + r for r in reps)
    return forms | {stem(f) for f in forms}


EXTRA_TERMS.update(_load_terms())


def _stems_of(text: str) -> frozenset[str]:
    out: set[str] = set()
    for w in _EN_WORD.findall(text):
        lw = w.lower().strip("'")
        if lw.endswith("'s"):
            lw = lw[:-2]
        if len(lw) >= 2:
            out |= _variants(lw)
    return frozenset(out)


def _strong_names(group: str, text: str, offset: int) -> list[str]:
    """The names of an English Latin group: runs holding an acronym, a CamelCase word or a word
    with digits, with the Capitalised words next to them (``Faster RCNN``, ``GPT-4o``)."""
    tokens = list(re.finditer(r"[A-Za-z0-9][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*", group))
    out: list[str] = []
    run: list[str] = []
    has_strong = False

    def flush() -> None:
        nonlocal run, has_strong
        if run and has_strong:
            out.append(" ".join(run))
        run, has_strong = [], False

    for m in tokens:
        tok = m.group(0)
        at_start = not text[: offset + m.start()].strip(" ,;:(（")
        strong = (
            sum(ch.isupper() for ch in tok) >= 2
            or (re.search(r"\d", tok) is not None and re.search(r"[A-Za-z]", tok) is not None)
            or re.search(r"[a-z][A-Z]", tok) is not None
        )
        capital = (
            tok[:1].isupper()
            and tok.lower() not in EN_STOP
            and tok.lower() not in _EN_NUM
            and not at_start
        )
        if strong or capital:
            run.append(tok)
            has_strong = has_strong or strong
        else:
            flush()
    flush()
    return out


# --------------------------------------------------------------------------- splitting
_SENT_END = re.compile(r"[。！？!?]+|\.(?=\s|$)|\n+")
_TAIL = re.compile(r"(?:\s*(?:\[\d+(?:\s*[,，、]\s*\d+)*\]|【\d+】|[。！？!?.…]))+\s*$")
_CLAUSE_PUNCT = re.compile(r"[，,；;]|：|:(?=\s)")
_ZH_CONJ = ("但是", "但", "然而", "而且", "并且", "因此", "所以", "从而", "不过")
_ZH_LEAD = (
    "但是",
    "但",
    "然而",
    "而且",
    "并且",
    "而是",
    "而",
    "因此",
    "所以",
    "从而",
    "不过",
    "同时",
    "并",
    "以及",
    "且",
    "此外",
    "另外",
    "其中",
    "也就是说",
    "也就是",
    "即",
    "甚至",
    "还",
)
_EN_CONJ = re.compile(
    r"(?<!\bof)(?<!\bin)(?<!\bby)(?<!\bfor)(?<!\bon)(?<!\bto)(?<!\bat)(?<!\bwith)"
    r"\s+(?=(?:but|while|whereas|although|though|which|so that|and because|because)\b)",
    re.IGNORECASE,
)
_EN_LEAD = re.compile(
    r"^(?:and|but|while|whereas|although|though|which|so|because|and because|then|also|thus|"
    r"hence|therefore|making|so that)\b[\s,]*",
    re.IGNORECASE,
)
_EN_SUBORDINATE = re.compile(
    r"^(?:which|while|whereas|although|though|because|and because|"
    r"so that|making|where|who|whose)\b",
    re.IGNORECASE,
)
_ZH_SUBORDINATE = ("其中", "从而", "使得", "以便", "以", "即")


def _masked(text: str) -> str:
    """``text`` with citations and bracketed asides blanked out (same length)."""
    out = CITE.sub(lambda m: " " * len(m.group(0)), text)
    for pat in (r"\([^()]*\)", r"（[^（）]*）", r"《[^《》]*》", r"“[^“”]*”", r"\"[^\"]*\""):
        out = re.sub(pat, lambda m: "(" + "x" * (len(m.group(0)) - 2) + ")", out)
    return out


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the answer's sentences, each keeping the citations that follow it."""
    spans: list[tuple[int, int]] = []
    pos = 0
    masked = _masked(text)
    for m in _SENT_END.finditer(masked):
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


def _content_size(text: str, english: bool) -> int:
    if english:
        words = [w.lower() for w in _EN_WORD.findall(text)]
        return sum(
            1 for w in words if w not in EN_STOP and w not in EN_EXTRA_STOP and len(w) > 2
        ) + len(re.findall(r"\d+", text))
    return len(_CJK.findall(text)) // 2 + len(re.findall(r"[A-Za-z0-9]+", text))


def split_clauses(text: str, start: int, end: int, english: bool) -> list[tuple[int, int]]:
    """Clause spans of ``text[start:end]`` (a sentence body without its tail)."""
    masked = _masked(text)
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
                    and _CJK.match(prev)
                    and not masked[at - 1 : at + len(conj)].startswith(("不但", "不过"))
                ):
                    if conj in ("但",) and masked[at : at + 2] in ("但是",):
                        pass
                    cuts.append(at)
    cuts = sorted(set(c for c in cuts if start <= c < end))
    spans = [(cuts[i], cuts[i + 1] if i + 1 < len(cuts) else end) for i in range(len(cuts))]
    # merge fragments that cannot stand alone
    merged: list[list[int]] = []
    carry: int | None = None
    for s, e in spans:
        frag = CITE.sub("", text[s:e])
        body = re.sub(r"^[\s，,；;：:]+", "", frag)
        if english:
            body = _EN_LEAD.sub("", body)
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


# --------------------------------------------------------------------------- main entry
def check_answer(
    answer: str,
    passages: Sequence[Passage],
    *,
    question: str = "",
    lang: str = "zh",
    terms: Callable[[str], list[str]],
    glossary: Glossary | None = None,
    similarity: Callable[[list[str], list[str]], np.ndarray] | None = None,
    model: ClaimModel | None = None,
    sentence_spans: Callable[[str], list[tuple[int, int]]] | None = None,
    candidates_per_passage: int = 2,
) -> CheckedAnswer:
    """Verify every clause of ``answer`` against ``passages`` (``[n]`` is ``passages[n-1]``).

    Args:
        answer: The LLM's answer with ``[n]`` citations.
        passages: The numbered passages of the prompt.
        question: The user question (kept for the caller's record; not needed to decide).
        lang: Language of the reply (message of an abstention, notice wording).
        terms: Tokenizer giving jieba terms, lowercased Latin words and numbers.
        glossary: English<->Chinese renderings; needed for English clauses over Chinese text.
        similarity: ``(clauses, sentences) -> matrix`` of cosine similarities (one call per
            answer); without it the similarity features take a neutral value.
        model: The calibrated clause model (default: ``claims_model.json``).
        sentence_spans: Sentence splitter for passages (default: :func:`evidence.sentence_spans`).
        candidates_per_passage: Evidence sentences per passage and clause scored with e5.

    Returns:
        The :class:`CheckedAnswer`.
    """
    del question
    model = model or default_model()
    if sentence_spans is None:
        from rag.answer.evidence import evidence_spans

        # the sentences the claim model was calibrated on: cut at 90 characters
        sentence_spans = lambda text: evidence_spans(text, 90)  # noqa: E731
    text = answer.strip()
    if is_abstention(text):
        return CheckedAnswer(text=NO_ANSWER.get(lang, NO_ANSWER["en"]), abstained=True, support=1.0)
    n_pass = len(passages)
    checker = _Checker(passages, terms, glossary, sentence_spans)

    # ---- sentences, clauses, their citations
    dropped: list[int] = []
    clauses: list[Clause] = []
    infos: list[_ClauseInfo] = []
    layout: list[dict[str, Any]] = []  # per sentence: body span, end punctuation, clause indices
    for si, (s, e) in enumerate(split_sentences(text)):
        sent = text[s:e]
        tail = _TAIL.search(sent)
        body_end = s + (tail.start() if tail else len(sent))
        tail_text = text[body_end:e]
        punct = "".join(ch for ch in CITE.sub("", tail_text) if ch in "。！？!?.…")
        english = _is_english(sent)
        cites: list[tuple[int, int, list[int]]] = []
        for m in CITE.finditer(text, s, e):
            nums = parse_citations(m)
            for num in nums:
                if not 1 <= num <= n_pass and num not in dropped:
                    dropped.append(num)
            cites.append((m.start(), m.end(), [x for x in nums if 1 <= x <= n_pass]))
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
            clause = Clause(text=ctext, start=cs, end=ce, sentence=si, cited=nums)
            clause.features["_group"] = float(group[0]) if group else -1.0
            clause.features["_own"] = 1.0 if own else 0.0
            idxs.append(len(clauses))
            clauses.append(clause)
            infos.append(checker.clause_info(_strip_lead(ctext, english), english))
        layout.append(
            {
                "span": (s, e),
                "body": (bs, body_end),
                "punct": punct,
                "clauses": idxs,
                "english": english,
            }
        )

    # ---- lexical pass: best candidates per clause and passage
    cand_sets: list[list[int]] = []
    lex_cache: dict[tuple[int, int], float] = {}
    for ci, info in enumerate(infos):
        chosen: list[int] = []
        for pi in range(n_pass):
            scored = []
            for k in checker.by_passage[pi]:
                c = checker.cands[k]
                cov = checker.coverage(info, c)
                lex_cache[(ci, k)] = cov
                miss_num = len(checker.numbers_missing(info, c))
                scored.append((-(miss_num > 0), cov, -(c.end - c.start), k))
            scored.sort(reverse=True)
            chosen.extend(k for *_, k in scored[:candidates_per_passage])
        cand_sets.append(chosen)

    # ---- one batched similarity call
    sim_of: dict[tuple[int, int], float] = {}
    if similarity is not None and clauses:
        union = sorted({k for ks in cand_sets for k in ks})
        if union:
            matrix = np.asarray(
                similarity([i.text for i in infos], [checker.cands[k].text for k in union]),
                dtype=np.float32,
            )
            col = {k: j for j, k in enumerate(union)}
            for ci, ks in enumerate(cand_sets):
                for k in ks:
                    sim_of[(ci, k)] = float(matrix[ci, col[k]])

    # ---- score
    for ci, (clause, info) in enumerate(zip(clauses, infos, strict=True)):
        lang_key = "en" if info.english else "zh"
        clause.lang = lang_key
        miss_all_units = [u for u in info.units if checker.unit_score(u, None) < 0.5]
        missing_names = [
            n
            for n, norm in info.names
            if norm and not _name_in(norm, checker.all_norm) and not checker.name_rendered(n)
        ]
        best: tuple[float, int, dict[str, float], str, str] | None = None
        per_passage: dict[int, float] = {}
        local: dict[int, tuple[list[_Unit], float, list[str], tuple[str, str]]] = {}
        for k in cand_sets[ci]:
            c = checker.cands[k]
            if c.passage not in local:  # first candidate of a passage = its best by coverage
                pc = checker.pass_cands[c.passage]
                miss_units = [u for u in info.units if checker.unit_score(u, pc) < 0.5]
                share = sum(u.weight for u in miss_units) / max(
                    1.0, sum(u.weight for u in info.units)
                )
                names_here = [
                    n
                    for n, norm in info.names
                    if norm and not _name_in(norm, pc.norm) and not checker.name_rendered(n)
                ]
                veto = ("", "")
                top = _features(checker, info, c, lex_cache[(ci, k)], share, miss_units, None)
                if top["neg"] > 0 and (not info.english or checker.negated_scope_asserted(info, c)):
                    veto = (f"negation not in the source [{c.passage + 1}]", "negation")
                elif top["cmp"] > 0:
                    veto = (f"comparison not made by [{c.passage + 1}]", "comparison")
                    gone = [u.surface for u in sorted(miss_units, key=lambda u: -u.weight)[:2]]
                    if gone:
                        veto = ("'" + "', '".join(gone) + "' not in the passages", "comparison")
                local[c.passage] = (miss_units, share, names_here, veto)
            miss_units, share, names_here, veto = local[c.passage]
            feats = _features(
                checker, info, c, lex_cache[(ci, k)], share, miss_units, sim_of.get((ci, k))
            )
            reason, rule = "", ""
            num_missing = checker.numbers_missing(info, c)
            if num_missing:
                reason, rule = f"number {num_missing[0].surface} not in [{c.passage + 1}]", "number"
            elif missing_names:
                reason, rule = f"'{missing_names[0]}' not in the passages", "name"
            elif names_here:
                reason, rule = f"'{names_here[0]}' not in [{c.passage + 1}]", "name"
            elif veto[0]:
                reason, rule = veto
            prob = 0.0 if reason else model.prob(lang_key, feats)
            if prob >= model.threshold[lang_key]:
                per_passage[c.passage] = max(per_passage.get(c.passage, 0.0), prob)
            key = (prob, feats["cov"])
            if (
                best is None
                or key > (best[0], best[2]["cov"])
                or (best[3] and not reason and prob == best[0] and feats["cov"] > best[2]["cov"])
            ):
                best = (prob, k, feats, reason, rule)
        if best is None:  # no passage at all
            clause.status = "unsupported"
            clause.reason = "no passages"
            continue
        prob, k, feats, reason, rule = best
        c = checker.cands[k]
        clause.score = prob
        clause.features.update(feats)
        clause.similarity = feats.get("sim_raw")
        clause.evidence_passage = c.passage + 1
        clause.evidence_start, clause.evidence_end = c.start, c.end
        clause.evidence = c.text
        if per_passage:
            cited_ok = [x for x in clause.cited if (x - 1) in per_passage]
            if cited_ok:
                clause.support = cited_ok
            else:
                top = max(per_passage, key=lambda p: per_passage[p])
                clause.support = [top + 1]
                if clause.evidence_passage != top + 1:
                    _best_in(checker, clause, top, cand_sets[ci], lex_cache, ci)
            clause.status = "supported"
        else:
            clause.status = "unsupported"
            clause.rule = rule
            clause.reason = reason or _model_reason(
                checker, model, lang_key, info, feats, c, miss_all_units, clause.cited
            )
        clause.features.pop("sim_raw", None)

    # ---- rebuild the text
    out_sentences: list[str] = []
    cited: list[int] = []
    for lay in layout:
        idxs = lay["clauses"]
        kept = [i for i in idxs if clauses[i].supported]
        if not kept:
            continue
        first = kept[0]
        english = lay["english"]
        if first != idxs[0] and _dependent(clauses[first].text, english):
            for i in kept:  # the rest cannot stand alone: drop the sentence
                clauses[i].status = "unsupported"
                clauses[i].reason = "its sentence lost its main clause"
            continue
        pieces: list[str] = []
        # citation groups: clauses sharing one citation mark
        groups: dict[float, list[int]] = {}
        for i in idxs:
            groups.setdefault(clauses[i].features.get("_group", -1.0), []).append(i)
        for j, i in enumerate(kept):
            cl = clauses[i]
            piece = CITE.sub("", text[cl.start : cl.end]).rstrip()
            if j == 0:
                piece = re.sub(r"^[\s，,；;：:]+", "", piece)
                if i != idxs[0]:
                    piece = _strip_lead(piece, english)
                    if english and piece:
                        piece = piece[0].upper() + piece[1:]
            members = [m for m in groups[cl.features.get("_group", -1.0)] if clauses[m].supported]
            same = all(clauses[m].support == cl.support for m in members)
            last_in_group = i == members[-1]
            marks: list[int] = []
            if not same or last_in_group:
                src = [cl] if not same else [clauses[m] for m in members]
                for m in src:
                    for x in m.support:
                        if x not in marks:
                            marks.append(x)
            if marks:
                piece += " " + "".join(f"[{x}]" for x in marks)
                for x in marks:
                    if x not in cited:
                        cited.append(x)
            pieces.append(piece)
        sentence = "".join(pieces).strip()
        sentence = re.sub(r"[，,；;：:\s]+$", "", sentence)
        punct = lay["punct"] or ("." if english else "。")
        out_sentences.append(sentence + punct[:1] if not sentence.endswith(punct[:1]) else sentence)
    joiner = " " if lang == "en" or all(lay["english"] for lay in layout) else ""
    final = _tidy(joiner.join(out_sentences))
    removed = [c for c in clauses if not c.supported]
    for c in clauses:
        c.features.pop("_group", None)
        c.features.pop("_own", None)
    notice = _notice(removed, dropped, lang)
    return CheckedAnswer(
        text=final,
        clauses=clauses,
        removed=removed,
        cited=cited,
        dropped_numbers=dropped,
        abstained=False,
        notice=notice,
        support=(sum(c.supported for c in clauses) / len(clauses)) if clauses else 0.0,
    )


def _features(
    checker: _Checker,
    info: _ClauseInfo,
    c: _Candidate,
    cov: float,
    miss_share: float,
    miss_units: list[_Unit],
    sim: float | None,
) -> dict[str, float]:
    """The model's inputs for one clause and one evidence candidate (misses: in its passage)."""
    name_miss = sum(1 for _, n in info.names if n and not _name_in(n, c.norm))
    n_units = len(info.units) + len(info.names)
    miss_c = sum(u.weight for u in info.units if checker.unit_score(u, c) < 0.5)
    miss_a = sum(u.weight for u in miss_units)
    scale = 0.5 if not info.english else 1.0  # Chinese weights count characters (up to 4)
    cross = info.english and bool(_CJK.search(c.text))
    s = 0.85 if sim is None else sim
    return {
        "cov": cov,
        "miss_c": min(miss_c * scale, 4.0),
        "miss_a": min(miss_a * scale, 4.0),
        "miss_share": miss_share,
        "name_miss": float(min(name_miss, 2)),
        "neg": 1.0 if checker.neg_mismatch(info, c) else 0.0,
        "cmp": 1.0
        if info.comparative
        and not (_CMP_EVIDENCE_ZH if _CJK.search(c.text) else _CMP_EVIDENCE_EN).search(c.text)
        else 0.0,
        "sim": (s - 0.85) * 10,
        "sim_x": (s - 0.85) * 10 if cross else 0.0,
        "short": 1.0 / (1.0 + n_units),
        "sim_raw": s,
    }


def _best_in(
    checker: _Checker,
    clause: Clause,
    passage: int,
    cands: list[int],
    lex: dict[tuple[int, int], float],
    ci: int,
) -> None:
    ks = [k for k in cands if checker.cands[k].passage == passage]
    if not ks:
        return
    k = max(ks, key=lambda k: lex[(ci, k)])
    c = checker.cands[k]
    clause.evidence_passage = passage + 1
    clause.evidence_start, clause.evidence_end, clause.evidence = c.start, c.end, c.text


def _model_reason(
    checker: _Checker,
    model: ClaimModel,
    lang: str,
    info: _ClauseInfo,
    feats: dict[str, float],
    c: _Candidate,
    miss_all_units: list[_Unit],
    cited: list[int],
) -> str:
    where = f"[{cited[0]}]" if cited else f"[{c.passage + 1}]"
    contrib = model.contributions(lang, feats)
    if feats["neg"] > 0 and contrib.get("neg", 0) < -1.0:
        return f"negation not in the source {where}"
    if miss_all_units:
        words = sorted(miss_all_units, key=lambda u: -u.weight)[:2]
        shown = "', '".join(u.surface for u in words)
        return f"'{shown}' not in the passages"
    missing_here = [u.surface for u in info.units if checker.unit_score(u, c) < 0.5]
    if missing_here:
        return f"'{missing_here[0]}' not in the evidence sentence of {where}"
    return f"not supported by {where} (similarity {feats.get('sim_raw', 0.85):.2f})"


def _strip_lead(text: str, english: bool) -> str:
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    if english:
        return _EN_LEAD.sub("", t)
    for lead in (
        "但是",
        "但",
        "然而",
        "而且",
        "并且",
        "因此",
        "所以",
        "不过",
        "同时",
        "此外",
        "另外",
    ):
        if t.startswith(lead):
            return re.sub(r"^[\s，,]+", "", t[len(lead) :])
    return t


_EN_PREP_LEAD = re.compile(
    r"^(?:in|during|before|after|for|at|on|with|by|from|under|when|if|as|unlike|like|compared to|"
    r"compared with|according to|besides|apart from|without|within|through|once|since)\b",
    re.IGNORECASE,
)


def _leading_modifier(body: str, english: bool) -> bool:
    """A short adverbial phrase opening a sentence, which qualifies the clause after it."""
    if english:
        return bool(_EN_PREP_LEAD.match(body)) and len(_EN_WORD.findall(body)) <= 5
    return (
        bool(re.match(r"^(?:在|当|对于|对|从|随着|为了|根据|除了)", body))
        and bool(re.search(r"(?:时|下|中|后|前|里|上|来说|而言|之后|之前|以来)\s*$", body))
        and len(body) <= 16
    )


def _dependent(text: str, english: bool) -> bool:
    t = re.sub(r"^[\s，,；;：:]+", "", text)
    if english:
        return bool(_EN_SUBORDINATE.match(t))
    return t.startswith(_ZH_SUBORDINATE)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([，。！？；：,.!?;:])", r"\1", text)
    text = re.sub(r"(\])([。！？.!?])", r"\1\2", text)
    text = re.sub(r"\s+(\[\d)", r" \1", text)
    text = re.sub(r"([，,；;])\s*[，,；;]+", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def _notice(removed: list[Clause], dropped: list[int], lang: str) -> str | None:
    if not removed and not dropped:
        return None
    parts = []
    if removed:
        shown = [c.text if len(c.text) <= 40 else c.text[:38] + "…" for c in removed[:3]]
        quoted = (
            "、".join(f"“{s}”" for s in shown)
            if lang == "zh"
            else "; ".join(f'"{s}"' for s in shown)
        )
        parts.append(
            ("已删除资料不支持的内容：" if lang == "zh" else "Removed unsupported: ") + quoted
        )
    if dropped:
        nums = "".join(f"[{n}]" for n in dropped)
        parts.append(
            f"无效引用 {nums} 已移除" if lang == "zh" else f"invalid citation {nums} removed"
        )
    return ("；" if lang == "zh" else "; ").join(parts)
