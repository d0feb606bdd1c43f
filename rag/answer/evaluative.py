"""Does a text speak of what the question judges (its advantages, its drawbacks)?

"YOLO 的缺点是什么?" is about YOLO, and YOLO's article is found and decided covered; but the
article names no drawback. The model, asked anyway, invents one ("需要大量的训练数据"), the
check removes it, and the extractive fallback would show YOLO's core idea as if it answered.
When the model's answer fails, the chain asks this module whether the passages the fallback
rests on speak of the judgement at all (缺点, 不足, 弊端, 局限 … or the English words); when they
don't, it says the articles don't cover the question instead.

Example:
    >>> unmet_judgement("YOLO 的缺点是什么?", ["YOLO 把整张图作为网络的输入"])
    '缺点'
    >>> unmet_judgement("YOLO 的缺点是什么?", ["YOLO 的不足在于小目标检测"]) is None
    True
    >>> unmet_judgement("What are the drawbacks of YOLO?", ["YOLO 把整张图作为网络的输入"])
    'drawbacks'
    >>> unmet_judgement("YOLO 的核心思想是什么?", ["YOLO 把整张图作为网络的输入"]) is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["unmet_judgement"]

# (the question's words, the words a text speaks of them with: Chinese and English)
_JUDGEMENTS = (
    (
        r"缺点|不足|弊端|劣势|坏处|缺陷|局限|\bdisadvantages?\b|\bdrawbacks?\b|\blimitations?\b|"
        r"\bweakness(?:es)?\b|\bshortcomings?\b|\bdownsides?\b",
        r"缺点|不足|弊端|劣势|坏处|缺陷|局限|问题在于|代价|disadvantage|drawback|limitation|weakness"
        r"|shortcoming|downside",
    ),
    (
        r"优点|优势|好处|长处|\badvantages?\b|\bbenefits?\b|\bstrengths?\b|\bmerits?\b",
        r"优点|优势|好处|长处|益处|advantage|benefit|strength|merit",
    ),
)


def unmet_judgement(question: str, texts: Sequence[str]) -> str | None:
    """The question's word of judgement when none of ``texts`` speaks of it, else None.

    Args:
        question: The (standalone) question.
        texts: The passages an answer would rest on.

    Returns:
        The question's word ("缺点", "drawbacks"), or None when the question judges nothing or a
        text speaks of the judgement.
    """
    low = [t.lower() for t in texts]
    for asked, spoken in _JUDGEMENTS:
        m = re.search(asked, question, re.IGNORECASE)
        if m and not any(re.search(spoken, t) for t in low):
            return m.group(0)
    return None
