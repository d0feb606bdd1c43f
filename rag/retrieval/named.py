"""A passage that names whom the question asks about, when the index knows the name.

"Which university did Luo Baoming graduate from?" hears 罗保铭 among the index's terms
(:mod:`rag.retrieval.pinyin_names`); BM25 ranks 罗保铭's paragraph first, but the embeddings do
not link the romanised name to it and the fused list put it 7th, so the five passages were all
about other people and the answer was about someone else. When no passage of the first ``k``
names a person or place the question names in pinyin, :func:`pin_named` puts the best-ranked
candidate that does in the last place (the retriever passes BM25's list, which scores the name
as a word of the text). A sound that is also a dictionary word (Fahui as 发挥)
names no one (:func:`named_groups`).

Example:
    >>> ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.1)]
    >>> texts = {1: "符泳就读于喇沙书院", 2: "杨朝祥", 3: "学分制", 4: "蔡敏曾就学于古亭国小"}
    >>> pin_named(ranked[:3], ranked, texts.__getitem__, [("蔡敏",)])
    [(1, 0.9), (2, 0.8), (4, 0.1)]
    >>> named_groups({"tsai": ["蔡敏"], "min": ["蔡敏"], "fahui": ["发挥"]}, {"发挥"})
    [('蔡敏',)]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

__all__ = ["named_groups", "pin_named"]


def named_groups(
    sounds: Mapping[str, Sequence[str]], dictionary: Collection[str]
) -> list[tuple[str, ...]]:
    """The distinct term lists the question's pinyin words read as, without those holding a
    ``dictionary`` word (a common word that happens to sound alike, not a name:
    :attr:`rag.retrieval.crosslingual.Renderings.rendered`)."""
    groups = dict.fromkeys(tuple(terms) for terms in sounds.values() if terms)
    return [g for g in groups if not any(t in dictionary for t in g)]


def pin_named(
    top: Sequence[tuple[int, float]],
    candidates: Sequence[tuple[int, float]],
    text_of: Callable[[int], str],
    groups: Sequence[tuple[str, ...]],
) -> list[tuple[int, float]]:
    """``top`` with each name of ``groups`` that none of its passages holds given the last place
    (one not already pinned) by the best-ranked of ``candidates`` that does.

    Args:
        top: The passages to return, ``(id, score)``, best first.
        candidates: Where to look, best first (the retriever passes BM25's list, as deep as the
            fusion pool: ``Settings.candidates``).
        text_of: A chunk's title and text by id.
        groups: Per name, the index terms it reads as (:func:`named_groups`).
    """
    out = list(top)
    pinned: set[int] = set()
    for group in groups:
        if not out or any(any(t in text_of(i) for t in group) for i, _ in out):
            continue
        chosen = {i for i, _ in out}
        found = next(
            (
                (i, s)
                for i, s in candidates
                if i not in chosen and any(t in text_of(i) for t in group)
            ),
            None,
        )
        free = [n for n, (i, _) in enumerate(out) if i not in pinned]
        if found is not None and free:
            out[free[-1]] = found
            pinned.add(found[0])
    return out
