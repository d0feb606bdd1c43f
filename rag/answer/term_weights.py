"""How much each of the question's terms tells the candidate sentences apart.

Example:
    >>> weigh = rarity_weights(["DDIM", "步"], [{"DDIM"}, {"DDIM", "步"}, {"DDIM"}])
    >>> round(weigh({"DDIM", "步"}), 2), round(weigh({"DDIM"}), 2)
    (1.0, 0.33)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

from rag.text.language import CJK

__all__ = ["rarity_weights"]


def rarity_weights(terms: Sequence[str], found: Sequence[set[str]]) -> Callable[[set[str]], float]:
    """The share of the question's terms in a sentence, each weighted by its rarity among the
    candidate sentences (``log(1 + N/df)``, df at least 1).

    A term in every sentence (the subject of the article: 短叶水蜈蚣) tells the sentences apart
    less than one in a few (功能): "短叶水蜈蚣有哪些功能?" is answered by "…功能发汗退热…", which
    does not repeat the plant's name, not by the sentence that lists its other names.

    Args:
        terms: The question's terms.
        found: Per candidate sentence, the terms it contains.

    Returns:
        ``terms found in a sentence -> weighted share`` (0 to 1).

    Example:
        >>> weigh = rarity_weights(["蜈蚣", "功能"], [{"蜈蚣"}, {"蜈蚣"}, {"功能"}])
        >>> round(weigh({"功能"}), 2), round(weigh({"蜈蚣"}), 2)
        (0.6, 0.4)
        >>> pieces = rarity_weights(["水蜈蚣", "蜈蚣", "功能"], [{"水蜈蚣", "蜈蚣"}, {"功能"}])
        >>> pieces({"水蜈蚣", "蜈蚣"}) == pieces({"功能"})  # one word, counted once
        True
    """
    n = len(found)
    weight = {t: math.log(1 + n / max(1, sum(t in f for f in found))) for t in terms}
    total = sum(w for t, w in weight.items() if not _piece_of_another(t, terms))

    def weigh(have: set[str]) -> float:
        own = [weight[t] for t in have if t in weight and not _piece_of_another(t, have)]
        return min(1.0, sum(own) / total) if total else 0.0

    return weigh


def _piece_of_another(term: str, terms: Collection[str]) -> bool:
    """A Chinese term inside a longer one of ``terms``: jieba's piece of the same word (蜈蚣 of
    水蜈蚣), which counts only where the whole word is missing (推荐 where 推荐系统 is not)."""
    return bool(CJK.search(term)) and any(term != o and term in o for o in terms)
