"""Placeholders the article cleaner leaves where a formula, code block, image or table was.

``[公式]``, ``[Math]``, ``[代码]``… keep a document's offsets and tell a reader that something
was there; they carry nothing a model can answer from, and the embedded model copies them
("有以下好处: [公式] [公式] …") instead of the words around them.

Example:
    >>> without_placeholders("X 的期望值可以近似为: [公式] 非增量方法:先收集所有样本")
    'X 的期望值可以近似为: 非增量方法:先收集所有样本'
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDER", "without_placeholders"]

PLACEHOLDER = re.compile(r"\[(?:Math|公式|代码|Code|图片|Image|Formula|表格|Table)\]")
_WITH_SPACE = re.compile(r"[ \t]*" + PLACEHOLDER.pattern + r"[ \t]*")


def without_placeholders(text: str) -> str:
    """``text`` without its placeholders (one space where one stood between words)."""
    return _WITH_SPACE.sub(" ", text).strip() if PLACEHOLDER.search(text) else text
