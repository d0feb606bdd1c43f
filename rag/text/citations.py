"""Citation marks in answers: ``[1]``, ``[1, 2]``, ``[1，2]``, ``【1】``.

Example:
    >>> [citation_numbers(m) for m in CITATION.finditer("a [2] b [1, 3] c 【4】")]
    [[2], [1, 3], [4]]
"""

from __future__ import annotations

import re

#: One citation mark; group 1 holds the numbers of ``[...]``, group 2 the number of ``【n】``.
CITATION = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]|【(\d+)】")
#: A citation mark with the spaces before it (what is removed with it).
CITATION_AFTER = re.compile(r"\s*(?:" + CITATION.pattern + ")")


def citation_numbers(match: re.Match[str]) -> list[int]:
    """The numbers of one matched citation mark, in order."""
    return [int(n) for n in re.findall(r"\d+", match.group(0))]
