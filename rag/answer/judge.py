"""The model's own check in the low-confidence band: do the passages answer the question?

The coverage model decides from retrieval evidence alone, and between its two thresholds
(the low-confidence band) it cannot tell a covered question from a near miss: an English
question over Chinese articles whose answer sits in the passages looks much like one whose
topic is there but whose answer is not. In that band, before the model answers, the chain
asks it the answer prompt with one line added ("Do the sources contain the answer to this
question? Answer only yes or no") and reads the probability of "yes" from the first token's
log-probabilities (one token generated). The prompt is the answer prompt's prefix, which
llama.cpp keeps cached for the answer that follows, so the check costs the added line and
one token. Below ``RAG_JUDGE_THRESHOLD`` the chain abstains without generating an answer.

Asked *after* its answer, in the same conversation, the 1.5B model says "yes" to nearly
everything (P(yes) 0.66-0.91 on near misses and covered questions alike): the question comes
first.

Example:
    >>> yes_probability({"是": 0.75, "否": 0.25, "The": 0.1})
    0.75
    >>> yes_probability({"The": 0.9}) is None
    True
    >>> judge_messages([{"role": "user", "content": "Question: Q"}], "en")[-1]["content"]
    'Question: Q\\n\\nDo the sources contain the answer to this question? Answer only yes or no.'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rag.errors import LLMError

JUDGE_QUESTIONS = {
    "zh": "段落中有这个问题的答案吗？只回答“是”或“否”。",
    "en": "Do the sources contain the answer to this question? Answer only yes or no.",
}
YES = frozenset({"是", "是的", "yes", "Yes", "YES"})
NO = frozenset({"否", "不是", "不", "no", "No", "NO"})


def yes_probability(top: Mapping[str, float]) -> float | None:
    """P(yes) among the yes and no tokens of ``top`` (None when neither is among them)."""
    yes = sum(p for t, p in top.items() if t.strip() in YES)
    no = sum(p for t, p in top.items() if t.strip() in NO)
    return yes / (yes + no) if yes + no > 0 else None


def judge_messages(messages: list[dict[str, str]], lang: str) -> list[dict[str, str]]:
    """The answer prompt with the yes/no question added after the question."""
    question = JUDGE_QUESTIONS["zh" if lang == "zh" else "en"]
    *head, last = messages
    return [*head, {**last, "content": f"{last['content']}\n\n{question}"}]


def judge(llm: Any, messages: list[dict[str, str]], lang: str) -> float | None:
    """P(the passages answer the question), by the model about to answer; None when unknown.

    Unknown when the endpoint gives no log-probabilities, the model's reply starts with
    neither yes nor no, or the request fails: the chain then keeps the coverage decision.

    Args:
        llm: The LLM (an object with ``first_token_probabilities``).
        messages: The answer prompt (its last message holds the sources and the question).
        lang: The question's language (``zh`` or ``en``).
    """
    probe = getattr(llm, "first_token_probabilities", None)
    if probe is None or not messages:
        return None
    try:
        top = probe(judge_messages(messages, lang))
    except LLMError:
        return None
    return yes_probability(top) if top else None
