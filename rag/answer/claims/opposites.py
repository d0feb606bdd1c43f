"""Opposites: a clause that asserts one side of a pair where its evidence says the other.

- **Antonyms** (连续/离散, 有限/无限, 增加/减少 …): an English word counts through its Chinese
  renderings ("discrete" → 离散).
- **Degree**: a weak degree (marginal, slight, limited, 略微 …) where the evidence states a strong
  one (显著, 大幅, 强大 …), or a strong one where it states a weak one ("only marginal
  improvements" over "取得了显著改进").
- **Least**: "the least likely to click" where the evidence says 最可能 (:func:`least_said`).
- **Cost**: a cost (复杂度, 开销, memory …) improved or cut where the evidence says it grew
  ("FFM 相比 FM 改进了计算时间复杂度" over "FFM相比于FM的计算时间复杂度更高"; :func:`cost_raised`).

The evidence compared is the candidate sentence as a whole, and also its part (between commas,
semicolons, colons) that holds most of the clause's other words: "“类别”是离散的,“类别的概率”才是
连续的" says both 离散 and 连续, and "the class probability is discrete" is judged on its second
part. When several parts tie, every one must say the opposite and none the clause's word.

Example:
    >>> u = Unit("zh", "无限", 1.0, "无限")
    >>> info = ClauseInfo("来自无限集合", False, [], [], [u], False, [])
    >>> c = Candidate(0, 0, 6, "来自有限集合", "来自有限集合", "", frozenset(), frozenset(),
    ...               frozenset(), [])
    >>> opposite_said(info, c, lambda u: frozenset())
    ('无限', '有限')
    >>> degree_contradicted("It brought only marginal gains", "取得了显著改进")
    ('marginal', '显著')
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.claims.units import Candidate, ClauseInfo, Unit

__all__ = [
    "ANTONYMS",
    "cost_raised",
    "degree_contradicted",
    "degree_said",
    "least_said",
    "opposite_said",
    "parts_about",
]

Renderings = Callable[[Unit], frozenset[str]]

# Chinese opposites (an English clause's word through its renderings)
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("连续", "离散"),
    ("有限", "无限"),
    ("增加", "减少"),
    ("提高", "降低"),
    ("上升", "下降"),
    ("稀疏", "稠密"),
    ("显式", "隐式"),
    ("局部", "全局"),
    ("静态", "动态"),
    ("在线", "离线"),
    ("可导", "不可导"),
    ("随机", "确定性"),
    ("串行", "并行"),
    ("同步", "异步"),
    ("高于", "低于"),
    ("超过", "低于"),
)

_EN_WEAK = re.compile(
    r"\b(?:marginal(?:ly)?|slight(?:ly)?|modest(?:ly)?|limited|moderate(?:ly)?|negligible|"
    r"barely|somewhat)\b",
    re.IGNORECASE,
)
_EN_STRONG = re.compile(
    r"\b(?:significant(?:ly)?|substantial(?:ly)?|dramatic(?:ally)?|greatly|huge(?:ly)?|"
    r"massive(?:ly)?|strong(?:ly)?|powerful|remarkabl[ey]|astonishing(?:ly)?|vastly|"
    r"considerabl[ey]|tremendous(?:ly)?)\b",
    re.IGNORECASE,
)
_ZH_STRONG_WORDS = "显著|大幅|极大|明显|巨大|大大|强大|惊人|惊叹|惊艳|出色|卓越|非常好"
# a negated strong word is a weak one ("并不明显")
_ZH_WEAK = re.compile(
    r"略微|稍微|轻微|略有|小幅|些许|微弱|一定程度|(?:不|没有?|未)[太很够]?(?:"
    + _ZH_STRONG_WORDS
    + ")"
)
_ZH_STRONG = re.compile(_ZH_STRONG_WORDS)
_NOT_BEFORE = re.compile(r"\b(?:not|no|never|without|hardly)\b(?:\s+\w+){0,2}\s*$", re.I)
# "the least likely" (not "at least", not least squares / least recently used)
_EN_LEAST = re.compile(
    r"(?<!\bat )\bleast\b(?![\s-]+(?:squares?|recently|common|significant))", re.I
)
_ZH_MOST = re.compile(r"最(?![不少小低差弱终初后近新])")
_ZH_LEAST = re.compile(r"最(?:不|少|小|低|差|弱)")
_PART = re.compile(r"[,，;；:：。!?！？]")


def _forms(u: Unit, renderings: Renderings) -> list[str]:
    """What marks the unit in a text: a Chinese term and its sub-terms, or an English word's
    renderings (two characters or more) and its own forms."""
    if u.kind == "zh":
        return [u.key, *(s for s in u.subterms if len(s) >= 2)]
    return [z for z in renderings(u) if len(z) >= 2] + [u.surface.lower(), *u.subterms]


def parts_about(info: ClauseInfo, text: str, renderings: Renderings, skip: str = "") -> list[str]:
    """The parts of ``text`` (lowercased) that hold the most of the clause's units, not counting
    units that contain ``skip`` (the compared word itself); [] when no part holds any."""
    parts = [p for p in _PART.split(text.lower()) if p.strip()]
    units = [u for u in info.units if not (skip and any(skip in f for f in _forms(u, renderings)))]
    names = [n for _, n in info.names if n]

    def held(part: str) -> int:
        got = sum(1 for u in units if any(f and f in part for f in _forms(u, renderings)))
        return got + sum(1 for n in names if n in part.replace(" ", ""))

    scores = [held(p) for p in parts]
    best = max(scores, default=0)
    return [p for p, s in zip(parts, scores, strict=True) if s == best] if best else []


# a word of a pair inside a noun that is no property ("随机变量": a random variable is said of
# any distribution, deterministic transforms included)
_NOUNS = {"随机": ("变量", "数")}


def _said_as_property(word: str, text: str) -> bool:
    nouns = _NOUNS.get(word, ())
    return any(not text.startswith(nouns, m.end()) for m in re.finditer(re.escape(word), text))


def opposite_said(info: ClauseInfo, c: Candidate, renderings: Renderings) -> tuple[str, str] | None:
    """(the clause's word, the evidence's opposite) when candidate ``c`` (or its part about the
    clause) says the opposite of a word the clause asserts and not the word itself."""
    if info.negated:
        return None
    said: set[str] = set()
    for u in info.units:
        said |= {u.key, *u.subterms} if u.kind == "zh" else set(renderings(u))
    text = c.low
    for a, b in ANTONYMS:
        for mine, other in ((a, b), (b, a)):
            if mine not in said or other in said or not _said_as_property(other, text):
                continue
            if mine == "可导" and "不可导" in said:
                continue
            if mine not in text:
                return mine, other
            parts = parts_about(info, text, renderings, mine)
            # "不可导" holds 可导: a part that says the opposite may not say the word
            if parts and all(other in p and mine not in p.replace(other, "") for p in parts):
                return mine, other
    return None


def least_said(info: ClauseInfo, c: Candidate, renderings: Renderings) -> tuple[str, str] | None:
    """("least", "最…") when an English clause says "the least X" where the parts of candidate
    ``c`` about it say 最 X (the most), and none 最不/最少/最小.

    Example:
        >>> u = Unit("en", "click", 1.0, "click", pos=40)
        >>> info = ClauseInfo("the documents users are least likely to click", True, [], [], [u],
        ...                   False, [])
        >>> c = Candidate(0, 0, 9, "返回用户最可能点击的文档", "返回用户最可能点击的文档", "",
        ...               frozenset(), frozenset(), frozenset(), [])
        >>> least_said(info, c, lambda u: frozenset({"点击"}))
        ('least', '最可能')
    """
    m = _EN_LEAST.search(info.text) if info.english else None
    if not m:
        return None
    # the parts of c that hold what is "least" (the next two words: "likely to click")
    after = sorted((u for u in info.units if u.pos >= m.end()), key=lambda u: u.pos)[:2]
    parts = [
        p
        for p in _PART.split(c.low)
        if any(f and f in p for u in after for f in _forms(u, renderings))
    ] or [c.low]
    said = [_ZH_MOST.search(p) for p in parts]
    if all(said) and not any(_ZH_LEAST.search(p) for p in parts):
        first = said[0]
        return "least", first.string[first.start() : first.start() + 3]
    return None


def degree_said(info: ClauseInfo, c: Candidate, renderings: Renderings) -> tuple[str, str] | None:
    """The clause's degree word and the opposite one candidate ``c`` states (see
    :func:`degree_contradicted`; judged on the parts of ``c`` about the clause)."""
    return degree_contradicted(info.text, c.text, parts_about(info, c.low, renderings))


def degree_contradicted(
    clause: str, evidence: str, parts: list[str] | None = None
) -> tuple[str, str] | None:
    """(the clause's degree word, the evidence's opposite) when the clause states a weak degree
    where the evidence states a strong one, or the reverse (judged on the ``parts`` about the
    clause that state a degree, if any).

    Example:
        >>> degree_contradicted("显著提升了准确率", "准确率略有提升")
        ('显著', '略有')
        >>> degree_contradicted("gains were not significant", "提升并不明显") is None
        True
    """
    weak, strong = _weak(clause), _strong(clause)
    if bool(weak) == bool(strong):  # neither, or both ("slight at first, strong later")
        return None
    texts = [t for t in parts or () if _weak(t) or _strong(t)] or [evidence.lower()]
    for mine, says, unsays in ((weak, _strong, _weak), (strong, _weak, _strong)):
        if not mine:
            continue
        other = [says(t) for t in texts]
        if all(other) and not any(unsays(t) for t in texts):
            return mine, other[0]
    return None


def _weak(text: str) -> str:
    m = _ZH_WEAK.search(text) or _EN_WEAK.search(text)
    if m:
        return m.group(0)
    m = _EN_STRONG.search(text)
    if m and _NOT_BEFORE.search(text[: m.start()]):  # "not significant"
        return m.group(0)
    return ""


def _strong(text: str) -> str:
    m = _ZH_STRONG.search(_ZH_WEAK.sub("", text))
    if m:
        return m.group(0)
    m = _EN_STRONG.search(text)
    return m.group(0) if m and not _NOT_BEFORE.search(text[: m.start()]) else ""


# what is better when lower: improving it means lowering it
_ZH_COSTS = "复杂度|计算量|开销|成本|耗时|延迟|时延|内存|显存|参数量|存储"
_EN_COSTS = r"complexity|costs?|overheads?|latency|memory|storage"
# an English cost as Chinese evidence writes it
_COST_ZH = {
    "complexity": ("complexity", "复杂度"),
    "cost": ("cost", "成本", "开销", "代价"),
    "overhead": ("overhead", "开销"),
    "latency": ("latency", "延迟", "时延"),
    "memory": ("memory", "内存", "显存"),
    "storage": ("storage", "存储"),
}
_COST = re.compile(rf"(?:{_ZH_COSTS})|\b(?:{_EN_COSTS})\b", re.IGNORECASE)
_IMPROVED = re.compile(
    r"改进|改善|优化|降低|减少|减小|缩短|节省|节约|"
    r"\b(?:improv|reduc|lower|decreas|cut|sav|cheaper)\w*",
    re.IGNORECASE,
)
_RAISED = re.compile(
    r"更高|提高|增加|增大|更大|上升|变高|变大|更多|翻倍|\b(?:higher|increas\w*|larger|more)\b",
    re.IGNORECASE,
)
_LOWERED = re.compile(
    r"更低|降低|减少|减小|更小|更少|下降|缩短|节省|\b(?:lower\w*|reduc\w*|less|smaller)\b",
    re.IGNORECASE,
)


def cost_raised(clause: str, evidence: str) -> tuple[str, str] | None:
    """(the clause's word, the evidence's) when the clause improves or cuts a cost (复杂度,
    开销, memory …) that every part of the evidence naming it says grew, none that it fell.

    Example:
        >>> cost_raised("FFM 相比 FM 改进了计算时间复杂度",
        ...             "FFM相比于FM的计算时间复杂度更高,但同时也提高了本身模型的表达能力。")
        ('改进', '更高')
        >>> cost_raised("FFM 的计算复杂度更高", "FFM相比于FM的计算时间复杂度更高") is None
        True
        >>> cost_raised("It reduces memory use", "显存占用降低,速度更快") is None
        True
        >>> cost_raised("FFM improves the time complexity of FM", "FFM的计算时间复杂度更高")
        ('improves', '更高')
        >>> cost_raised("It reduces the training costs", "训练成本更高")
        ('reduces', '更高')
    """
    cost = _COST.search(clause)
    better = _IMPROVED.search(clause)
    if (
        not (cost and better)
        or _RAISED.search(clause)
        or _NOT_BEFORE.search(clause[: better.start()])
    ):
        return None
    noun = cost.group(0).lower()
    forms = _COST_ZH.get(noun, _COST_ZH.get(noun.rstrip("s"), (noun,)))
    parts = [p for p in _PART.split(evidence.lower()) if any(f in p for f in forms)]
    said = [_RAISED.search(p) for p in parts]
    if parts and all(said) and not any(_LOWERED.search(p) for p in parts):
        return better.group(0), said[0].group(0)
    return None
