"""Polarity and comparison: the rules that veto a clause its evidence contradicts.

- **Negation.** In Chinese, a negated predicate on one side and the same predicate un-negated
  on the other (不/没有/无需/无法/不再…; 不同/要不/无模型 are not negations). In English, the
  first content word after not/no/never/without/cannot (or a verb that negates its object:
  avoids, gives up, lacks, fails to, omits, ignores …) must not be asserted, un-negated, by its
  Chinese rendering (避免/放弃/缺乏/去掉 X in the evidence negate X too); a word the clause asserts
  must not follow a negation in the evidence (a veto when the clause has no negation and the
  evidence mentions the word only negated: "have already reached" over "尚未达到"). "Hardly",
  "barely" and "scarcely" negate.
- **Comparison.** A comparative or superlative (than/most/-est, 比/更/最/超过/优于…) needs a
  comparison in the evidence (相比/更/倍/加速…); an English "better/faster/larger … than" needs
  its own (更好, 优于, 比 … 好), not a comparison of another word (更高级).

Example:
    >>> t = "不再需要锚框, 不同的方法"
    >>> [t[s:e] for s, e in zh_negations(t)]
    ['不再']
    >>> predicate("不再需要预定义的锚框", 2, lambda t: ["需要", "预定义", "的", "锚框"])
    '预定义'
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.claims.units import Candidate, ClauseInfo, Unit
from rag.answer.claims.words import CJK, CJK_RUN

__all__ = [
    "EN_CMP",
    "EN_NEG",
    "ZH_CMP",
    "asserted_but_negated",
    "comparative_unsaid",
    "comparison_unmade",
    "en_negations",
    "neg_mismatch",
    "negated_before",
    "negated_scope_asserted",
    "predicate",
    "real_zh_negations",
    "zh_negations",
]

Renderings = Callable[[Unit], frozenset[str]]
Terms = Callable[[str], list[str]]

_ZH_NEG = re.compile(
    r"不再|不是|不能|不会|不需要|不需|不必|不用|不可|没有|没|无需|无法|无须|未|不|非|无|别|勿"
)
# one-character negations that usually make a compound (无模型, 非线性, 未标注), no negated predicate
_COMPOUND_NEGS = ("无", "非", "未", "别", "勿")
# words a negation may pass over to reach its predicate (不再需要预定义的锚框 -> 预定义)
_ZH_MODAL = frozenset(
    """特别 非常 很 太 再 一定 能 会 需要 必须 可以 能够 用 要 够 都 也 就 只 仅 是 被 在 那么 这么
    完全 直接 一样 太过 怎么 总是 一直 再次 得 该 应该 应 算 做 去 来 会有 有""".split()  # noqa: SIM905 - a word list reads better as text
)
# words that start with (or hold) a negation character but negate nothing
_ZH_NEG_FALSE = tuple(
    """不同 不断 不少 不仅 不过 不管 不论 无论 非常 不久 不一 无穷 无限 未来 除非 并非常 是否 否则
    非线性 不胜枚举 非零 不错 无关紧要 不定 非负 无偏 要不 不然 要么 不但 不止 不只 不省人事""".split()  # noqa: SIM905 - a word list reads better as text
)
# "without X" in Chinese is often "去掉 X": a removal verb before the word negates it too
# (and avoiding, giving up or lacking X negates X as well: 避免/放弃/缺乏 X)
_REMOVAL = re.compile(
    r"去掉|摘掉|去除|移除|删除|删掉|抛弃|舍弃|丢掉|丢弃|拿掉|省去|免去|取消|避免|放弃|摒弃|缺乏|缺少|省略|忽略"
)
EN_NEG = re.compile(
    r"\b(?:not|no longer|no|never|without|cannot|none|neither|nor|unlike|instead of|rather than|"
    r"hardly|barely|scarcely|"
    r"\w+n't|"
    # verbs that negate their object: "avoids FP8 training" says FP8 training is not used
    r"avoid(?:s|ed|ing)?|(?:give|gives|gave|giving|given) up|lack(?:s|ed|ing)?|"
    r"fail(?:s|ed|ing)? to|abandon(?:s|ed|ing)?|forgo(?:es|ing|ne)?|omit(?:s|ted|ting)?|ignor(?:e|es|ed|ing))\b",
    re.IGNORECASE,
)


EN_CMP = re.compile(
    r"(?<!rather )\bthan\b|\b(?:most|best|worst|least|outperform\w*|surpass\w*|beats?)\b"
    r"|\b(?!(?:inter|sugg|requ|lat|contest|protest|forest|hon|mod|manif|dig|inv|harv|att|inges|arr|"
    r"gu|n|w|r|t|p|v|z|ch|cr|j|l|qu)est\b)[a-z]{2,}est\b",
    re.IGNORECASE,
)
ZH_CMP = re.compile(
    r"(?<![宽占正反])比(?![例较如赛特率重])|更(?![新改换正])|"
    # 最大池化, 最小化, 最大似然 … name a thing, they compare nothing
    r"最(?![终初后近新]|[大小](?:池化|化|值|似然|二乘))|"
    r"超过|优于|胜过|不如|高于|低于|强于|弱于|远超|领先|全面"
)
CMP_EVIDENCE_ZH = re.compile(
    r"(?<![宽占正反])比(?![例如赛特率重])|更(?![新改换正])|最(?![终初后])|相比|相较|超过|优于|胜过|不如|高于|低于|强于|弱于|远超|"
    r"领先|加速|提速|倍|\bthan\b|"
    # 略低 / 稍快 / 较高: "slightly lower (than offline)", the comparison's other side left unsaid
    r"[略稍较]微?[高低大小快慢多少好差强弱长短]"
)
CMP_EVIDENCE_EN = re.compile(
    r"\bthan\b|\b(?:most|best|worst|least|more|less|fewer|maximum|minimum)\b|[a-z]{3,}(?:er|est)\b",
    re.IGNORECASE,
)


def en_negations(text: str) -> list[re.Match[str]]:
    """The negations of an English text ("not", "without", "instead of", "-n't"...), not the
    answer particle of "No, ...".

    >>> [m.group(0) for m in en_negations("No, it uses processes instead of threads.")]
    ['instead of']
    """
    return [
        m
        for m in EN_NEG.finditer(text)
        if not (m.group(0).lower() == "no" and re.match(r"\s*[,.]", text[m.end() :]))
    ]


# what may stand before an imperative 别/勿 ("千万别", "请勿"); after any other character it is
# part of a word
_BIE_LEAD = "请千万可也先就都你您"


def zh_negations(text: str) -> list[tuple[int, int]]:
    """Spans of the negations of a Chinese text (not those inside 不同, 无论, 非线性, 不但…).

    >>> zh_negations("它不但提升了效果，还不需要训练")
    [(10, 13)]
    >>> zh_negations("处理类别特征和区别"), zh_negations("请勿改动")
    ([], [(1, 2)])
    """
    spans = []
    for m in _ZH_NEG.finditer(text):
        s = m.start()
        if (
            m.group(0) in ("别", "勿")
            and s > 0
            and CJK.match(text[s - 1])
            and text[s - 1] not in _BIE_LEAD
        ):
            continue  # the 别 of 类别, 区别, 识别, 分别, 特别: a word, not "don't"
        if any(
            text.startswith(w, s) or (s > 0 and text.startswith(w, s - 1) and w[1:2] == text[s])
            for w in _ZH_NEG_FALSE
        ):
            continue
        if m.group(0) == "不是" and _EITHER_OR.match(text, m.end()):
            continue  # 不是向前走一格就是向后走一格: either … or, nothing denied
        spans.append(m.span())
    return spans


# "不是 A 就是 B" (either A or B) within one clause
_EITHER_OR = re.compile(r"[^，,。;；！？!?]{1,20}?就是")
# the complements of a potential verb: 落地不了, 做不到, 看不出 (cannot land, cannot do, cannot see);
# not 下/起/动/来, whose 不下于 (no less than), 不起眼, 不动点 negate nothing before them
_POTENTIAL = "了到出住掉完"


def cannot(text: str, end: int, negs: list[tuple[int, int]]) -> bool:
    """The word ending at ``end`` is negated by a potential complement after it (落地|不了).

    >>> t = "往往落地不了更复杂的模型"
    >>> cannot(t, 4, zh_negations(t)), cannot(t, 2, zh_negations(t))
    (True, False)
    """
    return any(s == end and text[s:e] == "不" and text[e : e + 1] in _POTENTIAL for s, e in negs)


def _negated_at(text: str, pos: int, word: str, negs: list[tuple[int, int]]) -> bool:
    """``word`` at ``pos`` is negated: by a negation shortly before it, or a potential
    complement right after it (落地不了)."""
    return negated_before(text, pos, negs) or cannot(text, pos + len(word), negs)


def is_negation_word(term: str) -> bool:
    """A word that is only a negation (不是; the 不了 of 落地不了, the 不到 of 做不到): the negation
    rules judge its polarity; it is no content word that must appear in the passage.

    >>> is_negation_word("不了"), is_negation_word("不是"), is_negation_word("不同")
    (True, True, False)
    """
    return term == "不是" or (len(term) == 2 and term[0] == "不" and term[1] in _POTENTIAL)


def negated_predicate(text: str, start: int, end: int, tok: Callable[[str], list[str]]) -> str:
    """The word a negation at ``text[start:end]`` governs: the verb before a potential
    complement (``落地不了`` -> ``落地``), else :func:`predicate`'s word after it."""
    if text[start:end] == "不" and text[end : end + 1] in _POTENTIAL:
        m = re.search(f"(?:{CJK_RUN.pattern})$", text[max(0, start - 10) : start])
        if m:
            words = [t for t in tok(m.group(0)) if m.group(0).endswith(t)]
            word = max(words, key=len, default="")
            if len(word) >= 2:
                return word
    return predicate(text, end, tok)


