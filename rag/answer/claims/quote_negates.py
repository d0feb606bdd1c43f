"""An English clause whose own Chinese quote says not: "Yes, FM considers higher-order feature
interactions ("2way的FM仅枚举了所有特征的二阶交叉信息, 没有考虑高阶特征的信息") [1]."

The prompt asks an English answer over Chinese passages to quote the words it rests on, and the
small model sometimes quotes the very sentence that denies what it asserts. The rules on
rejections (:mod:`rag.answer.claims.rejected`) leave a clause with a negation in it alone, and
the quote's 没有 is one; so a clause that asserts, without an English negation, what its quote
negates (a negation, not one inside a word such as 不确定 for "uncertain", followed within two
characters by a rendering of one of the clause's English words) is removed, with the quote as
its evidence.

Example:
    >>> quote = "2way的FM仅枚举了所有特征的二阶交叉信息, 没有考虑高阶特征的信息"
    >>> [quote[s:s + 6] for s, _ in real_zh_negations(quote)]  # 没有 governs 考虑 (consider)
    ['没有考虑高阶']
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.negation import en_negations, real_zh_negations
from rag.answer.claims.result import Clause
from rag.answer.claims.units import ClauseInfo
from rag.answer.claims.words import ZH_QUOTE

__all__ = ["quote_says_not"]

_REACH = 3  # a rendering starts within this many characters after the negation


def quote_says_not(lex: Lexicon, clauses: Sequence[Clause], full: Sequence[ClauseInfo]) -> None:
    """Remove each supported English clause without a negation of its own whose Chinese quote
    negates one of its English words (``full``: what each clause says, on all its words)."""
    for clause, info in zip(clauses, full, strict=True):
        if not clause.supported or not info.english:
            continue
        if en_negations(ZH_QUOTE.sub("", clause.text)):
            continue
        hit = next(
            (
                (word, quote, quote[s:e])
                for quote in (m.group(1) for m in ZH_QUOTE.finditer(clause.text))
                for s, e in real_zh_negations(quote)
                if (word := _negated_unit(lex, info, quote, s, e))
            ),
            None,
        )
        if hit:
            word, quote, negation = hit
            clause.status, clause.support, clause.score = "unsupported", [], 0.0
            clause.rule = "negation"
            clause.reason = f"'{word}': its own quote says not ({negation})"
            clause.evidence = quote


def _negated_unit(lex: Lexicon, info: ClauseInfo, quote: str, s: int, e: int) -> str:
    """The clause's English word a rendering of which the negation at ``s:e`` of ``quote``
    governs (not a rendering that holds the negation itself: 不确定 is "uncertain"), or ""."""
    after = quote[e : e + _REACH + 4]
    for u in info.units:
        if u.kind != "en":
            continue
        forms = [z for z in lex.renderings(u) if len(z) >= 2]
        if any(quote.startswith(z, s) for z in forms):
            continue  # the negated word is the clause's own word: "uncertain" (不确定)
        if any(after.startswith(z, k) for z in forms for k in range(_REACH)):
            return u.surface
    return ""
