"""Words: character classes, stop words, English word forms, glossary prefixes and citation marks.

Every other module of the claim checker builds on these; nothing here knows about clauses,
passages or the model.

Example:
    >>> sorted(variants("renderings"))[:3]
    ['render', 'rendering', 'renderings']
    >>> is_english("DDIM speeds up sampling [1]."), is_english("DDIM 可以提速 10~50 倍 [1]。")
    (True, False)
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata

from rag.text.citations import CITATION_AFTER
from rag.text.glossary import EN_STOPWORDS as EN_STOP
from rag.text.glossary import IRREGULAR_PLURALS, Glossary, stem
from rag.text.language import CJK

__all__ = [
    "ASKS_WHY",
    "CITE",
    "CJK",
    "CJK_RUN",
    "EN_EXTRA_STOP",
    "EN_STOP",
    "EN_STOP_STEMS",
    "EN_WORD",
    "LATIN_GROUP",
    "NORM_DROP",
    "ZH_QUOTE",
    "ZH_STOP",
    "ZH_SYNONYMS",
    "is_english",
    "is_zh_stop",
    "literal_run",
    "prefix_renderings",
    "stem",
    "stems_of",
    "variants",
]

# a question that asks for a reason ("为什么…", "…的原因", "Why…", "how come…")
ASKS_WHY = re.compile(r"为什么|为何|原因|怎么会|(?i:\bwhy\b|\breasons?\b|\bhow come\b)")

# ``[1]``, ``[1, 2]``, ``【1】`` with the space before them
CITE = CITATION_AFTER

CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN_GROUP = re.compile(
    r"[A-Za-z][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*(?:[ \t]+[A-Za-z][A-Za-z0-9_]*(?:[-./][A-Za-z0-9_]+)*)*"
    r"|\d+[A-Za-z][A-Za-z0-9_]*"
)
# a quote holding Chinese, in quotation marks ('…for each token ("每个 token 会激活 37B 个参数")')
ZH_QUOTE = re.compile(r"[\"“]([^\"”]*[\u4e00-\u9fff][^\"”]*)[\"”]")
NORM_DROP = re.compile(r"[^0-9a-z\u3400-\u9fff]+")  # what a normalised (lowercased) text drops
EN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")

# Chinese words that carry no claim of their own (function words, hedges, generic nouns).
ZH_STOP = frozenset(
    """可以 能够 能 会 进行 通过 一种 一个 这种 这样 这个 那个 其中 因此 所以 但是 但 而且 并且
    同时 然后 也 还 就是 也就是 主要 例如 比如 包括 以及 非常 十分 通常 一般 之一 用于 来 用 是 有
    具有 过程 文章 本文 这篇 介绍 所谓 叫做 称为 称作 即 也是 就 都 将 把 被 对 对于 而 并 从而 甚至 由
    它们 它 他 她 其 该 此 这些 那些 什么 如何 为什么 因为 由于 所 使得 使 让 得到 一些 很多 许多
    比较 比 相对 更 最 很 较 已经 仍然 依然 还是 是否 需要 方法 方式 问题 技术 思想 思路 作用 目的 时
    时候 情况 方面 可能 可 一定 来说 而言 上 下 中 里 内 之间 以 于 为 在 及 和 与 或 等 的 了
    当 每当 以后 之后 以前 之前 给出 列出 提到 指出 说到 写道 讲到 谈到 具体 如下
    沿着 沿 按照 依照 根据 随着 关于 向 往 朝 从 到 直到 自 经过
    一是 二是 三是 四是 其一 其二 其三 首先 其次 文中 文章中 原文 作者 笔者 认为 的话 面对 面临
    分别 各自 实际 实际上 其实 本来 大致 大概 依次 接着 随后 尽可能 或者 干脆 往往 总之 这类 像 为例 先
    自己 做法 情形 概括 总结""".split()  # noqa: SIM905 - a word list reads better as text
)
# Single characters that, next to stop words, still make a function word (这会, 是因为, 也就).
_ZH_STOP_CHARS = frozenset("这那也还就都会是在有要能可又才再已曾正将则便")


def is_zh_stop(term: str) -> bool:
    """A stop word, or a term made only of stop words and function characters.

    >>> is_zh_stop("是因为"), is_zh_stop("这会"), is_zh_stop("因果"), is_zh_stop("会议")
    (True, True, False, False)
    """
    if term in ZH_STOP:
        return True
    n = len(term)
    ok = [True] + [False] * n  # ok[i]: term[:i] splits into stop pieces
    for i in range(1, n + 1):
        for k in range(1, min(4, i) + 1):
            piece = term[i - k : i]
            if ok[i - k] and (piece in ZH_STOP or (k == 1 and piece in _ZH_STOP_CHARS)):
                ok[i] = True
                break
    return ok[n]


# English words that carry no claim beyond the glossary's stop words (reporting verbs, hedges).
EN_EXTRA_STOP = frozenset(
    """during mention mentions mentioned mentioning call calls called give gives given giving include
    includes included including take takes taken taking example examples because since while
    whereas although though also still usually usual generally general often typically first
    several essentially basically simply actually really certain certainly just namely i.e author
    authors article articles paper papers text post blog describe describes described explain
    explains explained introduce introduces introduced show shows showed shown go goes going went
    way ways thing things fact case cases part parts kind kinds form forms need needs needed become
    becomes became bring brings brought cover covers covered yes yet names named
    notes noted says said without never unlike cannot none neither nor far seen
    regarded date dates dated allow allows allowed allowing across respectively due owing""".split()  # noqa: SIM905 - a word list reads better as text
)
EN_STOP_STEMS = frozenset(stem(w) for w in EN_STOP | EN_EXTRA_STOP)

# suffix -> the endings that may replace it (the glossary's stemmer is rough)
_SUFFIXES = (
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
)


# words whose "-er" is no suffix, cut to another word ("layer" is no one who lays: it met 奠基
# of 奠基石 through "lay a foundation"; a "number" is not "numb")
_NOT_ER = frozenset(
    ("layer", "number", "master", "center", "corner", "flower", "shower", "tower", "hammer")
)


def variants(w: str) -> set[str]:
    """Forms under which an English word may appear (the glossary's stemmer is rough).

    >>> sorted(variants("faster")), sorted(variants("layers"))
    (['fast', 'faste', 'faster'], ['layer', 'layers'])
    """
    forms = {w, IRREGULAR_PLURALS.get(w, w)}
    for suf, reps in _SUFFIXES:
        if suf == "er" and (w in _NOT_ER or w[:-1] in _NOT_ER):
            continue
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            forms.update(w[: -len(suf)] + r for r in reps)
    return forms | {stem(f) for f in forms}


def stems_of(text: str) -> frozenset[str]:
    """Every form (:func:`variants`) of every English word of ``text``."""
    out: set[str] = set()
    for w in EN_WORD.findall(text):
        lw = w.lower().strip("'")
        if lw.endswith("'s"):
            lw = lw[:-2]
        if len(lw) >= 2:
            out |= variants(lw)
    return frozenset(out)


_QUOTES = re.compile(r"\"[^\"]*\"|“[^”]*”|「[^」]*」")
_BRACKETS = re.compile(r"\([^()（）]*\)|（[^()（）]*）")  # innermost first


_LITERAL_PIECE = re.compile(r"[\u3400-\u9fff]|[a-z][0-9a-z]+|[0-9]+")


def literal_run(clause: str, sentence_norm: str) -> int:
    """How many of ``clause``'s pieces (Chinese characters, Latin words, numbers) in a row (2+)
    ``sentence_norm`` (lowercased, ``NORM_DROP`` removed) holds, as adjacent pairs.

    Which of several sentences with a clause's words *says* it: "醉汉问题" is said by
    "它又被形象地叫做“醉汉问题”", not by "(当然,醉汉是在三维空间走路的…"; unlike a share of
    the clause's pairs it does not grow with the sentence, so the shorter of two that say it as
    literally stays first.

    >>> literal_run("醉汉问题 [1]", "它又被形象地叫做醉汉问题")
    4
    >>> literal_run("醉汉问题", "当然醉汉是在三维空间走路的"), literal_run("Thai National Railway", "泰国")
    (2, 0)

    A lone piece counts nothing (a character, or the variable "s" of a Chinese formula, is
    found anywhere).
    """
    low = CITE.sub("", unicodedata.normalize("NFKC", clause)).lower()
    pieces = _LITERAL_PIECE.findall(low)
    best, run = 0, 1
    for x, y in itertools.pairwise(pieces):
        run = run + 1 if x + y in sentence_norm else 1
        best = max(best, run if run > 1 else 0)
    return best


def is_english(text: str) -> bool:
    """English when its Latin words outweigh its Chinese characters (a word ~ two characters).

    Quotations and brackets are left out of the count: an English answer quoting the Chinese
    source ('DDIM is 10-50x faster ("提速 10~50 倍") [1].') is still English.
    """
    text = CITE.sub("", text)
    outside = _outside_quotes(text)
    if EN_WORD.search(outside) or CJK.search(outside):
        text = outside
    return 2 * len(EN_WORD.findall(text)) > len(CJK.findall(text))


def _outside_quotes(text: str) -> str:
    """``text`` without its quotations, then its brackets, innermost first: a quotation may
    hold brackets ('("… 模型(VLM) …")') and a bracket may hold a quotation."""
    text = _QUOTES.sub(" ", text)
    for _ in range(4):  # brackets nest a few levels at most
        inner = _BRACKETS.sub(" ", text)
        if inner == text:
            break
        text = inner
    return text


_PREFIX_INDEX: dict[int, list[str]] = {}


def prefix_renderings(glossary: Glossary, word: str) -> set[str]:
    """Renderings of glossary words sharing all but the last two letters of ``word``
    (``responsible`` ~ ``responsibility``, ``speedup`` ~ ``speed``), not of a shorter word that
    only begins it (``differentiable`` is not ``differ``: 不同), and six letters at least unless
    five are the whole glossary word (``propos`` is not ``proportion``: 正比).

    >>> g = Glossary({"differ": frozenset({"不同"}), "responsibil": frozenset({"责任"}),
    ...               "proportion": frozenset({"正比"})})
    >>> sorted(prefix_renderings(g, "differentiabl")), sorted(prefix_renderings(g, "responsibl"))
    ([], ['责任'])
    >>> prefix_renderings(g, "propos")
    set()
    """

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
        if common >= max(5, len(word) - 2) and (common >= 6 or common == len(k)):
            out.update(glossary.zh_by_en[k])
        i += 1
    return out


# Chinese words of general explanation that the articles and the model use interchangeably
_ZH_SYNONYM_GROUPS = (
    "提高 提升 增强",
    "降低 减少 减小 下降",
    "使用 采用 利用",
    "明显 显著",
    "快速 迅速",
    "目的 目标",
    "方式 方法",
    "缺点 不足 弊端",
    "优点 优势 好处",
    "通信 通讯",
    "前向 正向",
    "获得 获取 拿到",
    "要花 花费 耗费 需要",
    "起点 起始",
    "处在 处于",
    "快 加速 提速 快速",
    "大模型 大型语言模型 大语言模型 llm",
)
ZH_SYNONYMS = {
    w: tuple(o for o in group.split() if o != w)
    for group in _ZH_SYNONYM_GROUPS
    for w in group.split()
}
