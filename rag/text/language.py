"""The language of a question decides the language of the answer and of the prompt.

Example:
    >>> question_language("DDIM 需要重新训练模型吗?"), question_language("What is DDIM?")
    ('zh', 'en')
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def question_language(text: str) -> str:
    """``zh`` if the question has any Chinese characters, else ``en``."""
    return "zh" if _CJK.search(text) else "en"
