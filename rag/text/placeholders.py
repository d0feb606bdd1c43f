"""What the articles keep for a reader that the embedded model reads badly.

``[公式]``, ``[Math]``, ``[代码]``… are placeholders the cleaner leaves where a formula, code
block, image or table was: they keep a document's offsets and tell a reader that something was
there, but carry nothing a model can answer from, and the embedded model copies them ("有以下好处:
[公式] [公式] …") instead of the words around them. Mathematical italic letters (𝑐𝑡𝑟×𝑏𝑖𝑑, from
formulas typeset in the text) are plain letters to a reader and rare tokens to the model.

Example:
    >>> without_placeholders("X 的期望值可以近似为: [公式] 非增量方法:先收集所有样本")
    'X 的期望值可以近似为: 非增量方法:先收集所有样本'
    >>> plain_math_letters("排序的依据就是 𝑐𝑡𝑟×𝑏𝑖𝑑 。")
    '排序的依据就是 ctr×bid 。'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["PLACEHOLDER", "plain_math_letters", "without_placeholders"]

PLACEHOLDER = re.compile(r"\[(?:Math|公式|代码|Code|图片|Image|Formula|表格|Table)\]")
_MATH_LETTERS = re.compile("[\U0001d400-\U0001d7ff]+")
_WITH_SPACE = re.compile(r"[ \t]*" + PLACEHOLDER.pattern + r"[ \t]*")


def without_placeholders(text: str) -> str:
    """``text`` without its placeholders (one space where one stood between words)."""
    return _WITH_SPACE.sub(" ", text).strip() if PLACEHOLDER.search(text) else text


def plain_math_letters(text: str) -> str:
    """``text`` with mathematical alphanumeric symbols as the plain letters and digits they are."""
    return _MATH_LETTERS.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