def negated_before(text: str, pos: int, negs: list[tuple[int, int]], window: int = 5) -> bool:
    """A negation ends shortly before ``pos`` (or overlaps it: 不可导 negates 可导)."""
    return any(s < pos + 1 and pos - e <= window for s, e in negs)


def predicate(text: str, end: int, tok: Callable[[str], list[str]]) -> str:
    """The content word governed by a negation (``不再需要预定义的锚框`` -> ``预定义``)."""
    m = CJK_RUN.match(text, end)
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


def neg_mismatch(info: ClauseInfo, c: Candidate, renderings: Renderings, tok: Terms) -> bool:
    """The clause and the candidate disagree in polarity (see the module's rules); never for a
    bare "no" (``info.denied``, the question's words): "不需要知道…" is what it says."""
    if info.denied:
        return False
    if info.english:
        if not CJK.search(c.text):
            return info.negated != bool(EN_NEG.search(c.text))
        # a negated word of the clause asserted by the candidate ...
        if negated_scope_asserted(info, c, renderings):
            return True
        # ... or a word the clause asserts negated by the candidate
        scoped = {id(u) for u in info.neg_scope}
        for _s, e in c.negations:
            window = c.text[e : e + 6]
            for u in info.units:
                if id(u) in scoped:
                    continue
                forms = [u.key] if u.kind == "zh" else [z for z in renderings(u) if len(z) >= 2]
                if any(window.startswith(z, k) for z in forms for k in range(0, 3)):
                    return True
        return False
    return _zh_neg_mismatch(info, c, tok)


