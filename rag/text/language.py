"""The language of a question decides the language of the answer and of the prompt.

Example:
    >>> question_language("DDIM 需要重新训练模型吗?"), question_language("What is DDIM?")
    ('zh', 'en')
"""

from __future__ import annotations

import re

from rag.text.glossary import EN_STOPWORDS

# a Chinese character (CJK unified ideographs, extension A, compatibility ideographs)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A question mark or a Chinese question word: the part of "is this a question?" that does not
# depend on word order (the prompt and the follow-up rewrite add their own English rules).
_ZH_ASK = r"[？吗呢]|什么|怎么|怎样|如何|为什么|为何|哪|谁|几|多少|是否|有没有|能否"
ZH_QUESTION_MARKERS = r"\?|" + _ZH_ASK


_EN_WH = r"what|how|why|which|who|whom|whose|when|where"
_EN_OPENER = re.compile(
    rf"^\W*(?:{_EN_WH}|does|do|did|is|are|was|were|can|"
    r"could|should|would|will|explain|describe|compare|list|give|tell|according)\b",
    re.IGNORECASE,
)
_EN_ASKS = re.compile(rf"\b(?:{_EN_WH})\b", re.IGNORECASE)  # a question word anywhere
_ZH_ASKS = re.compile(_ZH_ASK)  # the markers without the ASCII "?", which English uses too


def question_language(text: str) -> str:
    """``zh`` if the question has Chinese characters, else ``en``; an English question that
    quotes a Chinese term ("What does 感受野 mean and how is it computed?": it opens with an
    English question word, has two English words or more and no Chinese question word) is
    ``en``.

    An English question word inside a sentence of mostly English words counts too ("In
    e-commerce search, what is the 'wind vane' (风向标) product form?").

    Example:
        >>> question_language("What does 感受野 mean?"), question_language("YOLO 是什么?")
        ('en', 'zh')
        >>> question_language("In e-commerce search, what is the 'wind vane' (风向标)?")
        'en'
    """
    if not CJK.search(text):
        return "en"
    words = len(re.findall(r"[A-Za-z]{2,}", text))
    english = _EN_OPENER.match(text) and words >= 2
    # "In e-commerce query recommendation, what is the 'wind vane' (风向标) product form?": an
    # English question word inside a sentence of English words around a quoted Chinese term
    english = english or (
        _EN_ASKS.search(text) and words >= 4 and words >= len(CJK.findall(text)) / 2
    )
    return "en" if english and not _ZH_ASKS.search(text) else "zh"


# three or more Latin words in a row (not a title in 《》)
_EN_RUN = re.compile(r"(?<!《)\b[A-Za-z][\w'.-]*(?:\s+[A-Za-z][\w'.-]*){2,}")
_EN_RUN_ASKS = re.compile(r"(?:what|how|why|when|which|who|where|does|do|did|is|are|can)\b", re.I)


def english_prose_spans(text: str) -> list[tuple[int, int]]:
    """Where a Chinese text holds English prose, not names: a run of three or more Latin words
    that asks ("What is DeepSeek-V3") or mixes function words with a lowercase word ("How many
    parameters does it activate"); a title ("Transformer Quality in Linear Time", "This Is Where
    I Came In") is names. A follow-up carried over with the turns before it mixes both.

    Example:
        >>> q = "What is DeepSeek-V3? 它用了什么策略? How many parameters does it activate?"
        >>> [q[a:b] for a, b in english_prose_spans(q)]
        ['What is DeepSeek-V3', 'How many parameters does it activate']
        >>> english_prose_spans("《This Is Where I Came In》是第几张专辑?")
        []
    """
    return [m.span() for m in _EN_RUN.finditer(text) if _is_prose(m.group(0))]


def _is_prose(run: str) -> bool:
    words = [w.strip(".'") for w in run.split()]
    if _EN_RUN_ASKS.fullmatch(words[0]) and words[0][:1].isupper() and words[1].islower():
        return True
    stop = any(w.lower() in EN_STOPWORDS for w in words)
    return stop and any(len(w) >= 3 and w.islower() and w not in EN_STOPWORDS for w in words)
