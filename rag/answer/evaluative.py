"""Does a text speak of what the question judges (its advantages, its drawbacks), and of what
it names?

"YOLO 的缺点是什么?" is about YOLO, and YOLO's article is found and decided covered; but the
article names no drawback. The model, asked anyway, invents one ("需要大量的训练数据"), the
check removes it, and the extractive fallback would show YOLO's core idea as if it answered.
When the model's answer fails, the chain asks this module whether the passages the fallback
rests on speak of the judgement at all (缺点, 不足, 弊端, 局限 … or the English words); when they
don't, it says the articles don't cover the question instead. Likewise for the question's
names (:func:`unmet_subject`): "DPO 的损失函数是什么形式?" finds the DPO article, which gives no
loss; the fallback's best sentence was another article's "常见的损失函数是交叉熵", which is not
about DPO at all. And for figures (:func:`unmet_figure`): an answer to "多少" or "how many"
without a number does not answer.

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
from collections.abc import Iterator, Sequence

from rag.answer.claims.names import is_strong_name, name_mentioned, question_names
from rag.answer.claims.words import ASKS_WHY, NORM_DROP
from rag.schema import Passage
from rag.text.citations import CITATION
from rag.text.language import question_language

__all__ = [
    "UNJUDGED",
    "judgement_spoken",
    "unmet_figure",
    "unmet_judgement",
    "unmet_reason",
    "unmet_subject",
]

# the chain's reason for the fallback when the model's answer rests on passages that speak of no
# drawback (advantage) the question asks for (see rag.answer.notices.REASONS_ZH)
UNJUDGED = "the model's answer rests on passages that say nothing of what the question asks"

# (the question's words, the words a text speaks of them with: Chinese and English)
_JUDGEMENTS = (
    (
        r"缺点|不足|弊端|劣势|坏处|缺陷|局限|\bdisadvantages?\b|\bdrawbacks?\b|\blimitations?\b|"
        r"\bweakness(?:es)?\b|\bshortcomings?\b|\bdownsides?\b",
        r"缺点|不足|弊端|劣势|坏处|缺陷|局限|限制|问题在于|代价|disadvantage|drawback|limitation|weakness"
        r"|shortcoming|downside",
    ),
    (
        r"优点|优势|好处|长处|\badvantages?\b|\bbenefits?\b|\bstrengths?\b|\bmerits?\b",
        # (an advantage over another method is often said as what it spares or does better)
        r"优点|优势|好处|长处|益处|advantage|benefit|strength|merit|"
        r"无需|不需要|不必|省去|省掉|不如直接|更快|更简单|更稳定|更高效|更少",
    ),
)


def _asked(question: str) -> Iterator[tuple[str, str]]:
    """(the question's word, the words a text speaks of it with) of each judgement the question
    asks for; none for a why-question ("Why is … seen as a drawback?" asks for the reason given)."""
    if ASKS_WHY.search(question):
        return
    for asked, spoken in _JUDGEMENTS:
        m = re.search(asked, question, re.IGNORECASE)
        if m:
            yield m.group(0), spoken


def judgement_spoken(question: str) -> re.Pattern[str] | None:
    """The words a text speaks of the question's judgement with (lowercase text), when the
    question asks for one: "What is the drawback of image pyramid methods?" is answered by
    "然而其缺点也是很明显的,测试时间大幅度提高", which does not name image pyramids again.

    Example:
        >>> judged = judgement_spoken("What is the drawback of image pyramid methods?")
        >>> bool(judged.search("然而其缺点也是很明显的")), judgement_spoken("什么是 FPN?")
        (True, None)
    """
    first = next(_asked(question), None)
    return re.compile(first[1]) if first else None


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
    for word, spoken in _asked(question):
        if not any(re.search(spoken, t) for t in low):
            return word
    return None


# a question that asks for a figure ("哪几种" asks which kinds, not how many)
_ASKS_FIGURE = re.compile(
    r"多少|(?<!哪)几[个位种步次年天层倍块台份张条项名家所座大]|多大|多长|多久|多高|多远|哪一?年|"
    r"(?i:\bhow (?:many|much|long|old|large|big|fast|far|often)\b|\b(?:what|which) year\b|"
    # "What batch size does DDP recommend?", "What learning rate …": a quantity named
    r"\bwhat (?:\w+ )?(?:size|rate|ratio|percentage|number|dimension|speedup|speed-up)s?\b)"
)
# a figure: digits (not of a name: DeepSeek-V3, GPT2), a Chinese numeral and its counter (一个,
# 一种 are articles), an English number word, or a variable ("With N GPUs, how many processes
# does DDP start?": "N processes"; "SxS 个网格", "m×m")
_FIGURE = re.compile(
    r"(?<![A-Za-z])[A-Za-z]\s*[x×*]\s*[A-Za-z](?![A-Za-z])|(?<![A-Za-z])[A-Za-z](?=\s*[个种步次层倍])|"
    r"(?<![A-Za-z\-])\d|(?!一[个种])[零一二两三四五六七八九十百千万亿半]\s*[个位种步次年天层倍岁块台份张条项名家所座米月日号届期轮代级类大"
    r"组人元只首部篇章节秒分]|(?i:\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|twenty|hundred|thousand|million|billion|dozen|half|once|twice|double)\b)|"
    # (a lone capital: not the I and O of "I/O")
    r"(?<![A-Za-z0-9_\-/])[A-Z](?![A-Za-z0-9_'\-/])"
)


def _opening_once(text: str, figure: re.Match[str]) -> bool:
    """ "Once softmax is dropped, …": a conjunction opening a sentence or clause, not "one time"."""
    before = text[: figure.start()].rstrip()
    return figure.group(0).lower() == "once" and (not before or before[-1] in ".!?;:,(")


# a calendar date is no answer to "多少 GPU 小时" ("训练花了 24年12月"), unless the question asks about time
_DATE = re.compile(
    r"\d{2,4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|"
    r"(?i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+"
    r"(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?\d{4}\b)"
)
_ASKS_TIME = re.compile(
    r"年|月|日|天|时候|何时|多久|多长时间|(?i:\b(?:when|years?|months?|days?|dates?|how long)\b)"
)
# what a complexity is said in: "FM 的时间复杂度是多少?" is answered by "线性时间复杂度"
_COMPLEXITY = re.compile(r"复杂度|(?i:\bcomplexity\b)")
_COMPLEXITY_CLASS = re.compile(
    r"线性|平方|二次|常数|指数|对数|(?i:\b(?:linear|quadratic|constant|exponential|logarithmic)\b|\bO\()"
)


def unmet_figure(question: str, text: str) -> str | None:
    """The question's words asking for a figure (多少, "how many") when ``text`` has none.

    "How much faster is DDIM sampling than DDPM?" with the DDIM article left out was answered
    with two sentences of the Rectified Flow article that give no speed-up at all; an answer to
    "how many" without a number does not answer.

    Example:
        >>> unmet_figure("DDIM 相比 DDPM 采样快多少倍?", "DDIM 是确定性的采样过程")
        '多少'
        >>> unmet_figure("DDIM 相比 DDPM 采样快多少倍?", "提速 10~50 倍") is None
        True
        >>> unmet_figure("显存访问从多少降到了多少?", "从 I/O 开销降到了内存瓶颈")
        '多少'
        >>> unmet_figure("With N GPUs, how many processes does DDP start?", "N processes") is None
        True
        >>> unmet_figure("神经元做的是哪几种运算?", "乘法和加法"), unmet_figure("什么是 DPO?", "")
        (None, None)
        >>> unmet_figure("How many GPU hours did it take?", "DeepSeek-V3 采用了一个新目标")
        'How many'
        >>> unmet_figure("有几大目标?", "两大目标"), unmet_figure("有几大目标?", "搜索增长")
        (None, '几大')
        >>> unmet_figure("启动几个进程?", "启动 N个进程") is None
        True
        >>> unmet_figure("YOLO 把图像划分成多少个网格?", "划分成 SxS 个网格"), unmet_figure(
        ...     "FM 的时间复杂度是多少?", "FM 具有线性时间复杂度")
        (None, None)
        >>> unmet_figure("DeepSeek-V3 的训练花了多少 GPU 小时?", "训练花了 24年12月 [1]。")
        '多少'
        >>> unmet_figure("罗森布拉特是在哪一年造出感知机的?", "在 1957 年造出感知机") is None
        True
        >>> q = "Once softmax is dropped, attention is a product of how many matrices?"
        >>> unmet_figure(q, "Once softmax is dropped, it is a product of how many matrices [1].")
        'how many'
        >>> unmet_figure("How many times does it run?", "It runs only once [1].") is None
        True
    """
    m = _ASKS_FIGURE.search(question)
    if not m:
        return None
    said = CITATION.sub("", text)
    if not _ASKS_TIME.search(question):
        said = _DATE.sub(" ", said)
    if any(not _opening_once(said, f) for f in _FIGURE.finditer(said)):
        return None
    if _COMPLEXITY.search(question) and _COMPLEXITY_CLASS.search(text):
        return None
    return m.group(0)


def unmet_subject(
    question: str, cited: Sequence[Passage], retrieved: Sequence[Passage]
) -> str | None:
    """A name the question asks about that a retrieved passage mentions and no cited one does
    (a Chinese question writes a Latin name as the articles do; an English one only names with a
    digit or in CamelCase so: "RL" is 强化学习 in the article that answers "…in the RL algorithm
    lineage?", DeepSeek-V3 is DeepSeek-V3).

    Args:
        question: The (standalone) question.
        cited: The passages an answer would rest on (their titles and texts are read).
        retrieved: Every retrieved passage.

    Returns:
        The name ("DPO"), or None when the question names nothing the passages mention (the
        coverage decision speaks of that) or a cited text mentions one of its names.

    Example:
        >>> from rag.schema import Passage
        >>> fm, ffm = (Passage(t, "d", "CTR", "d.md", "d#0", 1.0)
        ...            for t in ("FM 具有线性复杂度", "FFM 的复杂度更高"))
        >>> unmet_subject("FM 的复杂度是多少?", [ffm], [fm, ffm])
        'FM'
        >>> unmet_subject("FM 的复杂度是多少?", [fm], [fm, ffm]) is None
        True
    """

    english = question_language(question) != "zh"

    def mentions(name: str, p: Passage) -> bool:
        low = f"{p.title}\n{p.text}".lower()
        return name_mentioned(name, NORM_DROP.sub("", low), low)

    present = [
        (surface, n)
        for surface, n in question_names(question)
        # an acronym, CamelCase or a word with digits ("Monte" may be 蒙特卡洛 in the article)
        if len(n) >= 2
        and (_written_as_in_chinese(surface) if english else is_strong_name(surface))
        and any(mentions(n, t) for t in retrieved)
    ]
    if present and not any(mentions(n, t) for _, n in present for t in cited):
        return present[0][0]
    return None


def _written_as_in_chinese(name: str) -> bool:
    """A name of an English question that a Chinese article writes the same way: with a digit
    or in CamelCase (DeepSeek-V3, Kimi-VL, FlashAttention). Not an acronym alone ("RL" is 强化学习
    in the article that answers "…in the RL algorithm lineage?") nor a Capitalised word.

    >>> [_written_as_in_chinese(n) for n in ("DeepSeek-V3", "Kimi-VL", "RL", "DPO", "Mamba")]
    [True, True, False, False, False]
    """
    return bool(re.search(r"\d|[a-z][A-Z]|[a-z]-[A-Z]", name))


def unmet_reason(
    question: str, text: str, cited: Sequence[Passage], passages: Sequence[Passage]
) -> str:
    """Why an extract ``text`` (from the ``cited`` passages) does not answer ``question``
    ("not covered: …"), or "": it comes from an article that does not name the question's
    subject, gives no figure for "多少", or judges nothing where the question asks for
    drawbacks ("YOLO 的缺点是什么?" over YOLO's core idea).

    Example:
        >>> p = Passage("YOLO 把整张图作为网络的输入", "yolo", "YOLO", "yolo.md", "yolo#0", 1.0)
        >>> unmet_reason("YOLO 的缺点是什么?", p.text, [p], [p])
        "not covered: the passages say nothing of '缺点'"
    """
    if not text:
        return ""
    off = unmet_subject(question, cited, passages)
    if off:
        return f"not covered: the passages that name '{off}' do not answer this"
    figure = unmet_figure(question, text)
    if figure:
        return f"not covered: the passages give no figure for '{figure}'"
    judged = unmet_judgement(question, [p.text for p in cited])
    if judged:
        return f"not covered: the passages say nothing of '{judged}'"
    return ""