def negated_scope_asserted(info: ClauseInfo, c: Candidate, renderings: Renderings) -> bool:
    """An English clause negates words that the (Chinese) candidate states without negation."""
    if not info.english or not info.neg_scope or not CJK.search(c.text):
        return False
    for u in info.neg_scope:
        hits = (
            [
                m.start()
                for z in renderings(u)
                if len(z) >= 2 or u.kind == "zh"
                for m in re.finditer(re.escape(z), c.text)
            ]
            # the English word itself: Chinese text often keeps the term ("就是Data Parallelism")
            + [
                m.start()
                for v in {u.surface, *u.subterms}
                if len(v) >= 3
                for m in re.finditer(
                    r"(?<![A-Za-z])" + re.escape(v) + r"(?![A-Za-z])", c.text, re.IGNORECASE
                )
            ]
            if u.kind == "en"
            else [m.start() for m in re.finditer(re.escape(u.key), c.text)]
        )
        if hits and not any(
            negated_before(c.text, p, c.negations, 10)
            or _REMOVAL.search(c.text, max(0, p - 8), p)
            or _in_negated_clause(c.text, p, c.negations)
            or _said_of_another(c.text, p, info.text)
            for p in hits
        ):
            return True
    return False


# an adverb that makes a one-character negation a negation, not part of a word: 尚未, 并无, 而非
_NEG_ADVERB = "尚并从还仍均都也绝毫而"


def _real_negation(text: str, s: int, e: int) -> bool:
    """Not the 别 of 类别/特别, nor the 无/非/未 of a compound (无模型, 非线性), unless an adverb
    makes it one (尚未达到, 并非)."""
    neg = text[s:e]
    if neg in ("别", "勿"):
        return False
    if neg in _COMPOUND_NEGS:
        return s > 0 and text[s - 1] in _NEG_ADVERB
    return True


