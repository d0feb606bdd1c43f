"""What a passage says its subject does without (rag.answer.claims.rejected), through the check."""

from __future__ import annotations

import json

import pytest

from rag.answer.claims import check_answer
from rag.schema import Passage
from tests.conftest import ARTICLES, PROJECT_ROOT

DATA = PROJECT_ROOT / "data" / "eval"


def _article(doc_id: str) -> Passage:
    body = (ARTICLES / f"{doc_id}.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]
    return Passage(body.strip(), doc_id, doc_id, f"{doc_id}.md", f"{doc_id}#0", 1.0)


@pytest.fixture(scope="module")
def dpo() -> list[Passage]:
    return [_article("dpo")]


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


def test_a_yes_to_what_the_article_negates_of_its_subject_is_removed(tools):
    """Asked as a user: "Does DDIM use the Markov assumption?" was answered "Yes, DDIM uses the
    Markov assumption ("因为 DDPM 的反向过程利用了马尔可夫假设") [1]." and "DDIM 利用马尔可夫假设吗?"
    "是"; the article: "DDIM 在不利用马尔可夫假设的情况下推导出了…" (the quote is DDPM's). And
    "FlashAttention 需要在 GPU 全局内存中存储注意力分数吗?" was answered "是" over "…而无需访问GPU
    全局内存来存储中间的logits和注意力分数": the negation governs a phrase holding two of the
    question's words, said where the passage speaks of FlashAttention (not of Softmax, a word
    written between, nor of the GPU glued to 全局内存)."""
    ddim = [_article("ddim"), _article("rectified-flow")]
    flash = [_article("flashattention")]
    for answer, question, passages, marker in (
        (
            'Yes, DDIM uses the Markov assumption ("因为 DDPM 的反向过程利用了马尔可夫假设") [1].',
            "Does DDIM use the Markov assumption?",
            ddim,
            "(不)",
        ),
        ("是 [2]。", "DDIM 利用马尔可夫假设吗?", ddim, "(不)"),
        ("是 [1]。", "FlashAttention 需要在 GPU 全局内存中存储注意力分数吗?", flash, "(无需)"),
    ):
        reasons = _check(answer, question, passages, tools)
        assert len(reasons) == 1 and reasons[0].endswith(marker), (answer, reasons)
    for answer, question, passages in (
        (
            "No, DDIM does not use the Markov assumption [1].",
            "Does DDIM use the Markov assumption?",
            ddim,
        ),
        ("是 [1]。", "DDPM 利用马尔可夫假设吗?", ddim),
        ("不需要 [1]。", "FlashAttention 需要在 GPU 全局内存中存储注意力分数吗?", flash),
    ):
        assert _check(answer, question, passages, tools) == [], answer


def test_what_a_negation_does_not_govern_stays(dpo, tools):
    """Stored answers and detection cases the first version of the negation rule removed: the
    不如 of 与其 … 不如 introduces what is done (h034), a clause's own negated word in its quote
    ("uncertain" as 不确定, m096), a comparison with FM is not said of FM (f084)."""
    rl, fm = [_article("rl-basics")], [_article("fm-ffm")]
    for answer, question, passages in (
        ("DPO trains the language model directly [1].", "What does DPO train directly?", dpo),
        (
            'An RL agent interacts with a complex and uncertain environment ("复杂、 不确定的环境") [1].',
            "What kind of environment does an RL agent interact with?",
            rl,
        ),
        (
            "FFM has higher computational time complexity than FM [1].",
            "How does FFM compare with FM?",
            fm,
        ),
    ):
        assert _check(answer, question, passages, tools) == [], answer


def test_a_negated_adverbial_does_not_negate_its_main_verb(tools):
    """ "DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程": the 不 ends with 的情况下, so
    "DDIM derives the reverse process of diffusion" stands (an injected test case, h011, had it
    removed by the first version of the wide span)."""
    ddim = [_article("ddim")]
    answer = "DDIM derives the reverse process of diffusion [1]."
    assert _check(answer, "What does DDIM derive?", ddim, tools) == []


def test_a_clause_that_skips_is_judged_on_the_negation_of_its_skipping(tools):
    """ "Yes, DDPM can skip intermediate steps" over "…DDPM 的反向过程利用了马尔可夫假设,所以…而不能
    跳过中间步骤": a clause that itself does without something (skip) is still contradicted by a
    negation of its verb; DDIM, which the article says skips them, stays."""
    ddim = [_article("ddim")]
    reasons = _check(
        "Yes, DDPM can skip intermediate steps [1].", "Can DDPM skip steps?", ddim, tools
    )
    assert reasons == ["'skip intermediate steps': [1] says DDPM does not (不能)"]
    assert _check("可以 [1]。", "DDPM 可以跳过中间步骤吗?", ddim, tools) != []
    assert (
        _check("Yes, DDIM can skip intermediate steps [1].", "Can DDIM skip steps?", ddim, tools)
        == []
    )
    # (what such a clause gives up is not asserted: a hand-labelled answer, q045, with its passages)
    q045 = next(
        r
        for r in map(json.loads, (DATA / "model_answers.jsonl").open(encoding="utf-8"))
        if r["id"] == "q045"
    )
    passages = [
        Passage(p["text"], p["doc_id"], p["title"], p["doc_id"], p["chunk_id"], 1.0)
        for p in q045["passages"]
    ]
    assert q045["model_text"] == "DDIM 是靠放弃马尔可夫假设来加快 DDPM 采样的 [1]。"
    assert _check(q045["model_text"], q045["question"], passages, tools) == []


def test_a_no_to_what_the_article_says_of_its_subject_is_removed(tools):
    """The mirror: "No, DDPM does not use the Markov assumption" and a bare "不" to "DDPM 利用马尔可夫
    假设吗?" over "因为 DDPM 的反向过程利用了马尔可夫假设" (the article's "DDIM 在不利用马尔可夫假设…" is
    DDIM's, and had matched the negation); a bare "No" to "Does FlashAttention use tiling?" over
    "FlashAttention的关键创新在于使用…分块(tiling)". The right denials stay, and so do a stored
    answer's verbatim "…不可缺少的组件" (m158~loo) and a negation that governs no word the passage
    says (f020's "DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程")."""
    ddim = [_article("ddim"), _article("rectified-flow")]
    flash = [_article("flashattention")]
    pyramid = [_article("image-feature-pyramid")]
    for answer, question, passages in (
        (
            "No, DDPM does not use the Markov assumption [1].",
            "Does DDPM use the Markov assumption?",
            ddim,
        ),
        ("不 [1]。", "DDPM 利用马尔可夫假设吗?", ddim),
        ("No [1].", "Does FlashAttention use tiling?", flash),
    ):
        reasons = _check(answer, question, passages, tools)
        assert len(reasons) == 1 and "not negated" in reasons[0], (answer, reasons)
    for answer, question, passages in (
        (
            "No, DDIM does not use the Markov assumption [1].",
            "Does DDIM use the Markov assumption?",
            ddim,
        ),
        ("不 [1]。", "DDIM 利用马尔可夫假设吗?", ddim),
        (
            "DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程 [1]。",
            "DDIM 推导出了什么?",
            ddim,
        ),
        (
            "单论性能而言,multiscale training/testing仍然是一个不可缺少的组件 [1]。",
            "只看精度的话,多尺度训练和测试能不能省掉?",
            pyramid,
        ),
    ):
        assert _check(answer, question, passages, tools) == [], answer
