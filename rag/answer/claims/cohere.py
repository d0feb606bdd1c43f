"""Citations that hang together: a clause the model left uncited cites what its neighbours cite.

The check gives a clause whose own citation supports it that citation; a clause with no
citation (or a wrong one) gets the passage that supports it best. When several passages
support it, "best" is a close call between two probabilities, and a small model's uncited
sentence is usually about the passage the rest of its answer is about: the Tensorflow
feature-column article for every clause of an answer about feature columns, not the one
clause that a pyramid article happens to match as well. So among the passages that support a
clause, this step prefers the one that best holds the clause's whole sentence (the clauses'
probabilities for it added up; a citation the check kept counts 1), then the one the rest of
the answer rests on, and only then the higher probability.

Example:
    >>> from rag.answer.claims.result import Clause
    >>> a = Clause("A", 0, 1, 0, support=[1])
    >>> b = Clause("B", 2, 3, 0, support=[2])
    >>> cohere([a, b], {1: {1: 0.7, 0: 0.6}})
    {1: 0}
    >>> b.support
    [1]

    Two uncited clauses that passages 1 and 2 both support settle on one of them, the one
    the rest of the answer cites:

    >>> c, d, e = (
    ...     Clause(t, 0, 1, s, support=[p]) for t, s, p in (("C", 0, 1), ("D", 1, 1), ("E", 1, 2))
    ... )
    >>> cohere([c, d, e], {1: {0: 0.7, 1: 0.5}, 2: {0: 0.3, 1: 0.4}})
    {2: 0}
    >>> d.support, e.support
    ([1], [1])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rag.answer.claims.result import Clause

__all__ = ["cohere"]


def cohere(clauses: Sequence[Clause], options: Mapping[int, Mapping[int, float]]) -> dict[int, int]:
    """Re-pick the support of the clauses whose support the check chose (see module docstring).

    Args:
        clauses: Every clause of the answer, as judged.
        options: For the clauses whose support was chosen by the check (index into
            ``clauses``), every passage (0-based) that supports it, with its probability.

    Returns:
        The clauses whose support changed: clause index → its new passage (0-based). Their
        ``support`` is already set; the caller points their evidence at the new passage.
    """
    # the votes are the supports as judged, so the order of the clauses does not matter
    votes = [
        (i, c.sentence, p - 1) for i, c in enumerate(clauses) if c.supported for p in c.support
    ]
    changed: dict[int, int] = {}
    for i, probs in options.items():
        clause = clauses[i]
        if len(probs) < 2 or not clause.supported:
            continue
        mates = [
            j
            for j, c in enumerate(clauses)
            if j != i and c.supported and c.sentence == clause.sentence
        ]
        answer = Counter(p for j, _, p in votes if j != i)
        held = {p: _sentence_hold(p, probs, mates, clauses, options) for p in probs}
        pick = max(probs, key=lambda p: (held[p], answer[p], probs[p]))
        if [pick + 1] != clause.support:
            clause.support = [pick + 1]
            changed[i] = pick
    return changed


def _sentence_hold(
    p: int,
    probs: Mapping[int, float],
    mates: Sequence[int],
    clauses: Sequence[Clause],
    options: Mapping[int, Mapping[int, float]],
) -> float:
    """How well passage ``p`` holds a clause's sentence: the clause's probability for it plus
    each other supported clause's (a citation the check kept counts 1); 0 for a clause alone in
    its sentence. (Voting for each mate's single best passage made two uncited clauses swap:
    "…reinforcement learning [5], where the accuracy is set as a reward function [1]" when [1]
    held both.)"""
    if not mates:
        return 0.0
    return probs[p] + sum(
        options[j].get(p, 0.0) if j in options else float(p + 1 in clauses[j].support)
        for j in mates
    )
