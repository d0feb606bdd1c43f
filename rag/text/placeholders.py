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

The model reads the text without them, so what it copies has a hole where a formula stood;
:func:`restore_placeholders` puts the source's placeholder back in the hole:

    >>> restore_placeholders("这一步我们得到一个 的矩阵 [1]。", ["这一步我们得到一个 [Math] 的矩阵"])
    '这一步我们得到一个 [Math] 的矩阵 [1]。'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import partial

from rag.text.citations import CITATION

__all__ = ["PLACEHOLDER", "plain_math_letters", "restore_placeholders", "without_placeholders"]

PLACEHOLDER = re.compile(r"\[(?:Math|公式|代码|Code|图片|Image|Formula|表格|Table)\]")
_MATH_LETTERS = re.compile("[\U0001d400-\U0001d7ff]+")
_WITH_SPACE = re.compile(r"[ \t]*" + PLACEHOLDER.pattern + r"[ \t]*")


def without_placeholders(text: str) -> str:
    """``text`` without its placeholders (one space where one stood between words)."""
    return _WITH_SPACE.sub(" ", text).strip() if PLACEHOLDER.search(text) else text


def plain_math_letters(text: str) -> str:
    """``text`` with mathematical alphanumeric symbols as the plain letters and digits they are."""
    return _MATH_LETTERS.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


_SENTENCE_END = re.compile(r"[。！？!?；;]$")
_CONTEXT = 4  # characters before a placeholder that an answer must have before its hole
_WORDY = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def restore_placeholders(text: str, sources: Sequence[str]) -> str:
    """``text`` with each hole a stripped placeholder left put back.

    The model reads its sources without placeholders (:func:`without_placeholders`) and copies
    their words around one as if nothing stood there: "这一步我们得到一个 [Math] 的矩阵" became
    "这一步我们得到一个 的矩阵", "…的复杂度是 [Math] ;如果…" "…的复杂度是;". Where ``text`` has the
    four characters before a mid-sentence placeholder of a source directly followed by what came
    after it (its next two characters, or its punctuation), the placeholder goes back between
    them, so the reader sees a formula stood there (as the source shows it) rather than a
    sentence with a gap. A placeholder that opens a sentence leaves no visible hole and is not
    restored.

    Args:
        text: The answer.
        sources: The texts it was written from (with their placeholders).

    Returns:
        ``text`` with the holes filled.

    Example:
        >>> src = ["复杂度是 [Math] ;如果没有Softmax,那么就是三个矩阵连乘 [Math] ,而矩阵乘法"]
        >>> restore_placeholders("复杂度是;如果没有Softmax,那么就是三个矩阵连乘,而矩阵乘法", src)
        '复杂度是 [Math];如果没有Softmax,那么就是三个矩阵连乘 [Math],而矩阵乘法'
        >>> restore_placeholders("得到这个结论。这一步", ["得到这个结论。 [Math] 这一步"])
        '得到这个结论。这一步'
    """
    for source in sources:
        if "[" not in source:
            continue
        for m in PLACEHOLDER.finditer(source):
            left = source[: m.start()].rstrip()
            right = source[m.end() :].lstrip()
            before = left[-_CONTEXT:].lstrip()
            after = right[:2] if right[:1].isalnum() else right[:1]  # a word, or its punctuation
            if len(_WORDY.findall(before)) < 2 or not after or _SENTENCE_END.search(before):
                continue
            if PLACEHOLDER.search(before) or PLACEHOLDER.match(right) or "[" in after:
                continue  # (two placeholders in a row: nothing of the text between them)
            gap = " " if after[0].isalnum() else ""
            # (before punctuation, the answer may have cut the sentence there and cited it:
            # "…的复杂度是 [1]。" of "…的复杂度是 [Math] ;如果…")
            then = re.escape(after) if gap else "(?:" + CITATION.pattern + r")?\s*[^\w\s]"
            hole = re.compile(re.escape(before) + r"[ \t]*(?=" + then + ")")
            text = hole.sub(partial(_fill, f"{before} {m.group(0)}{gap}"), text)
    return text


def _fill(filled: str, hole: re.Match[str]) -> str:
    """``filled``, and a space before a citation that follows ("是 [Math] [1]。")."""
    return filled + (" " if hole.string[hole.end() : hole.end() + 1] == "[" else "")
