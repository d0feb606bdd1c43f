"""A deed given to the wrong person is removed; the right person, or what the others did, stays
(rag/answer/claims/agents.py), over the real perceptron sentence of the activations article."""

from __future__ import annotations

import pytest

from rag.answer.claims.agents import persons
from rag.schema import Passage
from tests.answer.test_claims import check
from tests.conftest import ARTICLES

QUESTION_ZH = "感知机是谁在硬件上实现的?"
QUESTION_EN = "Who implemented the perceptron in hardware, and in what year?"


@pytest.fixture(scope="module")
def perceptron() -> list[Passage]:
    """The activations article's passage that names who conceived and who built the perceptron."""
    body = (ARTICLES / "llm-activations.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    start = body.index("它由芝加哥大学")
    return [
        Passage(
            body[start - 200 : start + 300], "llm-activations", "LLM 激活函数", "a.md", "a#0", 1.0
        )
    ]


def _check(answer, passages, tools, similarity, question):
    return check(
        answer, passages, tools, similarity, "en" if question.isascii() else "zh", question
    )


@pytest.mark.parametrize(
    ("answer", "question", "named"),
    [
        # as the embedded model answered it (the check had kept it)
        (
            "Edwards McCulloch and Walter Pitts implemented the perceptron in hardware in 1957 [1].",
            QUESTION_EN,
            "McCulloch",
        ),
        ("爱德华·麦克洛奇和沃尔特·皮茨在硬件上实现了感知机 [1]。", QUESTION_ZH, "爱德华·麦克洛奇"),
        ("麦克洛奇在 1957 年实现了感知机 [1]。", QUESTION_ZH, "麦克洛奇"),
    ],
)
def test_a_deed_given_to_the_wrong_person_is_removed(
    answer, question, named, perceptron, tools, similarity
):
    checked = _check(answer, perceptron, tools, similarity, question)
    removed = [c for c in checked.clauses if not c.supported]
    assert removed, checked.text
    assert f"'{named}' where [1] says '弗兰克·罗森布拉特'" in removed[0].reason
    assert "实现" not in checked.text and "implemented" not in checked.text


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        ("Frank Rosenblatt implemented the perceptron in hardware in 1957 [1].", QUESTION_EN),
        ("弗兰克·罗森布拉特在 1957 年于硬件上实现了感知机 [1]。", QUESTION_ZH),
        ("感知机由爱德华·麦克洛奇和沃尔特·皮茨构思 [1]。", "感知机最早是谁构思的?"),
        ("It was conceived by McCulloch and Pitts [1].", "Who conceived the perceptron?"),
    ],
)
def test_the_right_person_stays(answer, question, perceptron, tools, similarity):
    checked = _check(answer, perceptron, tools, similarity, question)
    assert all(c.supported for c in checked.clauses), [c.reason for c in checked.clauses]
    assert checked.text.split(" [1]")[0] in answer


def test_persons_are_the_names_joined_by_a_middle_dot():
    text = "它由芝加哥大学精神病学系的爱德华·麦克洛奇和沃尔特·皮茨构思,后来由弗兰克·罗森布拉特实现"
    assert persons(text) == [("爱德华", "麦克洛奇"), ("沃尔特", "皮茨"), ("弗兰克", "罗森布拉特")]
    assert persons("卡尔·弗里德里希·高斯证明了它") == [("卡尔", "弗里德里希", "高斯")]
    assert persons("DDIM·DDPM 与 S4") == []
