"""What the chain tells the reader in the answer text itself: the abstention and the fallback
notice, and its own reasons for a fallback in Chinese (the ``notice`` field keeps the English
wording; an LLM error message is shown as it is).

Example:
    >>> NOTICES["fallback"]["zh"].format(reason=REASONS_ZH["the model only repeated the question"])
    '（模型只复述了问题；以下是文章中最相关的原句。）'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.answer.claims import CheckedAnswer

__all__ = ["NOTICES", "REASONS_ZH", "fallback_reason"]

NOTICES = {
    "fallback": {
        "zh": "（{reason}；以下是文章中最相关的原句。）",
        "en": "({reason}; showing the most relevant sentences of the articles instead.)",
    },
    "abstain": {
        "zh": "文章中没有涉及这个问题。以下是最接近的段落，供参考。",
        "en": "The articles don't cover this. The nearest passages are listed below.",
    },
}
# the chain's own reasons, as a Chinese reader sees them in the answer text
REASONS_ZH = {
    "the model found no direct answer in the passages": "模型没有在资料中找到直接的答案",
    "the model only repeated the question": "模型只复述了问题",
    "the model's answer was not supported by the passages": "模型的回答得不到资料支持",
    "the model's answer gives no figure": "模型的回答没有给出数字",
    "the LLM returned an empty answer": "模型返回了空回答",
    "a passage says otherwise than the model's answer": "资料的说法与模型的回答相反",
    "the model's answer rests on passages that do not speak of the question": "模型的回答依据的资料没有谈到所问的内容",
    "the model's answer rests on passages that say nothing of what the question asks": "模型的回答依据的资料没有谈到所问的优缺点",
    "the model's answer rests on a sentence without the question's words": "模型的回答依据的句子没有谈到所问的内容",
}


def fallback_reason(checked: CheckedAnswer) -> str:
    """Why the chain falls back from the model's answer, as its check found it."""
    if checked.abstained:
        return "the model found no direct answer in the passages"
    if checked.restated:
        return "the model only repeated the question"
    if not checked.empty:  # kept, but it answers "how many" with no number (chain._check)
        return "the model's answer gives no figure"
    return "the model's answer was not supported by the passages"