def real_zh_negations(text: str) -> list[tuple[int, int]]:
    """The spans of :func:`zh_negations` that negate a predicate: not the 无/非/未 of a compound
    (无模型, 非线性) unless an adverb makes it one (尚未, 并非).

    >>> t = "DDIM 在不利用马尔可夫假设的情况下, 无模型方法"
    >>> [t[s:e] for s, e in real_zh_negations(t)]
    ['不']
    """
    return [(s, e) for s, e in zh_negations(text) if _real_negation(text, s, e)]


def asserted_but_negated(info: ClauseInfo, c: Candidate, renderings: Renderings) -> bool:
    """An English clause with no negation asserts a word that the (Chinese) candidate mentions
    only right after a negation, in a clause of the candidate that holds another of its words:
    "these methods have already reached general reasoning performance comparable to the OpenAI
    o1 series" over "这些方法尚未达到与 OpenAI o1 系列模型相当的通用推理性能". A word the candidate
    also states without a negation ("无需预定义锚框: …需要事先定义和生成一组锚框") is not negated
    by it, nor one negated about something else: "…because it skips the Markov assumption" over
    "因为 DDPM 的反向过程利用了马尔可夫假设,…而不能跳过中间步骤".
    """
    if not info.english or info.negated or not CJK.search(c.text):
        return False
    negs = [(s, e) for s, e in c.negations if _real_negation(c.text, s, e)]
    if not negs:
        return False
    # English words through their renderings: Chinese the clause quotes keeps its own negations
    forms = [(u, [z for z in renderings(u) if len(z) >= 2]) for u in info.units if u.kind == "en"]
    for u, zs in forms:
        hits = {m.start() for z in zs for m in re.finditer(re.escape(z), c.text)}
        if not hits or not all(any(0 <= p - e <= 2 for _s, e in negs) for p in hits):
            continue
        for p in hits:
            s, e = _clause_span(c.text, p)
            part = c.text[s:e]
            if any(o is not u and any(z in part for z in oz) for o, oz in forms):
                return True
    return False


_CLAUSE_END = re.compile(r"[,，;；:：。!！?？]")


def _clause_span(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the comma-bounded clause of ``text`` that holds ``pos``."""
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, pos)), default=0)
    end = _CLAUSE_END.search(text, pos)
    return start, end.start() if end else len(text)


# a name in Latin letters: an acronym or a capitalised word run together (fasterRCNN, GPT2)
_LATIN_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]*[A-Z][A-Za-z]*[A-Z0-9][A-Za-z0-9]*")


def _latin_flat(text: str) -> str:
    """``text`` lowercased, only its Latin letters and digits kept (anchor-based -> anchorbased)."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _said_of_another(text: str, pos: int, clause: str) -> bool:
    """The (comma-bounded) Chinese clause around ``pos`` speaks of a name the English clause
    does not: "…without using proposals and classifiers" (YOLO) is not contradicted by
    "但是fasterRCNN整体还是采用了RCNN那种 proposal+classifier的思想", which says it of Faster R-CNN."""
    start, end = _clause_span(text, pos)
    around = text[start:end]
    said = _latin_flat(clause)
    return any(
        _latin_flat(m.group(0)) not in said
        for m in _LATIN_NAME.finditer(around)
        if not (m.start() + start <= pos < m.end() + start)
    )


def _in_negated_clause(text: str, pos: int, negs: list[tuple[int, int]]) -> bool:
    """A negation earlier in the same (comma-bounded) Chinese clause, within 30 characters: it
    governs the verb its adverbials lead to ("无法从候选列表整体或上下文实时反馈角度出发进行排序")."""
    return any(
        e <= pos
        and pos - e <= 30
        and not _CLAUSE_END.search(text, e, pos)
        and text[s:e] not in _COMPOUND_NEGS
        for s, e in negs
    )


_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9\-_ ]*[A-Za-z0-9]|[A-Za-z]")


def _latin_names(text: str) -> set[str]:
    """The Latin runs of a Chinese text, lowercased, separators dropped (anchor-based ->
    anchorbased)."""
    return {_latin_flat(m.group(0)) for m in _LATIN_RUN.finditer(text)}


