"""What a passage says its subject does without (rag.answer.claims.rejected), through the check."""

from __future__ import annotations

import pytest

from rag.answer.claims import check_answer
from rag.schema import Passage
from tests.conftest import ARTICLES


@pytest.fixture(scope="module")
def dpo() -> list[Passage]:
    body = (ARTICLES / "dpo.md").read_text(encoding="utf-8").split("\n---\n", 1)[1].strip()
    return [Passage(body, "dpo", "dpo", "dpo.md", "dpo#0", 1.0)]


def _check(answer: str, question: str, passages: list[Passage], tools) -> list[str]:
    """The reasons of the clauses the check removed."""
    checked = check_answer(
        answer,
        passages,
        question=question,
        lang="en" if question.isascii() else "zh",
        terms=tools["terms"],
        glossary=tools["glossary"],
    )
    return [r.reason for r in checked.removed]


def test_a_yes_to_what_the_article_says_dpo_does_without_is_removed(dpo, tools):
    """Asked as a user, "Does DPO need a reward model?" was answered "Yes, DPO needs a reward
    model [1]." The article: "与其先训练奖励模型再训练语言模型,不如直接训练语言模型" (of DPO); its
    "先训练一个奖励模型" is said of RLHF."""
    for answer, question in (
        ("Yes, DPO needs a reward model [1].", "Does DPO need a reward model?"),
        ("DPO 需要奖励模型 [1]。", "DPO 需要奖励模型吗?"),
        ("是的,DPO 需要先训练奖励模型 [1]。", "DPO 需要奖励模型吗?"),
        ("是 [1]。", "DPO 需要奖励模型吗?"),
        ("DPO first trains a reward model [1].", "How does DPO work?"),
    ):
        reasons = _check(answer, question, dpo, tools)
        assert len(reasons) == 1, (answer, reasons)
        assert "says DPO does without it (与其)" in reasons[0], (answer, reasons)


def test_what_the_article_does_say_of_dpo_and_of_rlhf_stays(dpo, tools):
    """Among them a stored answer to "Compared with classic RLHF, which separately trained model
    does DPO do away with?" that the first version of the rule removed: the clause does away with
    the reward model itself."""
    for answer, question in (
        (
            "DPO does away with the reward model by directly optimizing the language model [1].",
            "Compared with classic RLHF, which separately trained model does DPO do away with?",
        ),
        ("DPO 取代了奖励模型 [1]。", "DPO 取代了什么?"),
        ("No, DPO does not need a reward model [1].", "Does DPO need a reward model?"),
        ("不需要 [1]。", "DPO 需要奖励模型吗?"),
        ("DPO 直接训练语言模型 [1]。", "DPO 怎么训练?"),
        ("Yes. DPO trains the language model directly [1].", "Does DPO train the model directly?"),
        ("RLHF 先训练一个奖励模型 [1]。", "RLHF 分哪两步?"),
        ("DPO 不需要先训练奖励模型 [1]。", "DPO 需要奖励模型吗?"),
    ):
        assert _check(answer, question, dpo, tools) == [], answer


def test_the_with_of_yu_qi_ta_is_no_rather_than(tools):
    """ "与其他进程通讯" is "communicate with the other processes", not 与其 … 不如: the first version
    removed "They communicate through a method called RingReduce…" (detection set h075)."""
    body = (ARTICLES / "pytorch-ddp.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    ddp = [Passage(body.strip(), "pytorch-ddp", "pytorch-ddp", "pytorch-ddp.md", "ddp#0", 1.0)]
    answer = "They communicate through a method called RingReduce to exchange gradients [1]."
    assert _check(answer, "How do DDP processes exchange gradients?", ddp, tools) == []
