"""How much each of the question's terms tells the candidate sentences apart.

Example:
    >>> weigh = rarity_weights(["DDIM", "步"], [{"DDIM"}, {"DDIM", "步"}, {"DDIM"}])
    >>> round(weigh({"DDIM", "步"}), 2), round(weigh({"DDIM"}), 2)
    (1.0, 0.33)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

__all__ = ["rarity_weights"]

_CJK = re.compile(r"[\u3400-\u9fff]")


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
    # jieba's pieces of one word (蜈蚣 and 水蜈蚣 of 短叶水蜈蚣) count once, as the longest
    terms = [t for t in terms if not (_CJK.search(t) and any(t != o and t in o for o in terms))]
    weight = {t: math.log(1 + n / max(1, sum(t in f for f in found))) for t in terms}
    total = sum(weight.values())

    def weigh(have: set[str]) -> float:
        return sum(weight[t] for t in have if t in weight) / total if total else 0.0

    return weigh
