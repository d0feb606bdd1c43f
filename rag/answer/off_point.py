"""An answer beside the point: it rests on a sentence of the right passage that lacks the
question's words, while the draft's best sentence of that passage has them.

The small model often answers from the right passage but the wrong sentence. "茨柏克沃斯基是何时从
微软退休的?" was answered "2008年1月，茨柏克沃斯基加入SWsoft担任资深技术顾问 [1]。": a date, copied
from the passage, so the claim check keeps it; but the sentence it rests on says nothing of 微软
or 退休, and the draft's best sentence of the same passage ("2006年6月，茨柏克沃斯基从微软退休。")
says both. "达曼的卫星城有哪几座?" was answered with the cities of a population figure, not the
satellite towns (卫星城) the next sentence names. The chain then shows the draft's sentences
instead of the model's answer, under a notice that says why (`chain._check`).

A word the passage's title has does not count: the sentence that answers often refers to its
subject as 它 or 此领域 ("有关此领域的研究最早可追溯自…" answers "最早研究计算神经科学的科学家有哪些?"
in the article 计算神经科学). Nor does a draft sentence of another passage: a better-worded
sentence elsewhere is the retriever's concern, not evidence that the answer missed the point.
Chinese questions only: an English question's words are found in Chinese text through the
renderings of its words, generic ones too, and "What else is Drosera burmannii called?", rightly
answered with the alias 宽叶毛毡苔, would have given way to a sentence saying 其他 ("else").
Measured on the stored answers of the CMRC 2018 trial sample (the tuning set): it fires on 4 of
100, the gold answer then contained in 3 more (with clauses cut at a semicolon: 5 and 4); on the
articles' test splits on none. Each question word counts once (a compound, not also its pieces)
and "how many" words (几座) not at all: the same 5 on the sample, and on the articles' test split
one, q004 "DDPG 为什么选择确定性策略…?", whose draft then holds the reason (样本量非常大).

Example:
    >>> from rag.answer.claims import CheckedAnswer, Clause
    >>> from rag.answer.evidence import Evidence, EvidenceSet
    >>> from rag.answer.extractive import Extract
    >>> from rag.answer.question_terms import QuestionTerms
    >>> from rag.schema import Passage
    >>> text = "2006年6月，他从微软退休。2008年1月，他加入SWsoft担任资深技术顾问。"
    >>> p = Passage(text, "z", "茨柏克沃斯基", "z.md", "z#0", 1.0)
    >>> words = lambda t: [w for w in ("微软", "退休", "加入") if w in t]
    >>> terms = QuestionTerms("他何时从微软退休?", words)
    >>> joined = Clause("2008年1月，他加入SWsoft", 0, 18, 0, cited=[1], support=[1],
    ...                 evidence_passage=1, evidence_start=22, evidence_end=30)
    >>> answer = CheckedAnswer("2008年1月，他加入SWsoft [1]。", [joined], cited=[1])
    >>> best = Evidence(0, 0, 15, "2006年6月，他从微软退休。")
    >>> draft = Extract(best.text + "[1]", [1], [best])
    >>> off_point(EvidenceSet([best], [best], terms), answer, draft, [p], [p])
    ['微软', '退休']
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.claims import CheckedAnswer, Clause
from rag.answer.evidence import EvidenceSet
from rag.answer.extractive import Extract
from rag.schema import Passage

__all__ = ["OFF_POINT", "off_point"]

# the chain's reason for the fallback (see rag.answer.notices.REASONS_ZH)
OFF_POINT = "the model's answer rests on a sentence without the question's words"

_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_ASKS_COUNT = re.compile(r"[几哪]|多少")


def off_point(
    evidence: EvidenceSet | None,
    checked: CheckedAnswer,
    extract: Extract | None,
    numbered: Sequence[Passage],
    passages: Sequence[Passage],
) -> list[str]:
    """The question's words that the draft's best sentence has and the answer misses.

    Args:
        evidence: The evidence step's result (its question terms are read); None, or an English
            question: no judgement.
        checked: The claim check of the model's answer (its supported clauses are read).
        extract: The draft (its first sentence is the best one); None: no judgement.
        numbered: The passages as the model was given them (``[n]`` is ``numbered[n-1]``).
        passages: The passages as retrieved (the draft's sentences index them).

    Returns:
        The words, in the question's order; empty when the answer is on the point, rests on
        another passage than the draft's sentence, or the draft's sentence has no more of the
        question's words than the answer and its evidence sentences together.
    """
    terms = evidence.terms if evidence is not None else None
    if terms is None or terms.english:  # (renderings of generic words: 'else' is 其他)
        return []
    best = extract.sentences[0] if extract is not None and extract.sentences else None
    supported = [c for c in checked.clauses if c.supported and c.evidence_passage > 0]
    if best is None or not supported or best.passage >= len(passages):
        return []
    best_passage = passages[best.passage]
    rested_on = {
        numbered[c.evidence_passage - 1].chunk_id
        for c in supported
        if c.evidence_passage <= len(numbered)
    }
    if best_passage.chunk_id not in rested_on:
        return []
    said = "\n".join([checked.text, *(_whole_sentence(c, numbered) for c in supported)])
    in_answer, in_best = _words(terms.found(said)), _words(terms.found(best.text))
    if len(in_best) <= len(in_answer):
        return []
    titled = set(terms.found(best_passage.title))
    return [t for t in in_best if t not in in_answer and t not in titled]


def _words(found: list[str]) -> list[str]:
    """The question's words ``found``, each once: a compound, not also its pieces (感知机, not
    感知 and 知机 too: "感知机是谁构思的?" answered from "它由…皮茨构思" speaks of as many of them as
    a sentence naming 感知机 but not 构思), and no "how many" word (几座 of "有哪几座" in "几座城市…")."""
    found = [t for t in found if not _ASKS_COUNT.match(t)]
    return [t for t in found if not any(t != o and t in o for o in found)]


def _whole_sentence(clause: Clause, numbered: Sequence[Passage]) -> str:
    """The whole sentence (or clause of one, up to a semicolon) of the clause's evidence: the
    check may match a piece of it. ("乌尔巴克齿龙与拜伦龙的差异在于…；与寐龙的差异在于，乌尔巴克齿龙的体型
    较大。" is two statements: an answer resting on the second does not speak of 拜伦龙.)"""
    if clause.evidence_passage > len(numbered):
        return clause.evidence
    text = numbered[clause.evidence_passage - 1].text
    ends = _SENTENCE_END.finditer(text, 0, clause.evidence_start)
    start = max((m.end() for m in ends), default=0)
    end = _SENTENCE_END.search(text, clause.evidence_end)
    return text[start : end.end() if end else len(text)]