def _of_another(clause: str, sentence: str) -> bool:
    """Each of the two names something in Latin letters the other does not: the sentence speaks
    of another subject. "而 anchor-based 的检测器使用锚框…" is not contradicted by "而在"anchorfree"
    方法中,不再使用锚框", which says it of anchor-free detectors.

    >>> _of_another("而 anchor-based 的检测器使用锚框", '而在"anchorfree"方法中,不再使用锚框')
    True
    >>> _of_another("DDIM 利用了马尔可夫假设", "DDIM 在不利用马尔可夫假设的情况下推导")
    False
    """
    mine, theirs = _latin_names(clause), _latin_names(sentence)
    flat, said = _latin_flat(sentence), _latin_flat(clause)
    return (
        bool(mine)
        and bool(theirs)
        and not any(n in flat for n in mine)
        and not any(n in said for n in theirs)
    )


def _zh_neg_mismatch(info: ClauseInfo, c: Candidate, tok: Terms) -> bool:
    """Chinese: a negated predicate in one, the same predicate un-negated in the other (not
    when the two speak of different names: :func:`_of_another`)."""
    if _of_another(info.text, c.text):
        return False
    for pred in info.neg_preds:
        if pred and pred in c.text:
            pos = [m.start() for m in re.finditer(re.escape(pred), c.text)]
            if not any(_negated_at(c.text, p, pred, c.negations) for p in pos):
                return True
    for s, e in c.negations:
        if c.text[s:e] in _COMPOUND_NEGS:
            continue  # 无模型 / 非线性 / 未标注: a compound, not a negated predicate
        pred = negated_predicate(c.text, s, e, tok)
        if not pred or len(pred) < 2 or pred not in info.text:
            continue
        pos = [m.start() for m in re.finditer(re.escape(pred), info.text)]
        negs = zh_negations(info.text)
        if not any(_negated_at(info.text, p, pred, negs) for p in pos):
            return True
    return False


def comparison_unmade(info: ClauseInfo, c: Candidate) -> bool:
    """The clause compares (``比``, ``than``, ``-est``) and the candidate makes no comparison."""
    evidence = CMP_EVIDENCE_ZH if CJK.search(c.text) else CMP_EVIDENCE_EN
    return info.comparative and not evidence.search(c.text)


# an English comparative and the characters a Chinese text says it with (好/优/强 for "better")
_COMPARATIVES = {
    "better": "好优强胜佳",
    "worse": "差劣弱坏",
    "faster": "快速",
    "quicker": "快速",
    "slower": "慢",
    "larger": "大多高",
    "bigger": "大多高",
    "greater": "大多高强",
    "smaller": "小少低",
    "higher": "高大多",
    "lower": "低小少降",
    "fewer": "少小低",
    "cheaper": "低少省便",
    "longer": "长多",
    "shorter": "短少",
    "stronger": "强",
    "weaker": "弱",
}
_COMPARATIVE = re.compile(
    r"\b(" + "|".join(_COMPARATIVES) + r")\b(?:\s+[\w-]+){0,3}?\s+than\b", re.IGNORECASE
)


def comparative_unsaid(info: ClauseInfo, c: Candidate) -> str:
    """The comparative of an English clause ("better than ReLU") that a Chinese candidate, which
    may compare something else ("更高级的激活函数"), does not make (更好, 优于, 比 … 好; a multiple
    or a speed-up, 倍/加速, counts for any); "" when none.

    Example:
        >>> from rag.answer.claims.units import Candidate, ClauseInfo
        >>> info = ClauseInfo("functions consistently better than ReLU", True, [], [], [], False, [])
        >>> def cand(t):
        ...     return Candidate(0, 0, len(t), t, t, t, frozenset(), frozenset(), frozenset(), [])
        >>> comparative_unsaid(info, cand("曾经优秀的 ReLU; 更高级的激活函数")), comparative_unsaid(
        ...     info, cand("效果比 ReLU 好"))
        ('better', '')
    """
    if not info.english or not CJK.search(c.text):
        return ""
    for m in _COMPARATIVE.finditer(info.text):
        word = m.group(1).lower()
        chars = _COMPARATIVES[word]
        said = (  # (略低 / 稍快 / 较高: "slightly lower", its other side left unsaid)
            rf"[更略稍较]微?[{chars}]|[{chars}]于|比[^，。；;,]{{0,12}}[{chars}]|倍|加速|提速|超过|胜过"
        )
        if not re.search(said, c.text):
            return word
    return ""
