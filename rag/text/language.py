"""The language of a question decides the language of the answer and of the prompt.

Example:
    >>> question_language("DDIM 需要重新训练模型吗?"), question_language("What is DDIM?")
    ('zh', 'en')
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A question mark or a Chinese question word: the part of "is this a question?" that does not
# depend on word order (the prompt and the follow-up rewrite add their own English rules).
ZH_QUESTION_MARKERS = r"[?？吗呢]|什么|怎么|怎样|如何|为什么|为何|哪|谁|几|多少|是否|有没有|能否"


def question_language(text: str) -> str:
    """``zh`` if the question has any Chinese characters, else ``en``."""
    return "zh" if _CJK.search(text) else "en"
