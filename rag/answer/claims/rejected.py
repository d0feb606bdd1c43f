"""What a passage says its subject does without: "Yes, DPO needs a reward model" over
"DPO发现了一个数学上的捷径: … 与其先训练奖励模型再训练语言模型,不如直接训练语言模型".

Every word of such a clause is in the passage (DPO, 奖励模型), and the passage also writes
"先训练一个奖励模型" un-negated, of RLHF, so neither the words nor the negation rules object.
Here each mention of a word is given to the name the passage last wrote before it (what the
passage is speaking of there); when every mention given to the clause's name (its first: its
subject) is the object of a rejection (与其 X 不如, 而不是 X, 无需 X, instead of X…) or of a
Chinese negation ("DDIM 在不利用马尔可夫假设的情况下…"), the clause says the opposite of its
passage. A clause with a negation or a rejection of its own ("DPO does not need…", "DDIM skips
…"), or a comparison, is not judged here.

Example:
    >>> p = ("传统的RLHF方法分两步走: 1. 先训练一个奖励模型 1. 然后用强化学习最大化这个奖励。"
    ...      "DPO发现了一个捷径: 与其先训练奖励模型再训练语言模型,不如直接训练语言模型")
    >>> rejected_of("DPO", ["奖励模型"], p)
    ('与其', 63)
    >>> rejected_of("DPO", ["模型"], p) is None  # 不如直接训练语言模型
    True
    >>> rejected_of("RLHF", ["奖励模型"], p) is None
    True

The mirror, :func:`denied_though_said`: a clause that denies of its subject a word the passages
say of it, never negated (every negation and avoidance counting), beside another of its words,
is removed too ("No, DDPM does not use the Markov assumption" over "DDPM 的反向过程利用了马尔可夫
假设").

:func:`done_without` applies it to a checked answer: a clause whose word some passage says its
name does without, and none says of it otherwise, is removed (its name may be one the question gave, as may its words: a
clause that repeats a yes/no question answers it, and a bare "是" asserts the question).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import latin_name_spans, latin_names
from rag.answer.claims.negation import en_negations, real_zh_negations, zh_negations
from rag.answer.claims.result import Clause
from rag.answer.claims.units import ClauseInfo, Unit

__all__ = [
    "REJECTING",
    "denied_though_said",
    "done_without",
    "mentions",
    "rejected_of",
    "rejection_as_evidence",
    "rejections",
]

# the markers whose object a text does without; the object starts within _REACH characters
REJECTING = re.compile(
    # (与其 … 不如: not the 与其 of 与其他进程通讯, "with the other processes")
    r"与其(?=[^。；;!！?？]{1,40}?(?:不如|宁可|宁愿))|而不是|而非|无需|无须|不需要|不必|不再需要|省去|省掉|免去|绕过|摆脱|"
    r"\b(?:instead of|rather than|without|no need (?:for|to)|eliminat\w*|bypass\w*|"
    r"removes? the need)\b",
    re.IGNORECASE,
)
# what makes a clause itself say its name does without something ("DPO does away with the reward
# model", "DPO 取代了奖励模型"): such a clause asserts no object of its own and is not judged here
_CLAUSE_REJECTS = re.compile(
    r"去掉|去除|舍弃|抛弃|放弃|摒弃|取代|代替|替代|跳过|避免|省略|绕开|不再|"
    r"\b(?:(?:does|do|did|doing|done) away with|gets? rid of|got rid of|dispens\w*|remov\w*|"
    r"drop\w*|skip\w*|replac\w*|discard\w*|free\w* (?:of|from)|sidestep\w*|circumvent\w*)\b",
    re.IGNORECASE,
)
_SENTENCE_PART = re.compile(r"[,，。;；:：!！?？]")  # (a gloss in parentheses is part of it)
# (position, the rejection or negation it is the object of, another word of the clause beside it)
Mention = tuple[int, str | None, bool]
_REACH = 4  # characters between the marker and the word it governs ("与其先训练奖励模型")
# a word further on, in the marker's clause, when another word of the clause is there too: the
# negated phrase holds the clause's verb and object ("而无需访问GPU全局内存来存储中间的…注意力分数")
_WIDE = 30
# where a negated phrase ends: punctuation, or the end of an adverbial ("在不利用马尔可夫假设的情况下
# 推导出了…反向过程": the derivation is not negated) or the next predicate's connective
_PUNCT = re.compile(
    r"[,，。;；:：!！?？、()（）]|情况下|前提下|条件下|时候|之后|以后|之前|以前|从而|进而|并且|而且|"
    r"但是|却|然后"
)


def rejected_of(
    name: str, forms: Iterable[str], passage: str, others: Sequence[Sequence[str]] = ()
) -> tuple[str, int] | None:
    """(marker, position) when ``passage`` mentions a word where it speaks of ``name``, each
    time as something done without or negated (:func:`mentions`); else None."""
    found = mentions(name, forms, passage, others)
    if not found or any(marker is None for _pos, marker, _beside in found):
        return None
    pos, marker, _beside = found[0]
    assert marker is not None
    return marker, pos


def mentions(
    name: str,
    forms: Iterable[str],
    passage: str,
    others: Sequence[Sequence[str]] = (),
    rejections: bool = True,
    liberal: bool = False,
) -> list[Mention]:
    """Where ``passage`` mentions a word (any of its ``forms``) where it speaks of ``name``, each
    with the rejection or negation it is the object of (None: said without one).

    A mention is done without when a rejection (:data:`REJECTING`) or, in Chinese, a negation
    (不利用, 没有) ends at most :data:`_REACH` characters before it, or further on in the same
    clause when that clause also holds another word of the clause (one of ``others``). A mention
    belongs to the name written last before it (before its negation, if negated), not counting
    one glued to the word ("GPU全局内存" speaks of 全局内存, not of a GPU) nor a capitalised word
    (Softmax).

    Args:
        name: A name the clause speaks of ("DPO").
        forms: The ways the passage may write the word the clause asserts (奖励模型).
        passage: The passage's text.
        others: The forms of the clause's other words.
        rejections: Whether a rejection (:data:`REJECTING`) counts, or only a negation.
        liberal: Count every negation and avoidance as one (避免, 放弃, the 未 of 未出现…): to find
            where a passage says a word un-negated, a word it may negate must not count.

    Returns:
        (position, marker or None, another word of the clause beside it) of each such mention,
        in the passage's order.
    """
    # who a sentence speaks of: acronyms and CamelCase names (not "Softmax", "Transformer": in
    # Chinese text those are words), and the clause's name however it is written
    key = name.lower()
    own = [
        (m.start(), m.end(), m.group(0))
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", passage, re.I)
    ]
    if not own:
        return []
    names = sorted({*latin_name_spans(passage, chinese=False), *own})
    marks = [(m.start(), m.end(), m.group(0)) for m in REJECTING.finditer(passage) if rejections]
    marks += [
        (a, b, passage[a:b])
        for a, b in (zh_negations if liberal else real_zh_negations)(passage)
        if not passage.startswith("不如", a)  # (与其 … 不如 X: X is what is done)
    ]
    if liberal:
        marks += [(m.start(), m.end(), m.group(0)) for m in _CLAUSE_REJECTS.finditer(passage)]
        marks += [(m.start(), m.end(), m.group(0)) for m in en_negations(passage)]
    # a negation inside a word of the clause is that word's ("uncertain" is 不确定); liberal: a
    # passage writing the clause's own negated word, 不可缺少, negates it as well
    if not liberal and marks:
        texts = {t.lower() for _a, _b, t in marks}
        spans = [
            o.span()
            for f in {f for fs in (forms, *others) for f in fs if len(f) >= 2}
            if any(t in f.lower() for t in texts)  # (only a word holding a marker can cover it)
            for o in re.finditer(re.escape(f), passage, re.IGNORECASE)
        ]
        marks = [x for x in marks if not any(s <= x[0] and x[1] <= e for s, e in spans)]
    found: list[Mention] = []
    for w in {f for f in forms if len(f) >= 2}:
        for m in re.finditer(re.escape(w), passage, re.IGNORECASE):
            by = _governing(passage, m, marks, others, liberal)
            at = by[0] if by else m.start()
            before = [n for _s, e, n in names if e < at or (by and e <= at)]
            if before and before[-1].lower() == key:  # (else it speaks of another name there)
                found.append((m.start(), by[1] if by else None, _beside(passage, m, others)))
    return sorted(found, key=lambda x: x[0])


def _beside(passage: str, m: re.Match[str], others: Sequence[Sequence[str]]) -> bool:
    """Another of the clause's words in the (punctuation-bounded) clause of the mention ``m``:
    "DDPM 的反向过程利用了马尔可夫假设" says use and the Markov assumption together."""
    reach = _WIDE + 10
    cuts = [c.end() for c in _SENTENCE_PART.finditer(passage, max(0, m.start() - reach), m.start())]
    start = cuts[-1] if cuts else max(0, m.start() - reach)
    cut = _SENTENCE_PART.search(passage, m.end())
    end = min(cut.start() if cut else len(passage), m.end() + reach)
    return _holds_another(passage[start:end], (m.start() - start, m.end() - start), others)


def _holds_another(span: str, here: tuple[int, int], others: Sequence[Sequence[str]]) -> bool:
    """``span`` holds one of ``others`` outside ``here`` (the mention's own characters)."""
    for forms in others:
        for f in forms:
            if len(f) < 2:
                continue
            for o in re.finditer(re.escape(f), span, re.IGNORECASE):
                if o.end() <= here[0] or o.start() >= here[1]:
                    return True
    return False


def _governing(
    passage: str,
    m: re.Match[str],
    marks: list[tuple[int, int, str]],
    others: Sequence[Sequence[str]],
    liberal: bool = False,
) -> tuple[int, str] | None:
    """(start, text) of the rejection or negation that governs the mention ``m``, or None
    (``liberal``: any earlier in its clause: "避免乱七八糟的环境问题")."""
    for a, b, text in sorted(marks, key=lambda x: -x[1]):
        gap = m.start() - b
        if gap < 0 or gap > _WIDE:
            continue
        if gap <= _REACH or (liberal and not _PUNCT.search(passage, b, m.start())):
            return a, text
        cut = _PUNCT.search(passage, b)
        end = min(cut.start() if cut else len(passage), b + _WIDE + len(m.group(0)))
        if m.end() > end:
            continue
        if _holds_another(passage[b:end], (m.start() - b, m.end() - b), others):
            return a, text
    return None


def rejections(
    lex: Lexicon,
    clauses: Sequence[Clause],
    full: Sequence[ClauseInfo],
    bare: Sequence[int],
    question: str,
) -> None:
    """:func:`done_without`, :func:`denied_though_said`, then :func:`rejection_as_evidence` (the
    check's step)."""
    done_without(lex, clauses, full, bare)
    denied_though_said(lex, clauses, full, bare)
    rejection_as_evidence(lex, clauses, full, bare, question)


def denied_though_said(
    lex: Lexicon, clauses: Sequence[Clause], full: Sequence[ClauseInfo], bare: Sequence[int]
) -> None:
    """Remove each supported clause that denies of its subject what the passages say of it,
    never negated, with another of the clause's words beside it: "No, DDPM does not use the
    Markov assumption" and a bare "不" to "DDPM 利用马尔可夫假设吗?" over "因为 DDPM 的反向过程利用了
    马尔可夫假设" (the passage's "DDIM 在不利用马尔可夫假设…" is DDIM's, and had matched the negation).

    Args:
        lex: The check's lexicon of the passages.
        clauses: The answer's clauses, judged.
        full: What each clause says on all its words; of a bare yes/no, the question's.
        bare: The clauses that only say yes or no.
    """
    for ci, clause in enumerate(clauses):
        info = full[ci]
        if not clause.supported or not clause.support or not info.names or info.comparative:
            continue
        if ci in bare:
            if not _says_no(clause.text) or info.negated:
                continue  # (a "不" to "DDPM 不利用…吗?" agrees with the negation)
        elif not info.negated or REJECTING.search(info.text) or _CLAUSE_REJECTS.search(info.text):
            continue
        name = _subject(info)
        words = _asserted(lex, info)
        denied = words if ci in bare else _negated_words(info, words)
        for surface, forms, others in _judged(name, denied, words):
            found = [
                (p, pos, marker, beside)
                for p, pc in enumerate(lex.pass_cands)
                for pos, marker, beside in mentions(name, forms, pc.text, others, liberal=True)
            ]
            # (beside another word; of a clause with one word, the mention itself)
            said = [x for x in found if x[2] is None and (x[3] or not others)]
            if said and all(x[2] is None for x in found):
                p, pos = said[0][:2]
                clause.status, clause.support, clause.score = "unsupported", [], 0.0
                clause.rule = "affirmed"
                clause.reason = f"'{surface}': [{p + 1}] says it of {name}, not negated"
                _point_at(lex, clause, p, (surface, "", pos))
                break


def done_without(
    lex: Lexicon, clauses: Sequence[Clause], full: Sequence[ClauseInfo], bare: Sequence[int]
) -> None:
    """Remove each supported clause that asserts of a name what a passage says that name does
    without, when no passage says it of the name without a rejection (see the module).

    Args:
        lex: The check's lexicon of the passages.
        clauses: The answer's clauses, judged.
        full: What each clause says on all its words (the question's included); for a bare
            yes/no (``bare``), the question's proposition.
        bare: The clauses that only say yes or no.
    """
    for ci, clause in enumerate(clauses):
        info = full[ci]
        if not clause.supported or not clause.support or info.negated or not info.names:
            continue
        # a clause that does without something itself ("DPO does away with the reward model")
        # is contradicted only by a negation of its words ("Yes, DDPM can skip intermediate
        # steps" over "…而不能跳过中间步骤"), not by a rejection of what it rejects
        itself = any(
            r.search(t) for r in (REJECTING, _CLAUSE_REJECTS) for t in (info.text, clause.text)
        )
        if ci in bare and _says_no(clause.text):
            continue  # "不是 [1]。": it denies the question's proposition
        if en_negations(clause.text) or zh_negations(clause.text):
            continue  # (a Chinese quote of an English clause too: "…uncertain (“不确定的环境”)")
        if info.comparative:
            continue  # ("FFM has higher complexity than FM": the comparison rules judge it)
        name = _subject(info)
        words = _asserted(lex, info)
        if itself:  # what the clause itself does without is no word it asserts ("放弃马尔可夫假设")
            ends = [m.end() for r in (REJECTING, _CLAUSE_REJECTS) for m in r.finditer(info.text)]
            words = [w for w in words if info.text.find(w[0]) < min(ends, default=len(info.text))]
        hit = _rejected_everywhere(lex, name, words, not itself)
        if hit:
            _remove(lex, clause, name, hit[0], hit[1:])


def rejection_as_evidence(
    lex: Lexicon,
    clauses: Sequence[Clause],
    full: Sequence[ClauseInfo],
    bare: Sequence[int],
    question: str,
) -> None:
    """A supported clause that denies its word of a name rests on the sentence that says the
    name does without it: "不需要奖励模型 [1]。" to "DPO 需要奖励模型吗?" had been shown with "来源
    [1]：“先训练一个奖励模型来判断哪个回答更好…”", RLHF's step, which has more of its words.

    Args:
        lex: The check's lexicon of the passages.
        clauses: The answer's clauses, judged.
        full: What each clause says on all its words (of a bare yes/no: the question's).
        bare: The clauses that only say yes or no ("No [1]." denies the question's word).
        question: The question (its names are the subject of a clause that names none).
    """
    asked = [(n, n.lower()) for n in latin_names(question)]
    for ci, clause in enumerate(clauses):
        info = full[ci]
        denies = (ci in bare and _says_no(clause.text)) or (
            ci not in bare
            and (info.negated or any(r.search(clause.text) for r in (REJECTING, _CLAUSE_REJECTS)))
        )
        if not clause.supported or not clause.support or not denies:
            continue
        words = _asserted(lex, info)
        for name, _norm in info.names or asked:
            hit = next(
                (
                    (p - 1, h)
                    for p in clause.support
                    if (h := _rejected_in(lex, name, words, p - 1))
                ),
                None,
            )
            if hit and _point_at(lex, clause, *hit):
                clause.rule = "without"  # (what chose its evidence: the quote shows that sentence)
                break


def _says_no(text: str) -> bool:
    """A bare yes/no that says no ("不是", "不需要", "No")."""
    return bool(zh_negations(text) or re.match(r"\W*no\b", text, re.IGNORECASE))


_Hit = tuple[str, str, int]


def _rejected_in(
    lex: Lexicon, name: str, words: list[tuple[str, list[str]]], p: int
) -> _Hit | None:
    """(surface, marker, position) of the first of ``words`` passage ``p`` rejects for ``name``."""
    for surface, forms, others in _judged(name, words, words):
        hit = rejected_of(name, forms, lex.pass_cands[p].text, others)
        if hit:
            return surface, *hit
    return None


def _judged(
    name: str, judged: list[tuple[str, list[str]]], words: list[tuple[str, list[str]]]
) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    """(surface, forms, the forms of the clause's other words) of each of ``judged`` but the name
    itself ("DPO" in "DPO-style"); a word's others are those of ``words`` it is not part of."""
    for surface, forms in judged:
        if any(name.lower() in f.lower() or f.lower() in name.lower() for f in forms):
            continue
        yield surface, forms, [f for s, f in words if s not in surface and surface not in s]


def _subject(info: ClauseInfo) -> str:
    """The clause's first name: what it speaks of ("DPO" of "Yes, DPO needs a reward model")."""
    low = info.text.lower()
    return min(info.names, key=lambda n: low.find(n[0].lower()) % (len(low) + 1))[0]


def _negated_words(
    info: ClauseInfo, words: list[tuple[str, list[str]]]
) -> list[tuple[str, list[str]]]:
    """The words a negated clause denies: in English the word after each negation ("does not
    use"), in Chinese the predicate a negation governs (不利用 -> 利用), and the runs they open."""
    heads = [u.surface for u in info.neg_scope] + [p for p in info.neg_preds if p]
    return [(s, f) for s, f in words if any(s.startswith(h) for h in heads)]


def _rejected_everywhere(
    lex: Lexicon, name: str, words: list[tuple[str, list[str]]], rejections: bool = True
) -> tuple[int, str, str, int] | None:
    """(passage, surface, marker, position) of the first of ``words`` that some passage says
    ``name`` does without and no passage says of it without a rejection; else None."""
    for surface, forms, others in _judged(name, words, words):
        found = [
            (p, pos, marker)
            for p, pc in enumerate(lex.pass_cands)
            for pos, marker, _beside in mentions(name, forms, pc.text, others, rejections)
        ]
        if found and all(marker is not None for _p, _pos, marker in found):
            p, pos, marker = found[0]
            assert marker is not None
            return p, surface, marker, pos
    return None


def _remove(lex: Lexicon, clause: Clause, name: str, p: int, hit: _Hit) -> None:
    """Mark ``clause`` unsupported by passage ``p`` (0-based), whose sentence at the hit says
    ``name`` does without the clause's word."""
    surface, marker, _pos = hit
    clause.status, clause.support, clause.score, clause.rule = "unsupported", [], 0.0, "without"
    said = "does without it" if marker == "与其" or REJECTING.fullmatch(marker) else "does not"
    clause.reason = f"'{surface}': [{p + 1}] says {name} {said} ({marker})"
    _point_at(lex, clause, p, hit)


def _point_at(lex: Lexicon, clause: Clause, p: int, hit: _Hit) -> bool:
    """Make the evidence of ``clause`` the sentence of passage ``p`` (0-based) at the hit."""
    holding = [c for c in lex.cands if c.passage == p and c.start <= hit[2] < c.end]
    if not holding:
        return False
    c = min(holding, key=lambda c: c.end - c.start)  # one sentence, not a pair with it
    clause.evidence_passage, clause.evidence = p + 1, c.text
    clause.evidence_start, clause.evidence_end = c.start, c.end
    return True


def _asserted(lex: Lexicon, info: ClauseInfo) -> list[tuple[str, list[str]]]:
    """(surface, forms) of what a clause asserts, longest first: each word and every run of
    words written without a gap (jieba cuts 奖励模型 into 奖励 and 模型, and "reward model" is two
    English words; a passage rejects the phrase, not each part). An English word's forms are
    itself and its Chinese renderings; a run's, the renderings of its words joined."""
    units = sorted(info.units, key=lambda u: u.pos)
    # (a rendering no passage writes can match nothing: the renderings of a word run to dozens)
    written = "\n".join(pc.text for pc in lex.pass_cands).lower()
    words: list[tuple[str, list[str]]] = []
    for i, u in enumerate(units):
        forms = _forms(lex, u, written)
        words.append((u.surface, forms))
        end = u.pos + len(u.surface)
        for v in units[i + 1 :]:
            gap = info.text[end : v.pos]
            if v.kind != u.kind or gap.strip(" -") or len(gap) > (u.kind == "en"):
                break
            end = v.pos + len(v.surface)
            # (only the joins some passage writes: the renderings multiply)
            forms = [
                j
                for a in forms
                for b in _forms(lex, v, written)
                for sep in {"", gap}
                if (j := a + sep + b).lower() in lex.all_low
            ]
            if not forms:
                break
            words.append((info.text[u.pos : end], forms))
    return sorted(words, key=lambda w: -len(w[0]))


def _forms(lex: Lexicon, u: Unit, written: str) -> list[str]:
    """A unit's forms: a Chinese term itself; an English word itself and its renderings that
    ``written`` (the passages, lowercased) holds."""
    if u.kind == "zh":
        return [u.key]
    return [
        u.surface,
        *sorted(z for z in lex.renderings(u) if len(z) >= 2 and z.lower() in written),
    ]
