"""The fallback when a passage says the opposite of the model's answer: that passage's sentence.

When the claim check removes every clause, the chain shows the extractive draft: the evidence
sentences that best match the question. To "Does DPO need a reward model?" that is RLHF's "先训练
一个奖励模型来判断哪个回答更好", which has more of the question's words than the answer does, and
reads as a yes. When a clause was removed because its passage says its name does without what
it asserts (rule ``without``, :mod:`rag.answer.claims.rejected`), or says what it denies
(``affirmed``: "No [1]." to "Does FlashAttention use tiling?"), the sentence that says so is the
answer: "…与其先训练奖励模型再训练语言模型,不如直接训练语言模型…" is shown instead.

Example:
    >>> from rag.answer.claims import CheckedAnswer, Clause
    >>> from rag.answer.evidence import Evidence, EvidenceSet
    >>> from rag.schema import Passage
    >>> p = Passage("RLHF 先训练奖励模型。DPO 与其先训练奖励模型,不如直接训练语言模型。",
    ...             "dpo", "DPO", "dpo.md", "dpo#0", 1.0)
    >>> a, b = Evidence(0, 0, 13, p.text[:13]), Evidence(0, 13, 39, p.text[13:])
    >>> gone = Clause("Yes, DPO needs a reward model", 0, 30, 0, status="unsupported",
    ...               rule="without", evidence_passage=1, evidence_start=13, evidence_end=39)
    >>> checked = CheckedAnswer("", [gone], removed=[gone])
    >>> extract = contradicting_extract(checked, [p], [p], EvidenceSet([a], [a, b]))
    >>> extract.text, extract.cited
    ('DPO 与其先训练奖励模型,不如直接训练语言模型。[1]', [1])
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.claims import CheckedAnswer
from rag.answer.evidence import EvidenceSet, without_list_marks
from rag.answer.extractive import Extract, extractive_answer
from rag.schema import Passage

__all__ = ["CONTRADICTED", "contradicting_extract"]

# the claim check's rules by which a passage says the opposite of a clause: it does without what
# the clause asserts, or says what the clause denies (rag.answer.claims.rejected)
_CONTRADICTED_BY = ("without", "affirmed", "list")
# the chain's reason for the fallback (see rag.answer.notices.REASONS_ZH)
CONTRADICTED = "a passage says otherwise than the model's answer"


def contradicting_extract(
    checked: CheckedAnswer,
    numbered: Sequence[Passage],
    passages: Sequence[Passage],
    evidence: EvidenceSet | None,
) -> Extract | None:
    """The extract of the sentence that contradicted a removed clause, or None.

    Args:
        checked: The claim check's result.
        numbered: The passages as the check numbered them (``[n]`` is ``numbered[n-1]``).
        passages: The passages as retrieved (the evidence's and the extract's numbering).
        evidence: The chain's evidence (its candidates are the passages' sentences).

    Returns:
        An :class:`Extract` numbered as retrieved, or None when no clause was contradicted.
    """
    if evidence is None:
        return None
    for clause in checked.removed:
        if clause.rule not in _CONTRADICTED_BY or not clause.evidence_passage:
            continue
        shown = numbered[clause.evidence_passage - 1]
        at = next((i for i, p in enumerate(passages) if p.chunk_id == shown.chunk_id), None)
        sentences = [
            e
            for e in evidence.candidates
            if e.passage == at and e.start < clause.evidence_end and clause.evidence_start < e.end
        ]
        if sentences:  # (the evidence split may cut elsewhere: the one that overlaps most)
            e = max(
                sentences,
                key=lambda e: min(e.end, clause.evidence_end) - max(e.start, clause.evidence_start),
            )
            chosen = [without_list_marks(e)]  # (as the evidence's chosen sentences are)
            return extractive_answer(
                EvidenceSet(chosen, list(evidence.candidates), evidence.terms), max_sentences=1
            )
    return None
