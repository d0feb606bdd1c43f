"""The evidence sentence shown for a supported clause: the one that says it.

The check decides a clause on its shortlist (the passage's sentences that cover most of its
words, the shorter first) and keeps the candidate its model scores highest as the clause's
evidence, which the answer then quotes (``来源 [1]：…``, :mod:`rag.answer.quote`). Of several
sentences holding the same words that can be the wrong one: "醉汉问题 [1]。" to "随机游走问题又被叫做
什么?" was shown beside "(当然,醉汉是在三维空间走路的…" rather than "它又被形象地叫做“醉汉问题”";
"蒙特卡洛方法不依赖环境模型 [1]。" beside a sentence about what "data" means. Once every verdict is
settled, each supported clause's evidence moves to the sentence of the same passage that covers
its words at least as well, misses none of its figures and says more of it in a row
(:func:`rag.answer.claims.words.literal_run`). Verdicts, support and citations are untouched.

Example:
    >>> from rag.answer.claims.words import literal_run
    >>> literal_run("醉汉问题", "它又被形象地叫做醉汉问题") > literal_run("醉汉问题", "当然醉汉是在三维空间走路的")
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.result import Clause
from rag.answer.claims.units import Candidate, ClauseInfo
from rag.answer.claims.words import literal_run

__all__ = ["show_sentences_that_say"]


def show_sentences_that_say(
    lex: Lexicon, clauses: Sequence[Clause], infos: Sequence[ClauseInfo]
) -> None:
    """Point each supported clause's evidence at the sentence of its passage that says it.

    Args:
        lex: The passages' candidates.
        clauses: The checked clauses (changed in place: ``evidence``, ``evidence_start``,
            ``evidence_end``).
        infos: What each clause claims (``infos[i]`` is ``clauses[i]``'s).
    """
    for clause, info in zip(clauses, infos, strict=True):
        if not clause.supported or clause.rule or clause.evidence_passage < 1:
            continue  # (a rule's evidence is the sentence that rule read)
        now = lex.evidence_at(clause.evidence_passage, clause.evidence_start, clause.evidence_end)
        if now is None:
            continue
        floor = _key(lex, clause, info, now)
        best = floor
        for k in lex.by_passage[clause.evidence_passage - 1]:
            c = lex.cands[k]
            key = _key(lex, clause, info, c)
            if (
                key[0] >= floor[0]
                and key[1] >= floor[1]
                and key[2] > floor[2]
                and key[2:] > best[2:]
            ):
                now, best = c, key
        clause.evidence_start, clause.evidence_end = now.start, now.end
        clause.evidence = now.text


def _key(
    lex: Lexicon, clause: Clause, info: ClauseInfo, c: Candidate
) -> tuple[int, float, int, int]:
    """(figures all there, coverage, words said in a row, shorter first) of ``c`` for the clause:
    a sentence replaces the check's when it loses neither of the first two and says more of the
    clause in a row (the shortest of those that say most)."""
    return (
        int(not lex.numbers_missing(info, c)),
        lex.coverage(info, c),
        literal_run(clause.text, c.norm),
        -(c.end - c.start),
    )
