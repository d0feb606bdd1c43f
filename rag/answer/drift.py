"""An answer that drifted off the question: it rests on passages that lack a word of the question
which the first passage has.

In the low-confidence band the model is often given passages about something else (the article
that would answer is not in the corpus) and answers from one of them, copying its sentence; the
claim check keeps what is copied. "Where do the herbal tea shops also sell…?" was answered from a
clothing company's passage ("生意横向扩展至家庭日用品、内衣内裤、食物…"), "What principle does the
treaty mainly guarantee?" from a radio programme's. What such answers share: they do not cite the
first passage the model was given, and a word of the question that the first passage has (its
rendering, for an English question) is in none of the passages they cite. Over the stored model
answers (dev runs, low-confidence band), this held for 19 of 64 answers to near misses and for
none of the 6 that stated the gold answer; on the test runs, 10 of 53 and 0 of 19 (two other
answers, one of them wrong). The chain then treats the answer as unsupported (`chain._check`):
below an even chance of coverage it abstains, above it shows the draft under the notice.

Example:
    >>> from rag.answer.question_terms import QuestionTerms
    >>> from rag.schema import Passage
    >>> q = QuestionTerms("鸡毛松分布在哪里?", lambda t: ["鸡毛松", "分布"] if "鸡" in t else [])
    >>> pine = Passage("鸡毛松分布于南岛。", "a", "鸡毛松", "a.md", "a#0", 1.0)
    >>> fish = Passage("分布于南海。", "b", "金带笛鲷", "b.md", "b#0", 1.0)
    >>> drifted_from(q, [pine, fish], [2]), drifted_from(q, [pine, fish], [1, 2])
    ('鸡毛松', None)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.question_terms import QuestionTerms
from rag.schema import Passage

__all__ = ["DRIFTED", "drifted_from"]

# what the cleaner may drop between the parts of a name (Kimi-VL, KimiVL, Kimi VL)
_JOINERS = re.compile(r"[\s\-_]+")

# the chain's reason for the fallback (see rag.answer.notices.REASONS_ZH)
DRIFTED = "the model's answer rests on passages that do not speak of the question"


def drifted_from(
    terms: QuestionTerms | None, numbered: Sequence[Passage], cited: Sequence[int]
) -> str | None:
    """The question's word that the first passage has and no cited one has, or None.

    Args:
        terms: The question's terms (the evidence step's: renderings for an English question);
            None: no judgement (the chain passes None after a confident coverage decision).
        numbered: The passages as the model was given them (``[n]`` is ``numbered[n-1]``).
        cited: The passage numbers the checked answer cites.

    Returns:
        The first such word in the question's order; None when the answer cites the first
        passage, cites nothing, or every word of the first passage's is in a cited one.
    """
    if terms is None or not numbered or not cited or 1 in cited:
        return None
    first = _found(terms, numbered[0])
    said: set[str] = set()
    for n in cited:
        if 0 < n <= len(numbered):
            said.update(_found(terms, numbered[n - 1]))
    return next((t for t in first if t not in said), None)


def _found(terms: QuestionTerms, passage: Passage) -> list[str]:
    """The question's terms in the passage (its title included); a hyphenated name also run
    together, as the articles' cleaner writes it: "Kimi-VL" is the article's "KimiVL".

    (Sentence evidence does not join them: there a name every sentence of its article has tells
    the sentences apart no better than not at all; here it says which article is about it.)
    """
    text = f"{passage.title}\n{passage.text}"
    found = terms.found(text)
    joined = _JOINERS.sub("", text.lower())
    return found + [
        t for t in terms.terms if t not in found and "-" in t and _JOINERS.sub("", t) in joined
    ]
