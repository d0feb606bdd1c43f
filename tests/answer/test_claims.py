"""Claim-level verification: clauses, numbers, names, negation, citation repair, abstention.

The e5-dependent tests use the session's real embedder.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from rag.answer.claims import FEATURES, ClaimModel, check_answer, numbers_in
from rag.answer.claims.negation import zh_negations
from rag.schema import Passage
from rag.text.tokenize_zh import BM25Tokenizer
from tests.conftest import ARTICLES


def _body(doc_id: str) -> str:
    return (ARTICLES / f"{doc_id}.md").read_text(encoding="utf-8").split("\n---\n", 1)[1].strip()


def _p(text: str, doc: str = "d", n: int = 0) -> Passage:
    return Passage(text, doc, doc, f"{doc}.md", f"{doc}#{n}", 1.0)


def _articles(*ids: str) -> list[Passage]:
    """Whole articles as passages, [1] first (in the order a retrieval gave them)."""
    return [_p(_body(d), d) for d in ids]


@pytest.fixture(scope="session")
def ddim() -> list[Passage]:
    return [_p(_body("ddim"), "ddim")]


def check(answer, passages, tools, similarity=None, lang="zh", question=""):
    return check_answer(
        answer,
        passages,
        question=question,
        lang=lang,
        terms=tools["terms"],
        glossary=tools["glossary"],
        similarity=similarity,
    )


# ----------------------------------------------------------------------- the three real cases
README_ANSWER = (
    "DDIM 是一种加速 DDPM 采样的方法，它可以在 20~100 步内达到和 DDPM 1000 步相近的效果 [1]。"
    "因此，DDIM 的采样过程比 DDPM 更快，但需要更多的计算资源 [1]。"
)


def test_readme_follow_up_loses_exactly_the_invented_clause(ddim, tools, similarity):
    c = check(README_ANSWER, ddim, tools, similarity)
    assert [r.text for r in c.removed] == ["但需要更多的计算资源"]
    assert c.text == (
        "DDIM 是一种加速 DDPM 采样的方法，它可以在 20~100 步内达到和 DDPM 1000 步相近的效果 [1]。"
        "因此，DDIM 的采样过程比 DDPM 更快 [1]。"
    )
    assert c.notice and "但需要更多的计算资源" in c.notice
    assert "计算资源" in c.removed[0].reason
    assert c.cited == [1] and not c.empty and c.support == pytest.approx(3 / 4)


def test_english_answer_over_the_chinese_article_is_kept(ddim, tools, similarity):
    c = check("DDIM speeds up DDPM sampling by 10 to 50 times [1].", ddim, tools, similarity, "en")
    assert c.removed == [] and c.notice is None
    assert c.text == "DDIM speeds up DDPM sampling by 10 to 50 times [1]."
    assert c.clauses[0].evidence_passage == 1 and "10~50" in c.clauses[0].evidence


def test_english_number_claim_is_removed(ddim, tools, similarity):
    c = check("DDIM speeds up sampling by 100 times [1].", ddim, tools, similarity, "en")
    assert len(c.removed) == 1 and c.removed[0].reason == "number 100 not in [1]"
    assert c.text == "" and c.empty  # nothing left: the chain answers extractively


def test_a_multiple_written_with_x_is_checked_like_bei(ddim, tools, similarity):
    answer = "DDIM needs only 20-100 steps [1], which is a 10-50x speedup [1]."
    ok = check(answer, ddim, tools, similarity, "en", question="How much faster is DDIM?")
    assert ok.removed == [] and "10-50x speedup" in ok.text
    bad = check(answer.replace("10-50x", "100x"), ddim, tools, similarity, "en")
    assert [c.reason for c in bad.removed] == ["number 100x not in [1]"]


# ----------------------------------------------------------------------- citations
P3 = [
    _p(
        "DDIM 在不利用马尔可夫假设的情况下推导出反向过程，仅采样 20~100 步就能达到相近的生成效果。",
        "ddim",
    ),
    _p("FlashAttention 使用分块计算，无需访问 GPU 全局内存来存储中间结果。", "fa"),
    _p("YOLO 把整张图作为网络的输入，直接在输出层回归 bounding box 的位置和类别。", "yolo"),
]


def test_wrong_citation_is_repaired(tools):
    c = check("FlashAttention 使用分块计算，无需访问 GPU 全局内存 [1]。", P3, tools)
    assert c.removed == []
    assert c.text == "FlashAttention 使用分块计算，无需访问 GPU 全局内存 [2]。"
    assert c.cited == [2] and all(cl.support == [2] for cl in c.clauses)


def test_a_restated_question_cites_the_passage_that_says_it_and_is_flagged(tools):
    # the question's own words are not claims, but the number after them must still be right
    question = "FlashAttention 为什么不需要访问 GPU 全局内存?"
    c = check_answer(
        "FlashAttention 不需要访问 GPU 全局内存 [1]。", P3, question=question, terms=tools["terms"]
    )
    assert c.removed == [] and c.cited == [2] and c.text.endswith("[2]。")
    assert c.restated, "nothing beyond the question: the chain answers from the passages instead"
    reason = check_answer(
        "因为 FlashAttention 使用分块计算 [2]。", P3, question=question, terms=tools["terms"]
    )
    assert not reason.restated and reason.cited == [2]
    yes = check_answer(
        "是，DDIM 能加快采样 [1]。", P3, question="DDIM 能加快采样吗?", terms=tools["terms"]
    )
    assert not yes.restated
    # repeating a yes/no question's words is an answer ("yes"), not an echo
    polar = check_answer(
        "YOLO 直接在输出层回归位置 [3]。",
        P3,
        question="YOLO 直接在输出层回归位置吗?",
        terms=tools["terms"],
    )
    assert not polar.restated and polar.removed == []


def test_an_english_restatement_that_quotes_the_question_in_chinese_is_flagged(tools, similarity):
    """'It is the receptive field ("感受野") [1].' — the embedded model's whole answer to "What is
    the receptive field?" — quotes the Chinese for the question's own words: nothing of its own.
    A Chinese word the question does not say is still the answer's claim."""
    rf = [_p("如何计算RF 公式一:这个算法从top往下层层迭代。 [公式] 其中,RF是感受野。", "rf")]
    question = "What is the receptive field?"
    echo = check('It is the receptive field ("感受野") [1].', rf, tools, similarity, "en", question)
    assert echo.restated and echo.removed == []
    own = check(
        'It is computed layer by layer from the top ("层层迭代") [1].',
        rf,
        tools,
        similarity,
        "en",
        question,
    )
    assert not own.restated and own.removed == []


def test_an_english_restatement_keeping_the_questions_negation_is_flagged(tools, similarity):
    """The embedded model's answer to "Why does DDP use multiple processes instead of multiple
    threads?": its reasons are not in the passages and go; what is left repeats the question,
    "instead of" included, and is flagged (it was kept as an answer: "instead of" counted as a
    negation of the answer's own). A negation the question does not make is still a claim."""
    passages = [
        _p("(缓解GIL限制)在DDP模式下,会有N个进程被启动,每个进程在一张卡上加载一个模型。", "ddp")
    ]
    question = "Why does DDP use multiple processes instead of multiple threads?"
    answer = (
        "Because DDP uses multiple processes instead of multiple threads because threads are "
        "harder to debug, which can slow down the development of Python programs [1]."
    )
    c = check(answer, passages, tools, similarity, "en", question)
    assert c.text.startswith("Because DDP uses multiple processes instead of multiple threads")
    assert len(c.removed) >= 1 and c.restated
    # the model's real answer gave the GIL as the reason, which the passage does say (缓解GIL
    # 限制); only its expansion "(Global Interpreter Lock)" and what follows are not there
    real = check(
        "Because DDP uses multiple processes instead of multiple threads because it avoids the "
        "GIL (Global Interpreter Lock), which can limit the performance of Python programs [1].",
        passages,
        tools,
        similarity,
        "en",
        question,
    )
    assert "avoids the GIL [1]" in real.text and not real.restated
    other = check(
        "Because DDP does not use threads [1].", passages, tools, similarity, "en", question
    )
    assert not other.restated


def test_a_term_the_question_names_but_no_passage_mentions_is_still_a_claim(tools, similarity):
    """Asked "What does speculative decoding have to do with DeepSeek-V3's MTP?", the embedded
    model answered that DeepSeek-V3's MTP uses speculative decoding; no article mentions it, and
    the answer was kept because the question's words counted as given. A term the passages do
    have stays given (the answer may restate it)."""
    mtp = [
        _p(
            "另外,DeepSeek-V3 采用了 多 token 预测训练目标, 这种方法在评估基准测试中展现出了"
            "显著的性能提升。",
            "deepseek-v3",
        )
    ]
    question = "What does speculative decoding have to do with DeepSeek-V3's MTP?"
    answer = "Speculative decoding is used in DeepSeek-V3's multi-token prediction [1]."
    c = check(answer, mtp, tools, similarity, "en", question)
    assert c.empty and c.removed[0].reason == "'speculative decoding' not in the passages"
    said = [_p("投机解码(speculative decoding)先用小模型起草,再由大模型验证。", "sd")]
    kept = check(
        "Speculative decoding drafts with a small model and verifies with the large one [1].",
        said,
        tools,
        similarity,
        "en",
        "What does speculative decoding do?",
    )
    assert not kept.removed


def test_a_comparison_turned_around_is_removed(ddim, tools, similarity):
    """After "DDIM 相比 DDPM 采样快多少倍?", the follow-up "What about DDPM?" was rewritten to
    "DDPM 相比 DDIM 采样快多少倍?" and answered with the article's own figure the wrong way round;
    every word and number is in the passage, only the direction is not."""
    question = "DDPM 相比 DDIM 采样快多少倍?"
    bad = check("DDPM 相比 DDIM 采样快 10~50 倍 [1]。", ddim, tools, similarity, "zh", question)
    assert bad.empty and bad.removed[0].reason.startswith("comparison reversed: [1] compares")
    en = check(
        "DDPM is 10 to 50 times faster than DDIM [1].", ddim, tools, similarity, "en", question
    )
    assert en.empty and en.removed[0].rule == "comparison"
    for right in ("DDIM 相比 DDPM 采样快 10~50 倍 [1]。", "DDPM 比 DDIM 慢 [1]。"):
        assert not check(right, ddim, tools, similarity, "zh", question).removed, right


def test_figures_written_the_english_way_are_read_as_the_article_means_them(tools, similarity):
    """Real answers of the embedded model that lost a correct clause: "10,000" was cut at its
    comma into the clauses "…the same user 10" and "000 times…"; "a few thousand candidates"
    was checked as the exact figure 1000 against 上千候选 (it is the magnitude 1000-9999, as
    上千 is); "pre-defined" left a unit "pre"."""

    def english(answer: str, doc: str):
        return check(answer, [_p(_body(doc), doc)], tools, similarity, "en")

    c = english(
        "Because we can't show the same ad to the same user 10,000 times and count the clicks "
        "to estimate the true click rate [1].",
        "ctr-prediction",
    )
    assert not c.removed and len(c.clauses) == 1
    few = "Even if only fine ranking over a few thousand candidates can be done [1]."
    assert not english(few, "rerank").removed
    for wrong in ("Fine ranking covers 5,000 candidates [1].", "A few hundred candidates [1]."):
        c = english(wrong, "rerank")  # a magnitude still has to match
        assert c.removed and c.removed[0].rule == "number", wrong
    assert not english("The anchor boxes are pre-defined [1].", "anchor-free").removed


def test_a_clause_supported_by_two_passages_keeps_both_citations(tools):
    both = [
        _p("DDIM 仅采样 20~100 步就能达到相近的生成效果。", "a"),
        _p("实验表明 DDIM 仅采样 20~100 步就能达到相近的生成效果。", "b"),
    ]
    c = check("DDIM 仅采样 20~100 步就能达到相近的生成效果 [1][2]。", both, tools)
    assert c.clauses[0].support == [1, 2]
    assert c.text.endswith("[1][2]。") and c.cited == [1, 2]


def test_an_uncited_clause_cites_the_passage_its_sentence_rests_on(tools):
    # both passages say the second clause; only [2] says the first: one sentence, one source
    passages = [
        _p("实验表明 DDIM 仅采样 20~100 步就能达到相近的生成效果。", "a"),
        _p(
            "DDIM 是一种确定性的采样方法。它仅采样 20~100 步就能达到和 DDPM 相近的生成效果。",
            "b",
        ),
    ]
    c = check(
        "DDIM 是一种确定性的采样方法，仅采样 20~100 步就能达到相近的生成效果。", passages, tools
    )
    assert [cl.support for cl in c.clauses] == [[2], [2]]
    assert c.text == "DDIM 是一种确定性的采样方法，仅采样 20~100 步就能达到相近的生成效果 [2]。"
    assert c.clauses[1].evidence_passage == 2 and "确定性" not in c.clauses[1].evidence


def test_a_clause_leaning_on_a_removed_subject_goes_with_it(tools, similarity):
    # asked as a user: "为什么 DPO 不需要奖励模型?" showed "都存在一个对应的最优策略(语言模型);…"
    # once the clause before it (its subject) was removed
    passages = [_p("DPO 发现了一个数学上的捷径：对于任何奖励函数，都存在一个对应的最优策略。")]
    zh = check(
        "DPO 不需要奖励模型 [1]。PPO 的作者在 2015 年提出了奖励函数，都存在一个对应的最优策略 [1]。",
        passages,
        tools,
        similarity,
    )
    assert "都存在" not in zh.text
    assert zh.clauses[-1].reason == "it depended on a removed clause"


def test_a_follow_on_clause_and_a_bare_comparison_go_with_the_clause_they_hung_on(
    tools, similarity
):
    # asked as a user, after a question on DDP: "和 DataParallel 比有什么好处?" showed "和
    # DataParallel 比，从而获得所有进程的梯度 [1]。" once the clause between them was removed
    passages = [
        _p(
            "在模型训练时,各个进程通过一种叫RingReduce的方法与其他进程通讯,交换各自的梯度,"
            "从而获得所有进程的梯度。DataParallel 是单进程多线程的。"
        )
    ]
    zh = check(
        "和 DataParallel 比，DDP 在训练过程中会自动压缩梯度，从而获得所有进程的梯度 [1]。",
        passages,
        tools,
        similarity,
    )
    assert zh.text == ""
    assert [c.reason for c in zh.clauses if c.text.startswith("从而")] == [
        "it depended on a removed clause"
    ]
    kept = check(
        "各个进程交换各自的梯度，从而获得所有进程的梯度 [1]。", passages, tools, similarity
    )
    assert "从而获得所有进程的梯度" in kept.text


def test_a_qualifier_left_without_its_clause_is_not_shown_as_a_sentence(tools, similarity):
    # asked as a user: "What happens if a neuron has no bias term?" showed "Regardless of the
    # input [2]." once "the neuron will always produce the same output" had gone
    passages = [_p("感知器的输出取决于阈值 T。", "a"), _p("无论输入是什么,模型都会更新参数。", "b")]
    answer = "Without a bias term, the neuron will always produce the same output, regardless of the input [1]."
    c = check(
        answer, passages, tools, similarity, "en", "What happens if a neuron has no bias term?"
    )
    assert c.text == ""
    assert [x.reason for x in c.clauses if x.text.startswith("regardless")] == [
        "its sentence lost its main clause"
    ]


def test_a_yes_that_only_a_question_of_the_article_holds_is_removed(tools, similarity):
    # asked as a user: "Is ReLU still used in the latest LLMs?" was answered "Yes, ReLU is still
    # used in the latest LLMs ("曾经优秀的 ReLUs 怎么了") [1]." and kept: its every word is the
    # question's, and the article's sentence holding them is its own question
    # ("…是什么促使最新的大型语言模型(LLMs)的创造者们开始使用不同的(更高级的)激活函数?")
    article = _articles("llm-activations")
    q = "Is ReLU still used in the latest LLMs?"
    answer = 'Yes, ReLU is still used in the latest LLMs ("曾经优秀的 ReLUs 怎么了") [1].'
    c = check(answer, article, tools, similarity, "en", question=q)
    assert c.empty and c.removed[0].reason == "[1] only asks it"
    # what the article's question takes for granted may answer a no
    no = "No, the latest LLMs use different activation functions [1]."
    assert check(no, article, tools, similarity, "en", question=q).removed == []
    # and a yes the article states stays
    said = [_p("最新的大型语言模型(LLMs)仍然使用 ReLU 作为激活函数。", "relu")]
    kept = check(
        "Yes, ReLU is still used in the latest LLMs [1].", said, tools, similarity, "en", q
    )
    assert kept.removed == []


def test_a_no_that_claims_nothing_else_needs_evidence_that_says_no(tools, similarity):
    # asked as a user: "Does the image pyramid approach require extracting features several
    # times?" was answered "No, … does not require extracting features several times [1]." from
    # the feature pyramid's "直接在feature层面上来近似image pyramid"; the image pyramid's own
    # passage says "但仍需要做多个特征提取"
    passages = _articles("image-feature-pyramid", "small-object-detection")
    q = "Does the image pyramid approach require extracting features several times?"
    answer = (
        "No, the image pyramid approach does not require extracting features several times [1]."
    )
    c = check(answer, passages, tools, similarity, "en", question=q)
    assert c.empty and c.removed[0].reason == "negation not in the source [2]"
    # the sentence that says otherwise is where the chain's fallback comes from
    assert c.removed[0].rule == "affirmed" and "仍需要做多个特征提取" in c.removed[0].evidence
    # a no its evidence says stays
    ddim = _articles("ddim")
    q = "Does DDIM use the Markov assumption?"
    no = "No, DDIM does not use the Markov assumption [1]."
    assert check(no, ddim, tools, similarity, "en", question=q).removed == []


def test_a_clause_whose_own_quote_says_not_is_removed(tools, similarity):
    # asked as a user: "Does FM consider higher-order feature interactions?" was answered "Yes,
    # FM considers higher-order feature interactions ("…没有考虑高阶特征的信息") [1]." and kept
    fm = _articles("fm-ffm")
    q = "Does FM consider higher-order feature interactions?"
    answer = (
        'Yes, FM considers higher-order feature interactions ("2way的FM仅枚举了所有特征的'
        '二阶交叉信息, 没有考虑高阶特征的信息") [1].'
    )
    c = check(answer, fm, tools, similarity, "en", question=q)
    assert c.empty and c.removed[0].reason == "'considers': its own quote says not (没有)"
    second = 'Yes, FM considers second-order feature interactions ("仅枚举了所有特征的二阶交叉信息") [1].'
    assert check(second, fm, tools, similarity, "en", question=q).removed == []
    # a negation inside the quoted word is the clause's own word: 不确定 is "uncertain"
    rl = _articles("rl-basics")
    uncertain = (
        "Reinforcement learning maximizes the reward an agent gets in a complex, uncertain "
        'environment ("复杂、不确定的环境") [1].'
    )
    kept = check(uncertain, rl, tools, similarity, "en", question="What is reinforcement learning?")
    assert not any("quote says not" in r.reason for r in kept.removed), kept.removed


def test_a_bare_yes_to_a_question_that_asks_no_yes_or_no_answers_nothing(tools, similarity):
    # asked as a user: "FlashAttention 是什么?" then "它比标准 attention 快多少?" was answered
    # "是 [1]。", shown with the draft after it as if it answered
    passages = _articles("flashattention")
    how_much = check(
        "是 [1]。", passages, tools, similarity, question="FlashAttention 比标准 attention 快多少?"
    )
    assert how_much.text == ""
    assert [c.reason for c in how_much.removed] == ["a yes or no, and the question asks no yes/no"]
    ddim = _articles("ddim")
    for question, said in (
        ("DDIM 用不用马尔可夫假设?", "不是"),
        ("DDIM 采样需要 1000 步吗?", "不需要"),
    ):
        assert check(f"{said} [1]。", ddim, tools, similarity, question=question).removed == []


def test_a_bare_no_to_a_question_no_passage_speaks_to_is_no_answer(tools, similarity):
    # `make run`'s first question, asked as a user: "DDIM 需要重新训练模型吗?" was answered
    # "不是 [1]。" and shown with a Rectified Flow sentence that names DDIM; no article speaks
    # of retraining at all
    passages = _articles("ddim") + _articles("rectified-flow")
    for question in ("DDIM 需要重新训练模型吗?", "DDIM 需不需要重新训练模型?"):
        for said in ("不是 [2]。", "不需要 [1]。"):
            bare = check(said, passages, tools, similarity, question=question)
            assert bare.text == "", (question, said)
            assert [c.reason for c in bare.removed] == ["no passage speaks to the question"]
    # a paraphrase of the question's proposition is spoken to: the no stands
    sa = _articles("stochastic-approximation")
    asked = "用随机逼近求根或优化时,必须事先掌握目标函数及其导数的具体形式吗?"
    assert check("不是 [1]。", sa, tools, similarity, question=asked).removed == []


def test_an_answer_that_only_spells_out_the_question_s_acronym_restates_it(tools, similarity):
    # asked as a user: "What optimizer does DPO use?" (the article names none) was answered
    # "DPO uses a direct preference optimization (DPO) optimizer [1]."
    passages = _articles("dpo")
    said = "DPO uses a direct preference optimization (DPO) optimizer [1]."
    optimizer = check(said, passages, tools, similarity, "en", "What optimizer does DPO use?")
    assert optimizer.restated
    # asked what the name stands for, the expansion is the answer
    full = "DPO stands for Direct Preference Optimization [1]."
    assert not check(full, passages, tools, similarity, "en", "What does DPO stand for?").restated


def test_a_name_the_question_gives_dates_from_the_year_its_passage_gives(tools, similarity):
    """With the question's FM spelled out as given (4c47aa6), "FM (Factorization Machines) dates
    from 2010" had only "dates" left to claim, and was removed for it (detection set g031)."""
    passages = _articles("fm-ffm")
    asked = "When were FM and FFM proposed?"
    ok = check(
        "FM (Factorization Machines) dates from 2010 [1].", passages, tools, similarity, "en", asked
    )
    assert ok.removed == [] and "2010" in ok.text
    bad = check(
        "FM (Factorization Machines) dates from 2012 [1].", passages, tools, similarity, "en", asked
    )
    assert [c.text for c in bad.removed] == ["FM (Factorization Machines) dates from 2012"]


def test_a_sentence_left_with_only_its_such_as_part_is_dropped(tools, similarity):
    passages = [
        _p("深度神经网络只能处理数值数据。现实中有很多非数值的类别数据，比如产品的品牌、类目等。")
    ]
    zh = check(
        "深度神经网络只能处理数值数据 [1]。深度神经网络需要更多的计算资源，比如产品的品牌 [1]。",
        passages,
        tools,
    )
    assert zh.text == "深度神经网络只能处理数值数据 [1]。"
    assert zh.clauses[2].reason == "it depended on a removed clause"
    en = check(
        "Real-world data often contains 42 kinds of category data, such as product brands [1]. "
        "Deep networks only process numerical data [1].",
        passages,
        tools,
        similarity,
        lang="en",
    )
    assert en.text == "Deep networks only process numerical data [1]."


def test_the_evidence_is_the_sentence_that_says_the_clause(tools, similarity):
    # (the sentence the chain quotes as "来源 [1]：…": of the sentences holding the clause's
    # words, the one that says them in a row, not the shortest or the one e5 likes a hair more)
    walk = check(
        "醉汉问题 [1]。",
        _articles("random-walk"),
        tools,
        similarity,
        question="随机游走问题又被叫做什么?",
    )
    assert "叫做“醉汉问题”" in walk.clauses[0].evidence
    carlo = check(
        "蒙特卡洛方法不依赖环境模型 [1]。",
        _articles("monte-carlo-rl"),
        tools,
        similarity,
        question="蒙特卡洛方法不依赖什么?",
    )
    assert carlo.clauses[0].supported and "不依赖环境模型" in carlo.clauses[0].evidence


def test_a_kept_sentence_shows_the_formula_its_copy_left_out(tools, similarity):
    # the prompt gives the model the articles' sentences without [Math]; asked "线性 Attention
    # 为什么能降低复杂度?", it copied "这一步我们得到一个 的矩阵" and the reader saw a gap
    c = check(
        "这一步我们得到一个 的矩阵,就是这一步决定了Attention的复杂度是 [1]。",
        _articles("linear-attention"),
        tools,
        similarity,
        question="线性 Attention 为什么能降低复杂度?",
    )
    assert "得到一个 [Math] 的矩阵" in c.text and "复杂度是 [Math]" in c.text, c.text


def test_a_clause_said_again_in_a_later_sentence_goes(tools, similarity):
    # asked as a user, "How does DeepSeek-R1 improve reasoning?": the second sentence ended with
    # the first one's "focusing on…" word for word, and the reader read it twice
    focus = (
        "focusing on exploring LLMs' ability to develop reasoning capabilities without any "
        "supervision data"
    )
    said = (
        "It improves reasoning by using pure reinforcement learning (RL) to enhance language "
        f"model inference capabilities, {focus}. DeepSeek-R1-Zero first explores using pure RL "
        f"to improve language model inference capabilities, {focus}. [1]"
    )
    c = check(
        said,
        _articles("deepseek-r1"),
        tools,
        similarity,
        "en",
        "How does DeepSeek-R1 improve reasoning?",
    )
    assert c.text.count("focusing on") == 1, c.text
    assert "DeepSeek-R1-Zero first explores using pure RL" in c.text
    assert [x.reason for x in c.removed] == ["repeats an earlier sentence"]


def test_a_clause_said_twice_in_one_sentence_is_shown_once(tools, similarity):
    # asked as a user, "分类问题中为什么说“类别”是离散的?": the model said its two invented clauses
    # and the kept "而“类别”的概率是连续的" twice; once the invented ones went, the reader read the
    # kept one twice in a row, and the notice named each removed clause twice
    invented = "因为分类问题的输出结果是唯一的，比如“类别”是“狗”或“猫”"
    said = f"分类问题中“类别”是离散的，{invented}，而“类别”的概率是连续的，{invented}，而“类别”的概率是连续的。"
    c = check(
        said,
        _articles("differentiable-metrics"),
        tools,
        similarity,
        question="分类问题中为什么说“类别”是离散的?",
    )
    assert c.text.startswith("分类问题中“类别”是离散的，而“类别”的概率是连续的 [1]"), c.text
    assert c.text.count("连续") == 1, c.text
    assert "repeats an earlier sentence" in [x.reason for x in c.removed]
    assert (c.notice or "").count("唯一") == 1, c.notice


def test_citation_to_no_passage_is_dropped(tools):
    c = check("YOLO 直接在输出层回归 bounding box 的位置和类别 [7]。", P3, tools)
    assert c.dropped_numbers == [7]
    assert "[7]" not in c.text and c.text.endswith("[3]。") and c.cited == [3]
    assert "[7]" in (c.notice or "")


def test_fullwidth_and_grouped_citations_parse(tools):
    c = check(
        "DDIM 仅采样 20~100 步【1】。FlashAttention 无需访问 GPU 全局内存 [1, 2]。", P3, tools
    )
    assert c.cited == [1, 2] and c.removed == []


# ----------------------------------------------------------------------- numbers, names, negation
def test_numbers_are_checked_exactly(tools):
    ok = check("DDIM 仅采样 20~100 步就能达到相近的生成效果 [1]。", P3, tools)
    assert ok.removed == []
    bad = check("DDIM 仅采样 20~200 步就能达到相近的生成效果 [1]。", P3, tools)
    assert bad.removed and bad.removed[0].reason == "number 20~200 not in [1]"
    assert bad.removed[0].rule == "number"


def test_number_normalisation():
    keys = lambda t: [(n.low, n.high, n.percent) for n in numbers_in(t)]  # noqa: E731
    assert keys("10~50 倍") == keys("10-50 倍") == keys("10 to 50 times") == [(10.0, 50.0, False)]
    assert keys("1万 次")[0][0] == keys("ten thousand times")[0][0] == 10000.0
    assert keys("1,000 steps") == [(1000.0, 1000.0, False)]
    assert keys("2.8B") == [(2.8e9, 2.8e9, False)] and keys("50%") == [(50.0, 50.0, True)]
    assert keys("两种方案") == [(2.0, 2.0, False)] and keys("GPT-4o, DeepSeek-V3, S4") == []


def test_a_name_absent_from_the_passages_is_removed(tools):
    c = check("YOLO 和 Mask RCNN 都直接在输出层回归 bounding box 的位置 [3]。", P3, tools)
    assert c.removed and c.removed[0].reason == "'Mask RCNN' not in the passages"


def test_an_acronym_is_found_as_the_initials_of_the_words_it_stands_for(tools, similarity):
    search = [
        _p(
            "为了提高推理能力,人们尝试了过程奖励模型、强化学习以及搜索算法"
            "(蒙特卡洛树搜索(Monte Carlo Tree Search)、束搜索(Beam Search))。",
            "deepseek-r1",
        )
    ]
    ok = check("MCTS and Beam Search [1].", search, tools, similarity, lang="en")
    assert not ok.removed and ok.text == "MCTS and Beam Search [1]."
    bad = check("MCTS and PPO [1].", search, tools, similarity, lang="en")
    assert [c.reason for c in bad.removed] == ["'PPO' not in the passages"]


def test_negation_not_in_the_source_is_removed(tools):
    ok = check("FlashAttention 无需访问 GPU 全局内存来存储中间结果 [2]。", P3, tools)
    assert ok.removed == []
    bad = check("FlashAttention 需要访问 GPU 全局内存来存储中间结果 [2]。", P3, tools)
    assert bad.removed and bad.removed[0].reason.startswith("negation not in the source")


@pytest.mark.parametrize(
    ("doc", "bad", "ok"),
    [
        # held-out detection set (dev): "…have already reached … comparable to the OpenAI o1
        # series" over "这些方法尚未达到与 OpenAI o1 系列模型相当的通用推理性能" had been kept
        (
            "deepseek-r1",
            "These methods have already reached general reasoning performance comparable to "
            "the OpenAI o1 series [1].",
            "These methods have not yet reached general reasoning performance comparable to "
            "the OpenAI o1 series [1].",
        ),
        # detection set (dev): "从数据而非模型中学习": 而非 negates 模型
        (
            "monte-carlo-rl",
            "Mean estimation is the basis for understanding learning from data together with a "
            "known model [1].",
            "Mean estimation is the basis for understanding learning from data rather than from "
            "a model [1].",
        ),
    ],
)
def test_an_english_clause_asserting_what_the_chinese_source_negates_is_removed(
    doc, bad, ok, tools, similarity
):
    passages = _articles(doc)
    removed = check(bad, passages, tools, similarity, "en").removed
    assert [c.reason for c in removed] == ["negation not in the source [1]"]
    assert check(ok, passages, tools, similarity, "en").removed == []


def test_a_negation_is_not_contradicted_by_what_the_source_says_of_another_name(tools, similarity):
    """Asked as a user: "Why is YOLO fast?" lost its answer, "…because it directly predicts
    bounding box positions and classes without using proposals and classifiers", as a negation
    not in the source: the sentence with most of its words says "但是fasterRCNN整体还是采用了RCNN那种
    proposal+classifier的思想" — of Faster R-CNN, the contrast the article draws with YOLO. Likewise
    (a stored answer, m078) "[N_RF] is not the same as the receptive field itself" over "其中,RF
    是感受野 … 不要和RF混淆". What the source says of the clause's own subject still counts."""
    yolo = _articles("yolo")
    answer = (
        "YOLO is fast because it directly predicts bounding box positions and classes without "
        "using proposals and classifiers [1]."
    )
    c = check(answer, yolo, tools, similarity, "en", question="Why is YOLO fast?")
    assert c.removed == [] and c.text == answer
    bad = check(
        "YOLO does not regress the bounding box positions [1].", yolo, tools, similarity, "en"
    )
    assert [r.reason for r in bad.removed] == ["negation not in the source [1]"]
    rf = _articles("receptive-field")
    said = "It is not the same as the receptive field itself [1]."
    ok = check(said, rf, tools, similarity, "en", question="Is N_RF the receptive field itself?")
    assert not any(r.reason.startswith("negation") for r in ok.removed), ok.removed


def test_a_chinese_negation_said_of_another_name_is_no_contradiction(tools, similarity):
    """Asked as a user, "Anchor-free 检测器和 anchor-based 的区别是什么?" lost the model's right
    "而 anchor-based 的检测器使用锚框来预测目标的位置和形状" as "negation not in the source": the
    sentence with its words is "而在"anchorfree"方法中,不再使用锚框…", said of anchor-free
    detectors. A negation said of the clause's own name still contradicts it."""
    passages = _articles("anchor-free", "small-object-detection")
    question = "Anchor-free 检测器和 anchor-based 的区别是什么?"
    answer = (
        "Anchor-free 检测器直接预测目标的位置和形状,而 anchor-based 的检测器使用锚框来预测目标的"
        "位置和形状 [1]。"
    )
    c = check(answer, passages, tools, similarity, question=question)
    assert c.removed == [] and c.text == answer, [(r.text, r.reason) for r in c.removed]
    bad = check("anchorfree 方法使用锚框 [1]。", passages, tools, similarity, question=question)
    assert [r.reason for r in bad.removed] == ["negation not in the source [1]"], bad.removed


def test_a_clause_repeating_the_question_rests_on_a_passage_that_speaks_of_it(tools, similarity):
    """A stored answer (m114): "What does the @tf_export decorator do for a function?" got
    "It is a way to make functions available for use in TensorFlow's API [3]" from the
    FeatureColumn passage's "Tensorflow平台提供的FeatureColumn API…", which never speaks of
    functions (函数), while [1] does. The question's word it repeats is no claim of its own, but
    a passage that lacks every such word is not where it comes from; with none in any passage
    there is nothing to compare, and the clause is judged as before."""
    tf_export = _p(
        "@tf_export为函数取了个名字! Tensorflow经常看到定义的函数前面加了@tf_export。"
        "首先,@tf_export是一个修饰符。修饰符的本质是一个函数。",
        "tf-export",
    )
    columns = _p(
        "特征工程是机器学习流程中重要的一个环节。Tensorflow平台提供的FeatureColumn API为特征工程"
        "提供了强大的支持。",
        "tf-feature-column",
        1,
    )
    question = "What does the @tf_export decorator do for a function?"
    answer = "It is a way to make functions available for use in TensorFlow's API [2]."
    c = check(answer, [tf_export, columns], tools, similarity, "en", question=question)
    assert [r.reason for r in c.removed] == ["'functions' not in [2], the passage it rests on"]
    # no passage speaks of functions: nothing tells one passage from the other
    c = check(answer, [columns], tools, similarity, "en", question=question)
    assert not any("rests on" in r.reason for r in c.removed), c.removed


def test_a_passage_naming_the_questions_subject_speaks_of_it(tools, similarity):
    """A user asked "What does SPP stand for and what problem does it solve?" and lost the
    model's right "It solves the problem of detecting objects of different scales…": it rests on
    the SPP article, which names neither "solve" nor "problem", while the random-walk article
    writes 问题 (problem). The SPP article names the question's subject, so it does speak of it."""
    passages = _articles("spp", "random-walk")
    question = "What does SPP stand for and what problem does it solve?"
    answer = (
        "SPP stands for Spatial Pyramid Pooling [1]. It solves the problem of detecting objects "
        "of different scales by dividing the feature maps into m×m bins [1]."
    )
    c = check(answer, passages, tools, similarity, "en", question=question)
    assert c.removed == [] and c.text == answer, [(r.text, r.reason) for r in c.removed]


def test_chinese_paraphrase_words_that_claim_nothing_of_their_own(tools, similarity):
    """The third detection set (dev): correct Chinese paraphrases lost a clause for a particle
    (的话), a degree adverb jieba joins to its word (比较慢 over "通常是缓慢的") and a magnitude read as
    an exact figure (上千个 over "上千候选"). A magnitude is still checked as one."""
    for answer, doc in (
        ("如果两者都没有的话，就无法找到最优策略 [1]。", "monte-carlo-rl"),
        ("这种方法通常比较慢 [1]。", "small-object-detection"),
        ("面对上千个候选时，精排有时也无法落地更复杂的模型 [1]。", "rerank"),
    ):
        c = check(answer, _articles(doc), tools, similarity)
        assert c.removed == [] and c.text == answer, (answer, [x.reason for x in c.removed])
    # a variant the articles write besides the model's word: 通讯 for 通信
    said = "各个进程通过 RingReduce 的方法与其他进程通信，交换各自的梯度 [1]。"
    assert check(said, _articles("pytorch-ddp"), tools, similarity).removed == []
    bad = "上万个候选的精排有时也无法落地更复杂的模型 [1]。"
    c = check(bad, _articles("rerank"), tools, similarity)
    assert [x.reason for x in c.removed] == ["number 上万 not in [1]"]


def test_a_layer_is_not_found_as_the_lay_of_a_foundation(tools, similarity):
    # "What does the coupling layer in NICE do?" over the NICE article, which never speaks of
    # one: "The coupling layer in NICE does the same thing as the coupling layer in Glow [1]"
    # was kept, "layer" found as "lay" (奠基 of "glow的奠基石")
    nice = _articles("nice-flow")
    q = "What does the coupling layer in NICE do?"
    answer = "The coupling layer in NICE does the same thing as the coupling layer in Glow [1]."
    c = check(answer, nice, tools, similarity, "en", question=q)
    assert c.empty and c.removed[0].reason == "'coupling layer' not in the passages"


def test_spending_work_is_needing_it(tools, similarity):
    # the held-out detection set's dev half (g002): "这可能要花大量人工工作" was removed as "'要花'
    # not in the passages" over "这可能需要大量的人工工作"
    anchor = _articles("anchor-free")
    answer = "传统目标检测方法需要事先定义并生成一组锚框，这可能要花大量人工工作 [1]。"
    assert check(answer, anchor, tools, similarity).removed == []
    assert check("这可能要花大量算力 [1]。", anchor, tools, similarity).removed


def test_threads_no_passage_mentions_are_a_claim(tools, similarity):
    # asked as a user: "Does DDP use multiple threads in one process?" was answered "Yes, DDP
    # uses multiple threads in one process [1]." and kept: the DDP article starts N processes and
    # never speaks of threads, but the words were the question's
    ddp = _articles("pytorch-ddp")
    q = "Does DDP use multiple threads in one process?"
    c = check("Yes, DDP uses multiple threads in one process [1].", ddp, tools, similarity, "en", q)
    assert c.empty and c.removed[0].reason == "'multiple threads' not in the passages"
    no = check("No, DDP uses multiple processes, one per GPU [1].", ddp, tools, similarity, "en", q)
    assert no.removed == []
    # threads set aside ("instead of multiple threads") are no claim that the passages have them
    why = "Why does DDP use multiple processes instead of multiple threads?"
    aside = "DDP uses multiple processes instead of multiple threads [1]."
    assert not check(aside, ddp, tools, similarity, "en", why).empty


def test_a_fraction_is_one_figure_not_its_two_numerals(tools, similarity):
    # "醉汉问题中粒子回到原点的概率是多少?" was answered "概率是 1/2" and kept: the article has a
    # "+1" and a 二项分布, and no probability of returning at all
    walk = _articles("random-walk")
    q = "醉汉问题中粒子回到原点的概率是多少?"
    c = check("醉汉问题中粒子回到原点的概率是 1/2 [1]。", walk, tools, similarity, question=q)
    assert [x.reason for x in c.removed] == ["number 1/2 not in [1]"]
    half = [_p("每一步向前的概率是 1/2,向后的概率也是 1/2。", "walk")]
    assert check("每一步向前的概率是 1/2 [1]。", half, tools, similarity).removed == []
    assert check("每一步向前的概率是二分之一 [1]。", half, tools, similarity).removed == []
    # "0/1" in a passage is the values 0 and 1, and no fraction to an answer's "0 和 1"
    binary = [_p("训练数据只有0/1的值。", "ctr")]
    assert check("训练数据只有 0 和 1 的值 [1]。", binary, tools, similarity).removed == []


def test_a_figure_from_another_part_of_the_sentence_is_swapped(tools, similarity):
    # asked as a user: "Does DeepSeek-V3 activate all 671B parameters for each token?" was
    # answered "Yes, DeepSeek-V3 activates all 671B parameters for each token (\"每个 token 会激活
    # 37B 个参数\") [1]." and kept: the sentence has 671B, of the total ("总参数量达到 671B,其中
    # 每个 token 会激活 37B 个参数")
    v3 = [_p(_body("deepseek-v3"), "deepseek-v3")]
    q = "Does DeepSeek-V3 activate all 671B parameters for each token?"
    answer = 'Yes, DeepSeek-V3 activates all 671B parameters for each token ("每个 token 会激活 37B 个参数") [1].'
    c = check(answer, v3, tools, similarity, "en", question=q)
    assert c.empty and c.removed[0].reason == "'671B' where [1] says '37B'"
    zh = check("DeepSeek-V3 每个 token 激活 671B 参数 [1]。", v3, tools, similarity)
    assert [x.reason for x in zh.removed] == ["'671B' where [1] says '37B'"]
    # each figure with its own part stays, and so does a clause that gives both
    for kept in (
        "DeepSeek-V3 的总参数量是 671B [1]。",
        "DeepSeek-V3 每个 token 激活 37B 参数 [1]。",
        "DeepSeek-V3 has 671B total parameters, of which 37B are activated for each token [1].",
    ):
        assert check(kept, v3, tools, similarity, "zh" if "的" in kept else "en").removed == []


def test_a_removed_figure_is_named_by_the_one_no_passage_has(tools, similarity):
    # "number 0 not in [1]" was given for "0/1 两种取值" over "训练数据只有0/1的值": the 0 is there
    ctr = _articles("ctr-prediction")
    answer = (
        "因为我们没办法把同一个广告给同一个用户展示1 万次再统计点击次数来估计真实点击率，"
        "所以训练数据只有 0/1 两种取值 [1]。"
    )
    c = check(answer, ctr, tools, similarity, question="为什么CTR预估的训练数据只有0和1？")
    assert [x.reason for x in c.removed] == ["number 两 not in [1]"]


def test_a_degree_word_claims_nothing_of_its_own(tools, similarity):
    # the third detection set (dev): "far" in "far fewer steps" was looked for in the article
    ddim = _articles("ddim")
    answer = (
        "DDIM derives the reverse diffusion process without relying on the Markov assumption, "
        "which lets it sample in far fewer steps than DDPM's 1000 [1]."
    )
    c = check(answer, ddim, tools, similarity, "en", question="How does DDIM speed up DDPM?")
    assert c.removed == [] and c.text == answer


def test_a_comparative_the_chinese_source_does_not_make_is_removed(tools, similarity):
    """Detection set (dev): "…more advanced activation functions that are consistently better
    than ReLU" was kept on "使用不同的(更高级的)激活函数" (a comparison, but of another word)."""
    act = _articles("llm-activations")
    head = "Recent LLMs each use slightly different, more advanced activation functions"
    bad = check(f"{head} that are consistently better than ReLU [1].", act, tools, similarity, "en")
    assert [c.text for c in bad.removed] == [
        "more advanced activation functions that are consistently better than ReLU"
    ]
    assert check(f"{head} [1].", act, tools, similarity, "en").removed == []
    # a speed-up said as a multiple is a comparison made ("提速 10~50 倍")
    ddim = _articles("ddim")
    fast = check("DDIM samples 10 to 50 times faster than DDPM [1].", ddim, tools, similarity, "en")
    assert fast.removed == []


def test_a_word_the_source_states_besides_negating_it_is_not_negated(tools, similarity):
    """ "无需预定义锚框: 在传统目标检测方法中,需要事先定义和生成一组锚框": the anchor boxes are
    negated once and stated once, so a clause that asserts them stands; "hardly any" negates."""
    anchor = _articles("anchor-free")
    head = "Traditional detectors must define and generate a set of anchor boxes in advance"
    ok = check(f"{head}, which can take a lot of manual work [1].", anchor, tools, similarity, "en")
    assert ok.removed == []
    bad = check(f"{head}, which takes hardly any manual work [1].", anchor, tools, similarity, "en")
    assert [c.text for c in bad.removed] == ["which takes hardly any manual work"]


def test_an_english_negation_of_a_term_the_chinese_text_keeps_in_english(tools, similarity):
    ddp = [_p(_body("pytorch-ddp"), "pytorch-ddp")]
    bad = check("So DDP is not data parallelism [1].", ddp, tools, similarity, "en")
    assert bad.removed and bad.removed[0].reason.startswith("negation not in the source")
    # "without X" is often "去掉 X" in Chinese: a removal verb negates the term too
    la = [_p(_body("linear-attention"), "linear-attention")]
    ok = check(
        "Without Softmax, attention becomes a product of three matrices [1].",
        la,
        tools,
        similarity,
        "en",
    )
    assert not any(r.reason.startswith("negation") for r in ok.removed)


def test_chinese_clause_over_an_english_sentence_uses_the_glossary_backwards(tools):
    # a passage sentence without Chinese: the clause's Chinese terms are looked up through the
    # English words they render (this crashed: the glossary had no Chinese -> English table)
    english = [_p("Prefix tuning optimizes continuous prompts. DDIM speeds up sampling.", "pt")]
    c = check("DDIM 加速了采样 [1]。", english, tools)
    assert c.removed == [] and c.text == "DDIM 加速了采样 [1]。"
    # what no English word of the passage renders is still a miss
    assert check("DDIM 节省了显存 [1]。", english, tools).removed


def test_chinese_clause_over_a_mixed_passage_reads_its_english_words_too(tools):
    # a passage that opens in Chinese and goes on in English (a model card quoted in an
    # article): "总参数 16B" stands on "(16B total) parameters"; it was removed for '总'
    mixed = [
        _p("视觉语言模型的语言部分: Moonlight MoE language model, 16B total parameters.", "kv")
    ]
    c = check("语言部分总参数 16B [1]。", mixed, tools)
    assert c.removed == [] and c.text == "语言部分总参数 16B [1]。"
    assert check("语言部分节省了显存 [1]。", mixed, tools).removed


def test_a_yes_or_no_is_never_removed_from_the_statement_it_answers(tools, similarity):
    # seen on a held-out question: the model answered "不是。<the question restated>" and the
    # check removed only "不是", leaving the opposite answer in the article's name
    flow = [_p(_body("nice-flow"), "nice-flow")]
    q = "基于流的生成模型,是比 VAE 和 GAN 更晚才出现的吗?"
    wrong = check(
        "不是。基于流的生成模型是比 VAE 和 GAN 更晚才出现的 [1]。",
        flow,
        tools,
        similarity,
        question=q,
    )
    assert wrong.empty and len(wrong.removed) == 1 and wrong.removed[0].text.startswith("不是。")
    right = check("不是。flow 的历史和 VAE、GAN 一样悠久 [1]。", flow, tools, similarity)
    assert right.removed == [] and right.text == "不是。flow 的历史和 VAE、GAN 一样悠久 [1]。"
    english = check("No. It reuses the trained DDPM model [1].", flow, tools, lang="en")
    assert [c.text for c in english.clauses] == ["No. It reuses the trained DDPM model"]


def test_an_english_yes_is_not_a_word_the_passages_must_contain(tools, similarity):
    # asked as a user: "Does the new Transformer variant proposed in FLASH still have quadratic
    # complexity?" got this right answer, removed for "'Yes' not in the passages"
    flash = [_p(_body("flash-gau"), "flash-gau")]
    q = "Does the new Transformer variant proposed in FLASH still have quadratic complexity?"
    answer = (
        "Yes, the new Transformer variant proposed in FLASH still has quadratic complexity "
        '("提出了一种新的Transformer变体,它依然具有二次的复杂度") [1].'
    )
    c = check(answer, flash, tools, similarity, lang="en", question=q)
    assert c.removed == [] and c.text == answer


def test_participial_phrases_go_with_the_main_clause_they_hung_on(tools, similarity):
    # asked as a user ("What is the receptive field of a CNN layer?"): the main clause went (the
    # passage it rested on does not name CNN) and the answer opened "Tracing back to the input
    # image, and computing the receptive field for each layer [2]."
    rf = [_p(_body("spp"), "spp"), _p(_body("receptive-field"), "receptive-field")]
    answer = (
        "The receptive field of a CNN layer is calculated by iterating from the top to the "
        "bottom of the network, tracing back to the input image, and computing the receptive "
        "field for each layer [2]."
    )
    q = "What is the receptive field of a CNN layer?"
    c = check(answer, rf, tools, similarity, lang="en", question=q)
    assert "racing back" not in c.text, c.text
    assert {x.reason for x in c.removed[1:]} == {"its sentence lost its main clause"}


def test_an_english_ordinal_is_found_as_the_chinese_one(tools, similarity):
    # a CMRC-English answer lost "third" although its passage says 第三小径
    passage = [_p("希腊人封锁了隘道,以防止薛西斯利用巨大的骑兵部队从第三小径迂回过去。", "pass")]
    q = "Why did the Greeks block the pass?"
    ok = check(
        "They feared the cavalry would use the third small path [1].",
        passage,
        tools,
        similarity,
        lang="en",
        question=q,
    )
    assert ok.removed == [], [c.verdict() for c in ok.clauses]
    wrong = check(
        "They feared the cavalry would use the fifth small path [1].",
        passage,
        tools,
        similarity,
        lang="en",
        question=q,
    )
    assert wrong.text == "", wrong.text


def test_a_cost_improved_where_the_passage_says_it_grew_is_removed(tools, similarity):
    # asked as a user: "FFM 相比 FM 改进了什么?" was answered "FFM 相比 FM 改进了计算时间复杂度 [1]。"
    # over "FFM相比于FM的计算时间复杂度更高": every word is in the passage, the direction is not
    ffm = [_p(_body("fm-ffm"), "fm-ffm")]
    zh = check(
        "FFM 相比 FM 改进了计算时间复杂度 [1]。",
        ffm,
        tools,
        similarity,
        question="FFM 相比 FM 改进了什么?",
    )
    assert zh.text == "" and zh.removed, zh.text
    # the reason the reader (and `rag ask --json`) gets is the rule's, on the sentence that has
    # the words; it had been "'复杂度' not in the evidence sentence of [1]", over a sentence of
    # another article that some other candidate scored a little higher with the model
    retrieved = check(
        "FFM 相比 FM 改进了计算时间复杂度 [1]。",
        _articles("fm-ffm", "deepseek-r1"),
        tools,
        similarity,
        question="FFM 相比 FM 改进了什么?",
    )
    assert retrieved.removed[0].reason == "'改进' where [1] says '更高'", retrieved.removed[0]
    assert "更高" in retrieved.removed[0].evidence
    en = check(
        "FFM improves the computational time complexity of FM [1].",
        ffm,
        tools,
        similarity,
        lang="en",
        question="What does FFM improve over FM?",
    )
    assert en.text == "" and en.removed, en.text
    # what the passage says stays
    right = check(
        "FFM 的计算时间复杂度更高，但提高了模型的表达能力 [1]。",
        ffm,
        tools,
        similarity,
        question="FFM 相比 FM 有什么代价?",
    )
    assert right.removed == [], [c.verdict() for c in right.clauses]


def test_a_relative_clause_goes_with_the_removed_clause_it_described(tools, similarity):
    # asked as a user: with the invented middle clause removed, "which is a paper titled …"
    # described S4 instead of HiPPO: the kept text gave S4 HiPPO's title
    ssm = [_p(_body("ssm-hippo"), "ssm-hippo")]
    answer = (
        "Although we say SSM originated from S4, it was also a powerful foundation work from "
        "2021's HiPPO, which is a paper titled \"Recurrent Memory with Optimal Polynomial "
        'Projections" (HiPPO), so this article starts from HiPPO [1].'
    )
    q = "What is generally considered the first SSM work in deep learning?"
    c = check(answer, ssm, tools, similarity, lang="en", question=q)
    assert "Recurrent Memory" not in c.text and "S4" in c.text
    assert any(x.reason == "it depended on a removed clause" for x in c.removed)


def test_a_pronoun_clause_goes_with_the_removed_clause_that_named_its_subject(tools, similarity):
    # asked as a user: with "The bias term is added to …" removed, "and it is multiplied by the
    # weight of the corresponding input neuron" stayed as "It is multiplied … [2]", resting on
    # the feature-column article's neurons (the bias is never multiplied by a weight there)
    passages = [_p(_body("bias-in-dl"), "bias-in-dl"), _p(_body("tf-feature-column"), "tfc")]
    answer = (
        "The bias term is added to the output of the activation function, and it is multiplied "
        "by the weight of the corresponding input neuron."
    )
    q = "What is the purpose of the bias term in a neural network?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "multiplied" not in c.text
    assert any(x.reason == "it depended on a removed clause" for x in c.removed)


def test_a_word_is_not_rendered_by_a_shorter_word_that_begins_it(tools, similarity):
    # "differentiable" borrowed the renderings of "differ" (不同, 不一…): the evidence picked for
    # "accuracy is not differentiable" was "正确率不一定上升" and the clause was removed beside
    # the passage's own "正确率是不可导的"
    passages = [_p(_body("differentiable-metrics"), "differentiable-metrics")]
    answer = (
        "Using the negative of accuracy as the loss would be ideal, but accuracy is not "
        "differentiable, so it cannot be used directly [1]."
    )
    c = check(answer, passages, tools, similarity, lang="en", question="Why not use accuracy?")
    assert c.removed == [] and c.text == answer


def test_two_uncited_clauses_of_a_sentence_settle_on_the_passage_that_holds_both(tools, similarity):
    # asked as a user: "One solution is to use reinforcement learning, where the accuracy is
    # set as a reward function." came back "…reinforcement learning [5], where … [1]": each
    # clause took the passage its neighbour liked best ([1] supported both)
    passages = _articles(
        "differentiable-metrics", "linear-attention", "bias-in-dl", "dpo", "reparameterization"
    )
    answer = (
        "Therefore, accuracy cannot be used as a loss function directly. One solution is to use "
        "reinforcement learning, where the accuracy is set as a reward function."
    )
    q = "Why can't accuracy be used directly as a loss function?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "reinforcement learning, where the accuracy is set as a reward function [1]." in c.text


def test_an_aside_in_parentheses_is_a_claim_of_its_own(tools, similarity):
    # asked as a user: "(it involves the operation of taking the logarithm of the
    # probabilities, …)" rode along with "because it is not differentiable" and was judged as
    # one clause with it
    passages = [_p(_body("differentiable-metrics"), "differentiable-metrics")]
    answer = (
        "Accuracy cannot be the loss because it is not differentiable (it involves the operation "
        "of taking the logarithm of the probabilities) [1]."
    )
    c = check(answer, passages, tools, similarity, lang="en", question="Why not accuracy?")
    texts = [x.text.strip() for x in c.clauses]
    assert "(it involves the operation of taking the logarithm of the probabilities)" in texts
    glossed = check("It uses the heatmap (热图) [1].", passages, tools, similarity, lang="en")
    assert len(glossed.clauses) == 1


def test_a_cited_restatement_keeps_its_number_when_its_sentence_rests_on_it(tools, similarity):
    # asked as a user ("What is DPO?" then "Why doesn't it need a reward model?"): the
    # restating clause moved from the model's [1] to [5], the rectified-flow article, while
    # the rest of its sentence rested on [1]
    passages = _articles("dpo", "deepseek-r1", "rl-basics", "spp", "rectified-flow")
    answer = (
        "It doesn't need a reward model because DPO discovers a mathematical shortcut: "
        "transforming two tasks into a single task [1]."
    )
    q = "What is DPO? Why doesn't it need a reward model?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert c.text.endswith("[1].") and all(x.support == [1] for x in c.clauses if x.supported)


def test_what_follows_a_clause_removed_for_its_name_goes_with_it(tools, similarity):
    # asked as a user (not covered): with "Mamba's selective scan works by dividing the feature
    # maps…" removed (the SPP passage does not name Mamba), "It replaces the last pooling
    # layer…" (it = Mamba's scan) and the remnant "Equals 1, 2, and 4 respectively" stayed
    passages = [_p(_body("spp"), "spp"), _p(_body("ssm-hippo"), "ssm-hippo")]
    answer = (
        "Mamba's selective scan works by dividing the feature maps into m×m bins with m, say, "
        "equals 1, 2, and 4 respectively. It replaces the last pooling layer with a spatial "
        "pyramid pooling layer [1]."
    )
    q = "How does Mamba's selective scan work?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "replaces" not in c.text and "respectively" not in c.text


def test_a_term_the_question_spells_out_must_be_in_the_passage_the_clause_rests_on(
    tools, similarity
):
    """Asked as a user, "How does a feature pyramid network combine features?" was answered "A
    feature pyramid network combines features by dividing the feature maps into m×m bins…
    [2]": SPP's pooling, from the SPP article, which never mentions FPN."""
    passages = _articles("image-feature-pyramid", "spp")
    q = "How does a feature pyramid network combine features?"
    bad = check(
        "A feature pyramid network combines features by dividing the feature maps into m×m "
        "bins [2].",
        passages,
        tools,
        similarity,
        lang="en",
        question=q,
    )
    assert bad.text == "" and "'FPN' not in [2]" in bad.removed[0].reason
    # the article that writes FPN (and 特征金字塔) supports what it says of it
    ok = check(
        "A feature pyramid network approximates the image pyramid directly at the feature "
        "level [1].",
        passages,
        tools,
        similarity,
        lang="en",
        question=q,
    )
    assert ok.removed == [], ok.removed


def test_a_name_the_passage_writes_in_chinese_is_in_it(assistant, similarity):
    # a replayed test answer: "Monte Carlo methods learn the optimal policy … [1]" was removed
    # as "'Monte' not in [1]" beside the passage's 蒙特卡洛方法, because another passage writes
    # "Monte Carlo Tree Search" in Latin letters
    q = "How do Monte Carlo methods learn the optimal policy without an environment model?"
    passages = assistant.retrieve(q)
    answer = (
        "Monte Carlo methods learn the optimal policy without an environment model by directly "
        "interacting with the environment to obtain experience data [1]."
    )
    tools = {"terms": BM25Tokenizer(), "glossary": assistant.answer_tools.glossary}
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert c.removed == [] and c.text == answer


def test_a_chinese_sentence_cut_off_at_an_ellipsis_ends_with_a_chinese_full_stop(tools):
    # asked as a user: the model copied a quote the article cuts off ("…S4、Mam...") and the
    # checked answer ended "…Mam [1]." in the middle of Chinese text
    passages = _articles("ssm-hippo")
    c = check("另外值得一提的是,SSM 代表作 HiPPO、S4、Mam... [1]。", passages, tools)
    assert c.text.endswith("[1]。") and not c.text.endswith(".")


def test_a_quoted_gloss_the_passages_never_wrote_goes_and_the_clause_stays(tools, similarity):
    # a real dev answer: "排序的依据就是 CTR×bid ("点击率×广告ID")" was removed whole for the
    # gloss's "ID", taking the answer (ctr×bid) with it; a faithful quote stays
    passages = _articles("ctr-prediction")
    answer = 'In auction-based ads, ads are sorted by CTR×bid ("点击率×广告ID") [1].'
    q = "In auction-based advertising, what quantity are ads sorted by?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "CTR×bid [1]" in c.text and "广告ID" not in c.text
    assert [x.reason for x in c.removed] == ["a quote the passages do not have"]
    assert "点击率×广告ID" in (c.notice or "")
    faithful = 'CTR prediction is a basic problem ("最基本而又最重要的问题") [1].'
    assert check(faithful, passages, tools, similarity, lang="en").text == faithful


def test_a_figure_that_counts_something_else_in_the_source_is_removed(tools, similarity):
    # a real dev answer to "How many experts does DeepSeek-V3 route each token to?" (not
    # covered): "Each token is routed to 37B experts" over "每个 token 会激活 37B 个参数"
    passages = _articles("deepseek-v3")
    q = "How many experts does DeepSeek-V3 route each token to?"
    wrong = check("Each token is routed to 37B experts [1].", passages, tools, similarity, "en", q)
    assert wrong.text == "" and "37B 个参数" in wrong.removed[0].reason
    right = "DeepSeek-V3 has 671B total parameters, of which 37B are activated for each token [1]."
    assert check(right, passages, tools, similarity, "en", q).text == right


def test_a_chinese_clause_going_on_with_a_sentence_removed_for_its_subject_goes(tools, similarity):
    """Asked for the core idea of Rectified Flow, the embedded model answered with YOLO's
    passage; its first clause was removed (the YOLO passage does not name Rectified Flow) and
    the user was shown "直接在输出层回归bounding box的位置… [2]" as Rectified Flow's idea."""
    answer = (
        "Rectified Flow 的核心思想是利用整张图作为网络的输入,"
        "直接在输出层回归bounding box的位置和bounding box所属的类别 [2]。"
    )
    c = check(
        answer,
        _articles("rectified-flow", "yolo"),
        tools,
        similarity,
        question="Rectified Flow 的核心思想是什么?",
    )
    assert "bounding box" not in c.text
    assert "回归" in " ".join(r.text for r in c.removed)


def test_a_pronoun_sentence_after_a_name_no_passage_has_goes_with_it(tools, similarity):
    # a replayed test answer (batch normalization is not covered): with "BatchNorm behaves
    # differently…" removed ('BatchNorm' not in the passages) and its invented quote dropped,
    # "It normalizes the activations over the entire batch [3]" stayed on the DDPG passage
    passages = _articles("spp", "reparameterization", "ddpg", "flash-gau", "fm-ffm")
    answer = (
        "At inference time, BatchNorm behaves differently by using the learned parameters to "
        "scale and shift the activations. It normalizes the activations over the entire batch "
        '("在每个 mini-batch 上对激活值做归一化") [1].'
    )
    q = "How does batch normalization behave differently at inference time?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert c.text == "" and "normalizes" not in c.text


def test_a_chinese_word_the_passage_says_with_a_synonym_is_there(tools, similarity):
    # asked as a user: "query suggestion 有什么作用?" answered "query suggestion 用于提高搜索增长
    # [1]。" was removed for "'提高' not in the passages" beside the passage's 提升
    passages = _articles("query-suggestion")
    answer = "query suggestion 用于提高搜索增长 [1]。"
    c = check(answer, passages, tools, similarity, question="query suggestion 有什么作用?")
    assert c.removed == [] and c.text == answer


def test_what_a_clause_says_of_a_name_the_question_gave_rests_on_a_passage_naming_it(
    tools, similarity
):
    # asked as a user (not covered: the articles only mention Mamba): the model described SPP
    # under Mamba's name, citing the SPP passage, and the check kept it
    passages = [_p(_body("spp"), "spp"), _p(_body("ssm-hippo"), "ssm-hippo")]
    q = "How does Mamba's selective scan work?"
    answer = "Mamba's selective scan works by dividing the feature maps into m×m bins [1]."
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "Mamba" not in c.text
    assert any("'Mamba' not in [1]" in x.reason for x in c.removed)
    # the same words about SPP, asked about SPP, rest on the SPP passage and stay
    q = "How does SPP pool the feature maps?"
    answer = "SPP divides the feature maps into m×m bins [1]."
    assert check(answer, passages, tools, similarity, lang="en", question=q).removed == []


def test_a_with_phrase_is_not_shown_alone_when_its_main_clause_went(tools, similarity):
    # asked as a user (the article gives no training time): the invented main clause went and
    # "With each token activating 37B parameters [1]." was shown as the answer
    v3 = [_p(_body("deepseek-v3"), "deepseek-v3")]
    answer = (
        "It took 24 years 12 months to train DeepSeek-V3 on 671B parameters, "
        "with each token activating 37B parameters [1]."
    )
    q = "How much total GPU time did DeepSeek-V3 training take?"
    c = check(answer, v3, tools, similarity, lang="en", question=q)
    assert c.empty and c.text == ""
    # nor a "but rather" clause ("Rather from a random sampling model to an ODE model [1].")
    rf = [_p(_body("rectified-flow"), "rectified-flow")]
    answer = (
        "Because the DDPM to DDIM route is not directly from a random sampling model to a "
        "deterministic model, but rather from a random sampling model to an ODE model [1]."
    )
    q = "Why is the DDPM to DDIM route described as roundabout?"
    c = check(answer, rf, tools, similarity, lang="en", question=q)
    assert not c.text.startswith("Rather")


def test_an_as_it_clause_is_not_shown_alone_when_its_main_clause_went(tools, similarity):
    # asked as a user: the invented main clause (VAEs are not in the passage) went and
    # "As it allows for the use of discrete distributions [1]." was left as the answer
    rp = [_p(_body("reparameterization"), "reparameterization")]
    answer = (
        "The reparameterization trick is used to train variational autoencoders with GANs, "
        "as it allows for the use of discrete distributions [1]."
    )
    q = "What is the reparameterization trick used for?"
    c = check(answer, rp, tools, similarity, lang="en", question=q)
    assert not c.text.startswith("As it")


def test_the_other_branch_of_a_removed_condition_is_not_shown_alone(tools, similarity):
    """Asked as a user, "Why do we need a bias term in a perceptron?" showed "Otherwise it
    outputs 0 [2]." once "if the weighted sum is greater than or equal to the bias term, the
    perceptron outputs 1" went: "otherwise" of what the reader no longer sees."""
    passages = _articles("bias-in-dl", "llm-activations")
    answer = (
        "We need a bias term because it lets the perceptron learn the threshold [1]. If the "
        "weighted sum is greater than or equal to the bias term, the perceptron outputs 1, "
        "otherwise it outputs 0 [1]."
    )
    q = "Why do we need a bias term in a perceptron?"
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert "outputs 1" not in c.text and "therwise" not in c.text, c.text
    assert "learn the threshold" in c.text


def test_an_answer_does_not_open_with_a_word_pointing_at_a_removed_sentence(tools, similarity):
    # asked as a user: the invented first sentence went and the answer opened "Specifically,"
    ddp = [_p(_body("pytorch-ddp"), "pytorch-ddp")]
    answer = (
        "You can install PyTorch on Windows by running the pip installer [1]. Specifically, you "
        "should use the official PyTorch docker to avoid environment problems [1]."
    )
    q = "How do I install PyTorch on Windows?"
    c = check(answer, ddp, tools, similarity, lang="en", question=q)
    assert "docker" in c.text
    assert not c.text.startswith("Specifically")


def test_a_restating_clause_cites_its_sentence_and_a_run_of_clauses_cites_once(tools, similarity):
    # asked as a user: "It allows inputs of any size [4] because … with m, say [1], equals 1,
    # 2 [1], and 4 respectively [1]." — the restatement cited YOLO's "整张图作为网络的输入"
    passages = [_p(_body("spp"), "spp")] + [_p(_body(d), d) for d in ("ddpg", "dpo", "yolo")]
    q = "Why does SPP allow inputs of any size?"
    answer = (
        "It allows inputs of any size because it divides the feature maps into m×m bins with "
        "m, say, equals 1, 2, and 4 respectively. This allows the network to learn to detect "
        'objects of different scales ("SPP applies a slightly different strategy in detecting '
        'objects of different scales") [1].'
    )
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert c.text.startswith(
        "It allows inputs of any size because it divides the feature maps into m×m bins with "
        "m, say, equals 1, 2, and 4 respectively [1]. "
    ), c.text
    assert c.cited == [1]


def test_an_english_comparison_needs_what_it_compares_with_in_its_evidence(tools, similarity):
    # a dev case of the detection set: the comparison with bid optimization was kept
    ctr = _articles("ctr-prediction")
    q = "How important is CTR prediction in programmatic advertising?"
    right = "It is one of the most basic and most important problems in programmatic advertising"
    bad = check(
        f"{right}, even more important than bid optimization [1].",
        ctr,
        tools,
        similarity,
        lang="en",
        question=q,
    )
    assert [c.reason for c in bad.removed] == [
        "compared with 'bid optimization': [1] makes no such comparison"
    ]
    assert check(f"{right} [1].", ctr, tools, similarity, lang="en", question=q).removed == []
    # the article names Faster RCNN only as the kind of method anchor-free detection differs from
    anchor = _articles("anchor-free")
    named = check(
        "Anchor-free detection is more accurate than Faster RCNN [1].",
        anchor,
        tools,
        similarity,
        "en",
    )
    assert [c.rule for c in named.removed] == ["comparison"]
    # "rather than" compares nothing
    mc = [_p(_body("monte-carlo-rl"), "monte-carlo-rl")]
    kept = check(
        "Monte Carlo methods learn from data rather than from a model [1].",
        mc,
        tools,
        similarity,
        lang="en",
        question="What do Monte Carlo methods learn from?",
    )
    assert not any("compared with" in c.reason for c in kept.removed)


def test_an_english_lead_in_of_a_chinese_list_is_read_as_english(tools, similarity):
    # asked as a user: the lead-in was taken for one Latin name and removed ("'The three stages
    # of RLHF are' not in the passages")
    dpo = [_p(_body("dpo"), "dpo")]
    answer = (
        "The three stages of RLHF are: 有监督微调(SFT) 奖励建模阶段 (Reward Model) RL微调阶段 [1]."
    )
    c = check(
        answer, dpo, tools, similarity, lang="en", question="What are the three stages of RLHF?"
    )
    assert c.removed == [] and c.text.startswith("The three stages of RLHF are:")


def test_an_acronym_written_out_with_words_the_passages_have_is_found(tools, similarity):
    # asked as a user: the article says 多 token 预测 and never "MTP"; the model's right
    # expansion was removed ("'MTP' not in the passages"), an invented one still is
    v3 = [_p(_body("deepseek-v3"), "deepseek-v3")]
    q = "DeepSeek-V3 的 MTP 是什么?"
    right = check("MTP 是 Multi-Token Prediction [1]。", v3, tools, similarity, question=q)
    assert right.removed == [] and right.text == "MTP 是 Multi-Token Prediction [1]。"
    wrong = check("MTP 是 Multi-Task Planning [1]。", v3, tools, similarity, question=q)
    assert wrong.empty


def test_a_clause_citing_a_passage_without_the_questions_name_cites_one_with_it(tools, similarity):
    # a held-out answer: right, but citing the feature-engineering passage, which never names
    # FM; the name rule then removed it and the chain abstained on a covered question
    passages = [_p(_body("fm-ffm"), "fm-ffm"), _p(_body("recsys-feature-engineering"), "fe")]
    q = "FM 遇到训练数据里从没出现过的特征组合时,还能给出合理的估计吗?"
    c = check("FM 可以给出合理的估计 [2]。", passages, tools, similarity, question=q)
    assert c.removed == [] and c.text == "FM 可以给出合理的估计 [1]。"


def test_function_words_are_not_claims(tools, similarity):
    # held-out answers lost their key clause over '是因为' and '沿着' "not in the passages"
    rf = [_p(_body("receptive-field"), "receptive-field")]
    kept = check(
        "沿着 top往下逐层迭代直到追溯回 input image [1]。",
        rf,
        tools,
        similarity,
        question="计算感受野的公式一是沿什么方向逐层迭代的?",
    )
    assert kept.removed == [], [r.reason for r in kept.removed]
    ddpg = [_p(_body("ddpg"), "ddpg")]
    why = check(
        "DDPG 选择确定性策略是因为在同一个状态处，采用的动作概率不同，但是最大概率只有一个 [1]。",
        ddpg,
        tools,
        similarity,
    )
    assert why.removed == [], [r.reason for r in why.removed]


def test_abstention(tools):
    c = check("资料中没有相关内容。", P3, tools)
    assert c.abstained and c.text == "资料中没有相关内容。" and c.removed == [] and not c.empty
    assert check("The articles don't cover this.", P3, tools, lang="en").abstained


# ----------------------------------------------------------------------- evidence offsets
def test_evidence_offsets_map_back_to_the_passage(tools, similarity):
    passages = [_p(_body("ddim"), "ddim"), _p(_body("flashattention"), "fa")]
    c = check(
        "FlashAttention 使用分块计算 [1]。DDIM 可以提速 10~50 倍 [1]。", passages, tools, similarity
    )
    assert c.removed == [] and c.cited == [2, 1]
    for cl in c.clauses:
        p = passages[cl.evidence_passage - 1]
        assert p.text[cl.evidence_start : cl.evidence_end] == cl.evidence
    assert "10~50" in c.clauses[-1].evidence


def test_one_batched_similarity_call_per_answer(ddim, tools):
    calls = []

    def fake(clauses, sentences):
        calls.append((len(clauses), len(sentences)))
        return np.full((len(clauses), len(sentences)), 0.9, dtype=np.float32)

    check(README_ANSWER, ddim, tools, fake)
    assert len(calls) == 1 and calls[0][0] == 4


def test_model_file_matches_the_feature_set(tmp_path):
    m = ClaimModel.load()
    assert set(m.weights["zh"]) == set(FEATURES) | {"bias"}
    bad = tmp_path / "m.json"
    bad.write_text('{"features": ["cov"], "weights": {}, "threshold": {}}', encoding="utf-8")
    with pytest.raises(ValueError, match="refit"):
        ClaimModel.load(bad)


def test_etc_inside_an_english_sentence_does_not_split_it(tools, similarity):
    """A real answer: cut at "etc." the check once rebuilt it as "... style, etc [1]. are
    typically scattered ... [1]." (two half sentences); it is one sentence."""
    answer = (
        "In search re-ranking, item attributes such as price, region, brand, style, etc. "
        "are typically scattered to diversify the results. [1]"
    )
    c = check(answer, [_p(_body("rerank"), "rerank")], tools, similarity, "en")
    assert {cl.sentence for cl in c.clauses} == {0}
    assert c.text == (
        "In search re-ranking, item attributes such as price, region, brand, style, etc. "
        "are typically scattered to diversify the results [1]."
    )


def test_a_bare_yes_no_cites_the_passage_that_speaks_to_the_question(tools, similarity):
    """A real dev answer: "不是 [1]。" had been re-cited to another article's passage."""
    passages = [
        _p(_body("differentiable-metrics"), "differentiable-metrics"),
        _p(_body("stochastic-approximation"), "stochastic-approximation", 1),
    ]
    c = check(
        "不是 [1]。",
        passages,
        tools,
        similarity,
        "zh",
        question="用随机逼近求根或优化时,必须事先掌握目标函数及其导数的具体形式吗?",
    )
    assert c.text == "不是 [2]。" and c.cited == [2] and not c.removed


def test_a_bare_no_is_judged_on_the_question_not_on_its_own_word(tools, similarity):
    """Asked "蒙特卡洛方法需要环境模型吗?", the model answered "不是。"; the check removed it because
    the passages never write "不是" (they say "这类算法不依赖环境模型"), and the reader was told the
    model's answer was unsupported. The reply is no claim of its own."""
    c = check(
        "不是。",
        _articles("monte-carlo-rl", "deepseek-r1"),
        tools,
        similarity,
        question="蒙特卡洛方法需要环境模型吗?",
    )
    assert c.text == "不是 [1]。" and not c.removed


def test_a_bare_no_keeps_the_passage_that_says_no(tools, similarity):
    """Asked as a user, "随机逼近需要知道目标函数的表达式吗?" was answered "不是 [1]。" (right) and
    shown as "不是 [5]。" over the random-walk article: judged on the question's words, the bare
    no's own passage ("…不需要知道目标函数…的表达式") was vetoed for its negation, the very thing the
    no says. A yes to the same question is what that passage contradicts: it goes, with the
    rule the chain answers with that passage's sentence."""
    passages = _articles("stochastic-approximation", "random-walk")
    question = "随机逼近需要知道目标函数的表达式吗?"
    c = check("不是 [1]。", passages, tools, similarity, question=question)
    assert c.text == "不是 [1]。" and c.cited == [1] and not c.removed
    english = "Does stochastic approximation need to know the objective function's expression?"
    c = check("No [1].", passages, tools, similarity, "en", question=english)
    assert c.text == "No [1]." and not c.removed
    c = check("是 [1]。", passages, tools, similarity, question=question)
    assert c.text == "" and [r.rule for r in c.removed] == ["without"]
    assert "不需要知道目标函数" in c.removed[0].evidence


def test_it_after_a_named_clause_rests_on_a_passage_that_names_it(tools, similarity):
    """Asked as a user, "Does DDIM need to retrain the model?" was answered "No, DDIM doesn't need
    to retrain the model. It uses a reward model to determine which answer is better. [3]": the
    second sentence is RLHF's "先训练一个奖励模型来判断哪个回答更好", in the DPO article, which never
    names DDIM, and the reader was told DDIM uses a reward model. "It" is the name the sentence
    before said; a passage that names it is where what it does must come from."""
    passages = _articles("ddim", "rectified-flow", "dpo")
    c = check(
        "No, DDIM doesn't need to retrain the model. It uses a reward model to determine which "
        "answer is better. [3]",
        passages,
        tools,
        similarity,
        "en",
        question="Does DDIM need to retrain the model?",
    )
    assert c.text.startswith("No, DDIM doesn't need to retrain the model [")
    assert "reward" not in c.text and "better" not in c.text
    assert any("'DDIM' not in [3]" in r.reason for r in c.removed), c.removed
    c = check(
        "DPO does not need a reward model. It trains the language model directly [1].",
        _articles("dpo"),
        tools,
        similarity,
        "en",
        question="Does DPO need a reward model?",
    )
    assert "It trains the language model directly [1]" in c.text and not c.removed


def test_it_after_a_conjunction_is_the_name_before_it(tools, similarity):
    """Asked as a user, "Why is YOLO bad at detecting small objects?" got "YOLO is bad at
    detecting small objects [3] because it uses a simple strategy of detecting objects of
    different scales ("SPP applies a slightly different strategy…") [2]": what SPP does, told
    of YOLO. "because it …" speaks of YOLO as "It …" does; the SPP article never names YOLO."""
    passages = _articles("small-object-detection", "spp", "yolo")
    answer = (
        "YOLO is bad at detecting small objects [3] because it uses a simple strategy of "
        'detecting objects of different scales ("SPP applies a slightly different strategy in '
        'detecting objects of different scales") [2].'
    )
    question = "Why is YOLO bad at detecting small objects?"
    c = check(answer, passages, tools, similarity, "en", question=question)
    assert "SPP" not in c.text and "strategy" not in c.text, c.text
    assert any("'YOLO' not in [2]" in r.reason for r in c.removed), c.removed


def test_a_name_in_the_passage_title_counts(tools, similarity):
    """A real test-split answer: "是 [2]。" to a question about Google's FLASH paper, whose
    passage names it only in its title (the prompt shows titles); [2] was FlashAttention."""
    passages = [
        Passage(
            _body("flash-gau"),
            "flash-gau",
            "FLASH: Transformer Quality in Linear Time",
            "flash-gau.md",
            "flash-gau#0",
            1.0,
        ),
        Passage(
            _body("flashattention"),
            "flashattention",
            "FlashAttention",
            "flashattention.md",
            "flashattention#0",
            1.0,
        ),
    ]
    c = check(
        "是 [2]。",
        passages,
        tools,
        similarity,
        "zh",
        question="Google 的 FLASH 论文提出的线性化 Transformer 方案还能用作 Decoder 吗?",
    )
    assert c.text == "是 [1]。" and not c.removed


def test_a_citation_mark_goes_before_the_clauses_comma(tools, similarity):
    """A real test answer was rebuilt as "... as input, [1]which is different ...": when the
    clauses of a sentence cite different passages, each mark goes before its clause's comma."""
    passages = [_p(_body("yolo"), "yolo"), _p(_body("ddim"), "ddim", 1)]
    answer = "YOLO uses the entire image as input, while DDIM samples in only 20 to 100 steps."
    assert check(answer, passages, tools, similarity, "en").text == (
        "YOLO uses the entire image as input [1], while DDIM samples in only 20 to 100 steps [2]."
    )
    c = check("YOLO 利用整张图作为网络的输入，DDIM 仅采样 20~100 步。", passages, tools, similarity)
    assert c.text == "YOLO 利用整张图作为网络的输入 [1]，DDIM 仅采样 20~100 步 [2]。"


def test_a_negation_said_by_a_sentence_as_close_as_the_best_one_is_kept(tools, similarity):
    """ "如果没有模型" beside "如果没有数据" (same words, one sentence apart): the check once
    judged the negation against the wrong one and removed a correct clause of a real answer."""
    passages = [_p(_body("monte-carlo-rl"), "monte-carlo-rl")]
    ok = check("如果没有模型，就必须有数据 [1]。", passages, tools, similarity)
    assert ok.removed == [] and ok.text == "如果没有模型，就必须有数据 [1]。"
    bad = check("没有模型也能找到最优策略 [1]。", passages, tools, similarity)  # it says: cannot
    assert [c.reason for c in bad.removed] == ["negation not in the source [1]"]


def test_a_question_name_no_passage_has_is_still_a_claim(tools, similarity):
    """A real dev answer about PPO over passages that never name it (only "HiPPO", which holds
    the letters): the question's names are given only when the passages have them."""
    passages = [_p(_body("ssm-hippo"), "ssm-hippo")]
    c = check(
        "The clipping range epsilon is typically used in PPO in the range (from HiPPO) [1].",
        passages,
        tools,
        similarity,
        "en",
        question="What clipping range epsilon is typically used in PPO?",
    )
    assert [r.reason for r in c.removed] == ["'PPO' not in the passages"] and c.empty


def test_a_variable_is_no_part_of_the_questions_name(tools, similarity):
    """A dev answer that restates the question: "N GPUs" had been read as one name, which no
    passage has ("N张显卡", "单GPU"), and the right answer was removed."""
    passages = [_p(_body("pytorch-ddp"), "pytorch-ddp")]
    c = check(
        "With N GPUs, DDP starts N processes [1].",
        passages,
        tools,
        similarity,
        "en",
        question="With N GPUs, how many processes does DDP start?",
    )
    assert not c.removed and "starts N processes" in c.text


def test_a_negation_word_is_no_content_word(tools):
    """ "Without Softmax, …" over "如果没有Softmax，…": 'Without' had counted as a word of the
    clause that no passage has (asked as a user, an answer about DDIM was removed as "'without'
    not in the passages"); negations are the negation rules' business."""
    passage = _p(
        "如果没有Softmax，那么就是三个矩阵连乘，而矩阵乘法满足结合律，所以复杂度可以降到线性。"
    )
    c = check(
        "Without Softmax, attention is a product of three matrices [1].",
        [passage],
        tools,
        lang="en",
        question="What happens to attention once Softmax is removed?",
    )
    assert not c.removed, [r.reason for r in c.removed]


def test_as_follows_announces_no_claim(tools, similarity):
    """Asked as a user, "感受野怎么计算?": the answer's opening "…的计算过程如下:从 top往下层层迭代…"
    was removed ("'过程', '如下' not in the passages") and the rest read as a riddle; 如下 ("as
    follows") announces what comes, it claims nothing."""
    passage = _p(
        "如何计算RF 公式一:这个算法从top往下层层迭代直到追溯回input image,从而计算出RF。"
        " [公式] 其中,RF是感受野。"
    )
    c = check(
        "感受野 (RF) 的计算过程如下:从 top往下层层迭代直到追溯回 input image,从而计算出 RF [1]。",
        [passage],
        tools,
        similarity,
        question="感受野怎么计算?",
    )
    assert not c.removed, [r.reason for r in c.removed]


def test_a_word_whose_opposite_the_source_says_is_removed(tools, similarity):
    """ "无限" / "unbounded" where the source says the values come from a finite set (有限)."""
    passages = [_p(_body("stochastic-approximation"), "stochastic-approximation")]
    c = check("随机变量 X 的取值来自无限集合 [1]。", passages, tools, similarity)
    assert [(r.rule, r.reason) for r in c.removed] == [("antonym", "'无限' where [1] says '有限'")]
    assert check("随机变量 X 的取值来自有限集合 [1]。", passages, tools, similarity).removed == []
    en = check(
        "The goal is to estimate E[X] from a sequence of independent and identically distributed "
        "samples, where X takes values in a continuous, unbounded set [1].",
        passages,
        tools,
        similarity,
        "en",
    )
    assert [r.rule for r in en.removed] == ["antonym"]


def test_a_weak_degree_where_the_source_says_a_strong_one_is_removed(tools, similarity):
    """ "Only slight gains" over "取得了显著改进" says the opposite of the article (and the
    reverse: "greatly" over "略有"); the article's own degree is kept."""
    passages = [_p(_body("deepseek-r1"), "deepseek-r1")]
    weak = check(
        "Longer chains of thought gave only slight gains on math and coding tasks [1].",
        passages,
        tools,
        similarity,
        "en",
    )
    assert [(r.rule, r.reason) for r in weak.removed] == [
        ("antonym", "'slight' where [1] says '显著'")
    ]
    strong = check(
        "Longer chains of thought gave significant gains on math and coding tasks [1].",
        passages,
        tools,
        similarity,
        "en",
    )
    assert strong.removed == []
    zh = [_p("实验表明，新方法的准确率只是略有提升。", "d")]
    assert [
        r.rule for r in check("新方法大大提高了准确率 [1]。", zh, tools, similarity).removed
    ] == ["antonym"]
    assert check("新方法的准确率略有提升 [1]。", zh, tools, similarity).removed == []


def test_a_without_phrase_left_of_a_removed_sentence_goes_with_it(tools, similarity):
    """Asked how DeepSeek-V3's MLA saves KV cache (the articles do not say), the embedded model
    answered with FlashAttention's words; its invented main clause was removed and the user was
    shown the bare remnant "Without needing to access GPU global memory… [2]"."""
    answer = (
        "Multi-head Latent Attention in DeepSeek-V3 saves KV cache by using a novel approach that "
        "combines the benefits of both online Softmax and traditional Softmax, without needing "
        "to access GPU global memory to store intermediate logits and attention scores [2]."
    )
    c = check(
        answer,
        _articles("deepseek-v3", "flashattention"),
        tools,
        similarity,
        "en",
        "How does Multi-head Latent Attention in DeepSeek-V3 save KV cache?",
    )
    assert "without needing" not in c.text.lower()
    assert any(r.reason == "its sentence lost its main clause" for r in c.removed)


def test_half_of_a_the_more_the_more_sentence_is_not_shown_alone(tools, similarity):
    """Asked what Gumbel-Softmax's temperature is for (the article never says), the embedded
    model's answer lost "The higher the temperature" and the user read "The smoother the
    distribution [1]."."""
    answer = (
        "The temperature parameter in Gumbel-Softmax is used to control the smoothness of the "
        "distribution [1]. The higher the temperature, the smoother the distribution [1]."
    )
    c = check(
        answer,
        _articles("reparameterization"),
        tools,
        similarity,
        "en",
        "What is the temperature parameter in Gumbel-Softmax for?",
    )
    assert "smoother" not in c.text


def test_a_sentence_said_again_is_shown_once(tools, similarity):
    """Asked "YOLO v1 有哪些缺点?", the embedded model wrote one sentence twice ("…。此外，" and
    the same words): the user read it twice."""
    said = "YOLO v1 的输出层回归bounding box的位置和bounding box所属的类别"
    c = check(f"{said} [1]。此外，{said} [1]。", _articles("yolo"), tools, similarity)
    assert c.text == f"{said} [1]。"
    assert c.notice is None  # nothing unsupported was removed


def test_a_sentence_said_again_after_a_no_is_shown_once(tools, similarity):
    """Asked "交叉熵下降了,正确率一定上升吗?", the embedded model answered "不是。<statement>。
    <statement> [2]。"; the splitter keeps the short "不是。" with the statement, so the repeat
    differed from it by a negation and the reader saw the statement twice."""
    said = "交叉熵下降了,正确率不一定上升"
    c = check(
        f"不是。{said}。{said} [2]。",
        _articles("differentiable-metrics", "rectified-flow"),
        tools,
        similarity,
        question="交叉熵下降了,正确率一定上升吗?",
    )
    assert c.text == f"不是。{said} [1]。"


def test_a_numbered_list_whose_items_went_leaves_no_numbers_or_lead_in(tools, similarity):
    """Asked "Glow 相比 NICE 做了哪些改进?", the embedded model listed three invented improvements;
    their clauses went but the item numbers stayed as claims ("1", "2" appear in the article),
    and the reader saw "Glow 相比 NICE 做了以下改进 [1]。1 [2].2 [1]." """
    c = check(
        "Glow 相比 NICE 做了以下改进： 1. 使用了更复杂的生成模型结构。 2. 提高了生成质量。 "
        "3. 减少了计算量。",
        _articles("nice-flow", "differentiable-metrics"),
        tools,
        similarity,
        question="Glow 相比 NICE 做了哪些改进?",
    )
    assert c.text == ""  # nothing left: the chain shows the extract or abstains
    assert "以下改进" in (c.notice or "") or any("以下改进" in x.text for x in c.removed)


def test_a_numbered_list_of_supported_items_keeps_its_numbers(tools, similarity):
    """The numbers of a list's items are no figures to check, and stay where the items stay."""
    c = check(
        "在架构设计方面，DeepSeek-V3： 1. 采用了 MLA 来确保推理效率 [1]。 "
        "2. 使用 DeepSeekMoE 来实现经济高效的训练 [1]。",
        _articles("deepseek-v3"),
        tools,
        similarity,
        question="DeepSeek-V3 的架构有什么特点?",
    )
    assert c.removed == []
    assert "1. 采用了 MLA" in c.text and "2. 使用 DeepSeekMoE" in c.text


def test_an_english_list_item_after_a_figure_keeps_its_number(tools, similarity):
    """Asked "What are the steps of the random walk algorithm in the article?", the reader saw
    "…at t=0 [1]. 2 [1]. At each time step…": the item's number was read as a sentence."""
    c = check(
        "The random walk algorithm involves the following steps: 1. Define the initial position "
        "of the particle at t=0. 2. At each time step, the particle moves either one step "
        "forward (+1) or one step backward (-1). [1]",
        _articles("random-walk"),
        tools,
        similarity,
        "en",
        "What are the steps of the random walk algorithm in the article?",
    )
    assert "t=0 [1]." in c.text
    assert not re.search(r"(?<![\w.=])2\s*\[1\]", c.text), c.text  # no bare "2 [1]."


REASON = (
    "因为每个网格要预测 B 个 bounding box,每个 bounding box除了要回归自身的位置之外,"
    "还要附带预测一个 confidence 值"
)


def test_a_reason_goes_with_the_sentence_it_explained(tools, similarity):
    """Asked "YOLO 是怎么做目标检测的?" then "它有什么缺点?", the embedded model invented a drawback
    and gave a reason for it; the drawback went and the reader saw only "因为每个网格要预测 B 个
    bounding box…" — a reason for nothing, read as if it were the drawback."""
    c = check(
        f"YOLO 的缺点是需要大量的计算资源和内存。{REASON}。",
        _articles("yolo"),
        tools,
        similarity,
        question="YOLO 有什么缺点?",
    )
    assert c.text == ""


def test_a_reason_that_answers_a_why_question_stays(tools, similarity):
    c = check(
        f"YOLO 的缺点是需要大量的计算资源和内存。{REASON} [1]。",
        _articles("yolo"),
        tools,
        similarity,
        question="为什么 YOLO 的每个网格要预测 confidence 值?",
    )
    assert "每个网格要预测 B 个 bounding box" in c.text


def test_a_clause_that_goes_on_keeps_its_subject_when_it_names_only_the_baseline(tools, similarity):
    """Asked "What is Rectified Flow?" then "Why is it faster than DDPM?", the embedded model
    wrote "Rectified Flow 是因为…推导出了 diffusion 的反向过程,最终可以实现仅采样 20~100 步的情况下
    达到和 DDPM 采样 1000 步相近的生成效果,也就是提速 10~50 倍。 [2]" over the DDIM passage [2]. The
    first clause went (DDIM's passage does not name Rectified Flow), but the rest stayed: naming
    DDPM, the baseline, it read as a subject of its own, and the reader was told Rectified Flow
    is 10~50 times faster."""
    c = check(
        "Rectified Flow 是因为它在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程,最终可以实现仅"
        "采样 20~100 步的情况下达到和 DDPM 采样 1000 步相近的生成效果,也就是提速 10~50 倍。 [2]",
        _articles("rectified-flow", "ddim"),
        tools,
        similarity,
        "en",
        "Why is Rectified Flow faster than DDPM?",
    )
    assert "10~50" not in c.text


def test_the_items_of_a_list_whose_head_went_go_with_it(tools, similarity):
    """Asked "What is DPO?", the embedded model opened with "DPO is a method that combines the
    two stages of RLHF: supervised microtuning (SFT), reward modeling, and RL microtuning."; the
    head went ('combines' is in no passage) and the answer opened with the bare list
    "Supervised microtuning (SFT), reward modeling, and RL microtuning [1]."."""
    c = check(
        "DPO is a method that combines the two stages of RLHF: supervised microtuning (SFT), "
        "reward modeling, and RL microtuning. The method transforms learning to judge and "
        "learning to generate good content into a single task [1].",
        _articles("dpo"),
        tools,
        similarity,
        "en",
        "What is DPO?",
    )
    assert "microtuning" not in c.text
    # asked "What is the difference between DPO and RLHF?", the first item went with the head
    # ("…of RLHF: SFT") and "Reward Model, and RL microtuning [1]." opened the answer
    c = check(
        "DPO is a method that combines the two stages of RLHF: SFT, Reward Model, and RL "
        "microtuning. DPO combines learning to judge and learning to generate good content "
        "into one task [1].",
        _articles("dpo"),
        tools,
        similarity,
        "en",
        "What is the difference between DPO and RLHF?",
    )
    assert "microtuning" not in c.text and "Reward Model" not in c.text, c.text
    # a list whose head stays keeps its items
    kept = check(
        "DeepSeek-V3 adopts two architectures: MLA and DeepSeekMoE [1].",
        _articles("deepseek-v3"),
        tools,
        similarity,
        "en",
        "Which architectures does DeepSeek-V3 adopt?",
    )
    assert "MLA and DeepSeekMoE" in kept.text, kept.removed


def test_a_clause_joining_a_cut_sentence_and_the_next_rests_on_both(tools, similarity):
    # asked as a user, "DeepSeek-V3 用了哪些新的训练策略?": the right answer joins two sentences, the
    # first one long enough to be read in two pieces ("首先…策略(…)," / "有效降低了…。"); no
    # candidate held both strategies and the answer was replaced by the draft
    said = (
        "DeepSeek-V3 采用了无辅助损失的负载均衡 策略(auxiliary-loss-free strategy for load "
        "balancing)和多 token 预测训练目标 [1]。"
    )
    c = check(
        said,
        _articles("deepseek-v3"),
        tools,
        similarity,
        question="DeepSeek-V3 用了哪些新的训练策略?",
    )
    assert c.clauses[0].supported, c.clauses[0].reason
    assert "无辅助损失" in c.clauses[0].evidence and "多 token 预测" in c.clauses[0].evidence
    # two sentences that are not one cut in two and the next stay apart
    far = check(
        "DeepSeek-V3 的总参数量达到 671B,并采用了多 token 预测训练目标 [1]。",
        _articles("deepseek-v3"),
        tools,
        similarity,
        question="DeepSeek-V3 的总参数量是多少?",
    )
    assert not any("671B" in x.evidence and "多 token" in x.evidence for x in far.clauses)


def test_a_sentence_said_again_in_other_connectives_is_shown_once(tools, similarity):
    """Asked "Prefix-Tuning 和 CTRL 有什么关系?", the embedded model said one sentence three times,
    once with 可以理解是/为了 for 是/用于; the reader saw it twice."""
    said = "Prefix-Tuning 是 CTRL 模型的连续化升级版，用于生成不同领域和话题的文本"
    c = check(
        f"{said}。Prefix-Tuning 可以理解是 CTRL 模型的连续化升级版，为了生成不同领域和话题的文本。"
        f"{said}。",
        _articles("prefix-tuning"),
        tools,
        similarity,
        question="Prefix-Tuning 和 CTRL 有什么关系?",
    )
    assert c.text == f"{said} [1]。", c.text


def test_an_answer_saying_a_method_cannot_do_something_is_no_refusal(tools, similarity):
    """Asked "Why does reranking need to consider context between items?", the model's right
    answer "Because pointwise模式的打分无法从候选列表整体…出发进行排序" was read as "the model found no
    direct answer": 无法从 was taken for "cannot (find it) from the sources"."""
    said = "pointwise模式的打分无法从候选列表整体或上下文实时反馈角度出发进行排序"
    c = check(
        f'Because {said} ("{said}") [1].',
        _articles("rerank"),
        tools,
        similarity,
        "en",
        "Why does reranking need to consider context between items?",
    )
    assert not c.abstained and said in c.text
    assert check("无法从资料中找到答案。", _articles("rerank"), tools, similarity).abstained


def test_correct_english_answers_replayed_from_a_test_run_are_kept(tools, similarity):
    """Two correct answers of the embedded model (held-out run, 2026-12-04) were removed whole:
    "data loss" (数据丢失: loss had only 损失) "during" (a preposition counted as a claim word), and
    "TensorFlow Platform" over "Tensorflow平台" (a name with a CamelCase word was never taken as
    rendered, although the passage writes that word as it is)."""
    feats = [_p(_body("recsys-feature-engineering"), "recsys-feature-engineering")]
    loss = check(
        "Besides feature delay and inconsistency, data loss during sample storage can also lead "
        "to online results falling short of offline ones [1].",
        feats,
        tools,
        similarity,
        "en",
        "Besides feature delay and inconsistency, what else can make online results fall short "
        "of offline ones?",
    )
    assert loss.removed == []
    fc = [_p(_body("tf-feature-column"), "tf-feature-column")]
    platform = check(
        "TensorFlow Platform provides the FeatureColumn API for feature engineering [1].",
        fc,
        tools,
        similarity,
        "en",
    )
    assert platform.removed == []


def test_an_invented_expansion_of_an_acronym_goes_and_its_clause_stays(tools, similarity):
    """ "DeepSeek-V3 uses MLA (Multi-Layer Attention) to ensure inference efficiency [1]" was
    removed whole for the invented expansion (the article writes only "MLA")."""
    c = check(
        "DeepSeek-V3 uses MLA (Multi-Layer Attention) to ensure inference efficiency [1].",
        _articles("deepseek-v3"),
        tools,
        similarity,
        "en",
        "Which attention design does DeepSeek-V3 use for efficient inference?",
    )
    assert c.text == "DeepSeek-V3 uses MLA to ensure inference efficiency [1]."
    assert [(r.text, r.reason) for r in c.removed] == [
        ("(Multi-Layer Attention)", "an expansion the passages do not have")
    ]


def test_an_opposite_is_judged_on_the_part_of_the_sentence_about_the_clause(tools, similarity):
    """ "类别是离散的,类别的概率才是连续的" says both words: "the class probability is discrete" is
    judged on the part about the probability, "the class is discrete" on the part about it."""
    passages = [_p(_body("differentiable-metrics"), "differentiable-metrics")]
    wrong = check(
        "The class probability (类别的概率) is discrete too [1].", passages, tools, similarity, "en"
    )
    assert [(r.rule, r.reason) for r in wrong.removed] == [
        ("antonym", "'离散' where [1] says '连续'")
    ]
    right = check(
        "The class (类别) is discrete, but the class probability (类别的概率) is continuous [1].",
        passages,
        tools,
        similarity,
        "en",
    )
    assert right.removed == []


def test_an_english_answer_quoting_a_whole_chinese_sentence_with_brackets_is_kept(
    tools, similarity
):
    """The embedded model's answer to "How many parameters does Kimi-VL activate in its
    language decoder?" quotes the source sentence, which holds brackets of its own: it is an
    English sentence, and correct (it was removed as Chinese with the unknown name 'It activates')."""
    source = (
        "模型概述 KimiVL 是一个高效的开源混合专家视觉语言模型(VLM),它提供先进的多模态推理、"
        "长上下文理解和强大的代理能力,同时在语言解码器中仅激活 2.8B 参数(KimiVLA3B)。"
    )
    answer = f'It activates 2.8B parameters in its language decoder ("{source}") [1].'
    checked = check(answer, [_p(source, "kimi-vl")], tools, similarity, lang="en")
    assert checked.text == answer
    assert [c.status for c in checked.clauses] == ["supported"]


def test_a_code_identifier_is_a_name_the_passages_must_have(tools, similarity):
    tf_export = [_p(_body("tf-export")[:600], "tf-export")]
    for call, reasons in [
        ("functools.partial", []),
        ("functools.lru_cache", ["'functools.lru_cache' not in the passages"]),
    ]:
        answer = f"tf_export is a decorator, implemented with {call} [1]."
        checked = check(answer, tf_export, tools, similarity, lang="en")
        assert [c.reason for c in checked.removed] == reasons


def test_a_count_the_text_says_inside_a_word_is_found(tools, similarity):
    # 三板斧 ("three axes") holds its figure inside the word: no counter word follows 三
    recsys = [_p(_body("recsys-feature-engineering")[:300], "recsys-feature-engineering")]
    ok = check(
        'The three axes are data, features and models ("推荐系统三板斧:数据、特征和模型") [1].',
        recsys,
        tools,
        similarity,
        lang="en",
        question="What are the three axes of recommender systems?",
    )
    assert ok.removed == [] and ok.text.endswith("[1].")
    bad = check("推荐系统有五板斧:数据、特征和模型 [1]。", recsys, tools, similarity)
    assert [c.reason for c in bad.removed] == ["number 五 not in [1]"]


def test_what_an_english_figure_counts_must_match_the_measure_word(tools, similarity):
    # the article: "每过一秒,它要不向前移动一格" and, in the same passage, "二项分布"
    walk = [_p(_body("random-walk")[:400], "random-walk")]
    assert "每过一秒" in walk[0].text and "二项分布" in walk[0].text
    bad = check(
        "Every two seconds the particle moves one step forward or backward [1].",
        walk,
        tools,
        similarity,
        lang="en",
    )
    assert [c.reason for c in bad.removed] == ["number two not in [1]"]
    assert (
        numbers_in("two seconds")[0].counter == "秒" and numbers_in("2 layers")[0].counter == "层"
    )
    assert numbers_in("two binomial terms")[0].counter == ""  # not a measure word: any figure 2
    # the generic measure word 个 says any unit: "three stages" is 三个阶段
    rlhf = [
        _p(
            "背景 RLHF 通常包括三个阶段: 有监督微调(SFT) 奖励建模阶段 (Reward Model) RL微调阶段",
            "dpo",
        )
    ]
    ok = check("RLHF usually consists of three stages [1].", rlhf, tools, similarity, lang="en")
    assert ok.removed == [], [c.reason for c in ok.removed]


def test_a_restated_clause_without_a_citation_cites_the_passage_of_its_own_words(
    tools, similarity, assistant
):
    # every word of the first clause is the question's: judged on what it adds (nothing), any
    # passage "supports" it; it must cite the passage that says it, not an arbitrary one (it
    # cited 搜索重排's "pointwise模式的打分无法…" among the question's five passages)
    question = "Why is having to predefine and generate a set of anchors seen as a drawback?"
    passages = assistant.retrieve(question, k=5)
    anchor_free = [i + 1 for i, p in enumerate(passages) if p.doc_id == "anchor-free"]
    checked = check(
        "Having to predefine and generate a set of anchors is seen as a drawback because it "
        'requires a significant amount of human work. In contrast, "anchorfree" methods do not '
        "require this step, allowing models to automatically learn the target's position and "
        "shape [1].",
        passages,
        tools,
        similarity,
        lang="en",
        question=question,
    )
    first = checked.clauses[0]
    assert first.text.endswith("seen as a drawback") and first.supported
    assert first.support == anchor_free[:1], (checked.text, [p.doc_id for p in passages])


def test_the_evidence_of_a_clause_is_in_the_passage_it_keeps_citing(tools, ddim):
    # both passages support the clause; the model cited the second: its citation stays, and the
    # sentence shown for it (the English answer's source quote) must come from that passage
    other = _p("也就是说,DDIM 提速 10~50 倍,采样只需 20~100 步。", "notes")
    checked = check("DDIM speeds sampling up 10~50 times [2].", [*ddim, other], tools, lang="en")
    (c,) = checked.clauses
    assert c.support == [2] and c.evidence_passage == 2, (c.support, c.evidence_passage)
    assert "10~50" in c.evidence


def test_a_reason_whose_main_clause_went_is_not_shown_alone(tools, ddim):
    # 重新训练 is a term the DDIM article never speaks of; the reason goes with its main clause
    c = check("DDIM 需要重新训练模型，因为 DDPM 的反向过程利用了马尔可夫假设 [1]。", ddim, tools)
    assert c.text == "" and len(c.removed) == 2, c.text
    assert [r.reason for r in c.removed] == [
        "'重新训练' not in the passages",
        "it depended on a removed clause",
    ]


def test_two_english_clauses_kept_together_keep_their_space(tools, ddim):
    # both clauses rest on [1] and share the model's one mark: they were glued ("fastbecause")
    c = check(
        "DDIM samples fast because it skips the Markov assumption [1].",
        ddim,
        tools,
        lang="en",
        question="Why does DDIM sample fast?",
    )
    assert c.text == "DDIM samples fast because it skips the Markov assumption [1].", c.text


def test_an_inflected_question_word_is_still_the_questions(tools, similarity):
    # "runs" after "Why does YOLO run fast?" repeats the question: not a claim of the answer's
    from rag.answer.claims.given import given_by_question
    from rag.answer.claims.lexicon import Lexicon
    from rag.answer.evidence import evidence_spans

    yolo = [_p(_body("yolo")[:300], "yolo")]
    lex = Lexicon(yolo, tools["terms"], tools["glossary"], lambda t: evidence_spans(t, 90))
    info = lex.clause_info("YOLO runs fast", True)
    assert [u.surface for u in info.units] == ["runs", "fast"]
    assert given_by_question(info, "Why does YOLO run fast?").units == []
    assert [u.surface for u in given_by_question(info, "Is YOLO fast?").units] == ["runs"]


def test_a_name_glued_to_the_word_before_it_is_still_found(tools, similarity):
    # the embedded model wrote "It models theCTR/CVR using a pointwise function": the typo made
    # "theCTR/CVR" a name no passage has, and the question was refused
    rerank = [_p(_body("rerank")[:200], "rerank")]
    assert "CTR/CVR" in rerank[0].text
    checked = check(
        'It models theCTR/CVR using a pointwise function ("对候选商品进行打分") [1].',
        rerank,
        tools,
        similarity,
        lang="en",
    )
    assert checked.removed == [], [c.reason for c in checked.removed]


def test_english_words_around_a_copied_chinese_sentence_are_prose_not_a_name(tools, similarity):
    # a real answer of the embedded model (CMRC trial, "Who founded the Golden Horde?"): the
    # lead-in "It was founded by" was taken for one Latin name and the right answer removed
    horde = [
        _p(
            "金帐汗国又称钦察汗国。拔都率部（1242年至1245年间）从欧洲撤退，"
            "在伏尔加河下游的萨莱定都，建立金帐汗国。",
            "horde",
        )
    ]
    q = "Who founded the Golden Horde?"
    right = "It was founded by拔都率部（1242年至1245年间）从欧洲撤退 [1]。"
    kept = check(right, horde, tools, similarity, lang="en", question=q)
    assert kept.removed == [] and kept.text == right
    # the English words are still checked, like names: each must be in a passage (rendered)
    # or given by the question
    made_up = check(
        right.replace("founded", "destroyed"), horde, tools, similarity, lang="en", question=q
    )
    assert [c.reason for c in made_up.removed] == ["'destroyed' not in the passages"]
    # a Latin run without English prose words is still a name
    named = check(
        "拔都率部从 Genghis Khan 撤退 [1]。", horde, tools, similarity, lang="en", question=q
    )
    assert [c.reason for c in named.removed] == ["'Genghis Khan' not in the passages"]


def test_a_quote_of_the_passage_does_not_carry_an_ml_term_no_passage_has(tools, similarity):
    # a real near miss (articles-more m008, the CTR article hidden): the quote is the passage's,
    # the claim 'regression' is in no passage in any form; without the quote it was removed
    metrics = [_p(_body("differentiable-metrics"), "differentiable-metrics")]
    q = "From a machine learning standpoint, what kind of problem is click-through rate prediction?"
    quote = '("分类问题的正确率和F1、机器翻译中的BLEU,等等")'
    invented = check(
        f"It is a regression problem {quote} [1].", metrics, tools, similarity, "en", q
    )
    assert [c.reason for c in invented.removed] == ["'regression' not in the passages"]
    # the term the quote does say stands, and so does a paraphrasing verb without a rendering
    said = check(
        f"It is a classification problem {quote} [1].", metrics, tools, similarity, "en", q
    )
    assert said.removed == []


def test_a_condition_whose_consequence_went_goes_with_it(tools, similarity):
    # asked as a user, "Why does YOLO struggle with small objects?": the invented consequence
    # went and left "This means that if an object is very small, and each grid cell will
    # predict a bounding box for that object [1]."
    said = (
        "YOLO struggles with small objects because it predicts bounding boxes for each grid cell "
        "[1]. This means that if an object is very small, it may fall within multiple grid "
        "cells, and each grid cell will predict a bounding box for that object [1]."
    )
    asked = "Why does YOLO struggle with small objects?"
    c = check(said, _articles("yolo"), tools, similarity, "en", asked)
    assert "if an object is very small" not in c.text
    assert "its condition lost what it conditions" in [x.reason for x in c.removed]
    kept = "If the object's center falls in a grid cell, that cell predicts the object [1]."
    assert "center falls" in check(kept, _articles("yolo"), tools, similarity, "en").text


def test_a_condition_left_at_the_end_of_its_sentence_goes_alone(tools, similarity):
    # asked as a user, "How does Rectified Flow make sampling faster?": the invented consequence
    # went and left "…to a deterministic model, and if the goal is an ODE [2]."
    said = (
        "It makes sampling faster by using a deterministic sampling process (DDIM) that is the "
        "continuous limit of a stochastic sampling process (DDPM) and an ODE. The process can be "
        "thought of as transitioning from a random sampling model to a deterministic model, and "
        'if the goal is an ODE, it may seem a bit "irregular". [2]'
    )
    asked = "How does Rectified Flow make sampling faster?"
    c = check(said, _articles("ddim", "rectified-flow"), tools, similarity, "en", asked)
    assert "if the goal" not in c.text
    assert "from a random sampling model to a deterministic model [2]." in c.text
    assert "its condition lost what it conditions" in [x.reason for x in c.removed]


def test_a_long_quote_is_cut_to_the_sentence_that_says_its_clause(tools, similarity):
    # a real answer (articles-more m040): the model quoted three sentences of the FM/FFM article
    # for one claim; judged with all of them, the clause rested on the first (FFM's definition)
    # and was removed; the reader would have had to find the cost sentence in the stretch
    fm = _articles("fm-ffm")
    quote = (
        "FFM(Fieldaware Factorization Machine)是Yuchin Juan等人在2015年的比赛中提出的一种对FM改进"
        "算法,主要是引入了field概念,即认为每个feature对于不同field的交叉都有不同的特征表达。 "
        "FFM相比于FM的计算时间复杂度更高,但同时也提高了本身模型的表达能力。 FM也可以看..."
    )
    said = f'FFM has a higher computational cost than FM ("{quote}") [1].'
    c = check(
        said, fm, tools, similarity, "en", "How does FFM compare with FM in computational cost?"
    )
    cost = "FFM相比于FM的计算时间复杂度更高,但同时也提高了本身模型的表达能力。"
    assert c.text == f'FFM has a higher computational cost than FM ("{cost}") [1].'
    assert c.removed == [] and c.clauses[0].supported


def test_a_quoted_sentence_that_says_nothing_of_its_clause_is_not_its_source(tools, similarity):
    # a real near miss (articles-more m010, the ads article hidden): the model restated the
    # question and appended a DDPG sentence as its "quote"; the reader takes it for evidence
    ddpg = [_p(_body("ddpg"), "ddpg")]
    q = (
        "Why doesn't a second impression of the same ad to the same user count as a valid "
        "repeat of the first?"
    )
    quote = '("作为确定性策略,相同的策略,在同一个状态处,动作是唯一确定的...")'
    c = check(
        "Because a second impression of the same ad to the same user counts as a valid repeat "
        f"of the first {quote} [1].",
        ddpg,
        tools,
        similarity,
        "en",
        q,
    )
    assert [g.reason for g in c.removed] == ["a quote that does not say this"]
    assert "作为确定性策略" not in c.text and c.restated
    # the same sentence quoted for what it says stays
    said = check(
        f"DDPG's deterministic policy picks one action per state {quote} [1].",
        ddpg,
        tools,
        similarity,
        "en",
        "What does a deterministic policy do in DDPG?",
    )
    assert "作为确定性策略" in said.text


def test_a_pronoun_does_not_open_the_answer_after_its_sentence_went(tools, similarity):
    # asked as a user ("What does the bias term do in a neural network?"): the first sentence
    # was removed and the answer shown began "This allows the network to learn a bias [2]."
    bias = [_p(_body("bias-in-dl"), "bias-in-dl")]
    q = "What does the bias term do in a neural network?"
    first = (
        "The bias term in a neural network adds a constant value to the input to the "
        "activation function. "
    )
    second = "This allows the network to learn a bias [1]."
    c = check(first + second, bias, tools, similarity, "en", q)
    assert c.text == "" and "it depended on a removed clause" in [x.reason for x in c.removed]
    # after a kept sentence, the pronoun has its subject
    kept = check(
        "The bias is a learnable parameter [1]. " + second, bias, tools, similarity, "en", q
    )
    assert "This allows the network to learn a bias" in kept.text


@pytest.mark.parametrize(
    ("doc", "lang", "answer", "question"),
    [
        # 一是/二是 enumerate, 文中 points at the text: no claim words (held-out dev h027, h079)
        (
            "deepseek-v3",
            "zh",
            "一是首创的无辅助损失负载均衡策略，二是多 token 预测训练目标 [1]。",
            "DeepSeek-V3 引入了哪两项创新策略？",
        ),
        # a term with its English as the passage writes it (h076), a name with its Chinese (h061)
        (
            "pytorch-ddp",
            "zh",
            "各个进程用平均后的梯度更新自己的参数，这实际上就是数据并行（Data Parallelism） [1]。",
            "DDP 中各进程最后怎样更新参数？",
        ),
        (
            "llm-activations",
            "en",
            "The perceptron was conceived by McCulloch (麦克洛奇) [1].",
            "Who originally conceived the perceptron?",
        ),
        # 随机变量 is no "random" opposed to "deterministic" (h089)
        (
            "rectified-flow",
            "en",
            "A GAN seeks a deterministic transform from a simple distribution such as the "
            "standard normal to the data distribution [1].",
            "How does a flow model approach generation differently from a GAN?",
        ),
        # 无法 governs the verb its adverbials lead to; a list 1、2、3、 has three items;
        # "the article names" reports (h094)
        (
            "rerank",
            "en",
            "The article names three shortcomings: with thousands of candidates, fine ranking "
            "sometimes cannot deploy more complex models; pointwise scoring cannot rank from the "
            "perspective of the whole list or real-time context [1].",
            "Why is fine ranking alone sometimes not enough?",
        ),
        # GPU memory is 显存 (h037)
        (
            "flash-gau",
            "en",
            "Compared with the standard Transformer it is faster and uses less GPU memory [1].",
            "Is the first Transformer variant proposed in FLASH linear in complexity?",
        ),
    ],
    ids=["enumerators", "term-gloss", "name-gloss", "random-variable", "list-count", "gpu-memory"],
)
def test_correct_answers_of_the_held_out_dev_half_keep_every_clause(
    tools, similarity, doc, lang, answer, question
):
    # correct answers written for data/eval/faithfulness_heldout.jsonl (dev half) whose clauses
    # the check removed before stop 39
    c = check(answer, [_p(_body(doc), doc)], tools, similarity, lang, question)
    assert c.removed == [], [(x.text, x.reason) for x in c.removed]


def test_a_figure_added_to_the_question_must_be_said_of_its_subject(tools, similarity):
    # asked as a user: "…分为两个部分" rested on the only 2 of the passages, a step number in
    # the recommendation article ("…反馈到2,形成一个增强回路")
    passages = [
        _p(_body("search-engine-overview"), "search-engine-overview"),
        _p(_body("recsys-feature-engineering"), "recsys-feature-engineering", 1),
    ]
    q = "搜索引擎的索引一般分为哪几个部分?"
    c = check("搜索引擎的索引一般分为两个部分 [1]。", passages, tools, similarity, question=q)
    assert c.text == "" and "is not said of" in c.removed[0].reason
    # a figure in a sentence about the question's subject stands
    ddim = [_p(_body("ddim"), "ddim")]
    kept = check(
        "DDIM 只需采样 20~100 步 [1]。", ddim, tools, similarity, question="DDIM 采样需要多少步?"
    )
    assert kept.removed == []


def test_a_quote_that_repeats_its_own_words_is_shown_once(tools, similarity):
    # a real dev answer (m091): every heading was followed by itself in quotes
    rerank = [_p(_body("rerank"), "rerank")]
    answer = (
        'It organizes re-ranking methods under three headings: "更加精准打分" ("更加精准打分"), '
        '"关注序和上下文" ("关注序和上下文"), and "特殊需求重排" ("特殊需求重排") [1].'
    )
    c = check(answer, rerank, tools, similarity, "en", "How does the article organize reranking?")
    assert c.removed == [] and c.text.count("更加精准打分") == 1 and "特殊需求重排" in c.text


def test_an_item_number_is_no_figure_a_clause_can_rest_on(tools, similarity):
    # asked as a user ("搜索引擎的索引一般分为哪几个部分?"): "…分为两个部分" rested on the
    # rerank passage's list item "2、pointwise模式的打分…", the only "2" in it
    rerank = [_p(_body("rerank"), "rerank")]
    c = check(
        "搜索引擎的索引一般分为两个部分 [1]。",
        rerank,
        tools,
        similarity,
        question="搜索引擎的索引一般分为哪几个部分?",
    )
    assert c.removed and c.removed[0].rule == "number"
    assert [(n.low, n.surface) for n in numbers_in("2、pointwise模式 (3) 打分")] == []
    assert [n.low for n in numbers_in("采用 1、2 或 4 张卡, 第 2、3 步", strict=False)] == [
        1.0,
        2.0,
        4.0,
        2.0,
        3.0,
    ]


def test_a_significant_amount_of_human_work_is_what_the_passage_says(tools, similarity):
    # dev answer m003: "because it requires a significant amount of human work" was removed
    # ("'significant', 'human' not in the passages") over "这可能需要大量的人工工作"
    anchors = [_p(_body("anchor-free"), "anchor-free")]
    c = check(
        "Having to predefine anchors is a drawback because it requires a significant amount "
        "of human work [1].",
        anchors,
        tools,
        similarity,
        lang="en",
        question="Why is having to predefine and generate a set of anchors seen as a drawback?",
    )
    assert c.removed == [] and "human work [1]" in c.text


def test_a_connective_is_not_left_alone_when_its_sentence_lost_every_claim(tools, similarity):
    # asked as a user ("重参数技巧为什么能让梯度反传?"): the answer ended "…定义的 [1]。具体来说 [1]。"
    reparam = [_p(_body("reparameterization"), "reparameterization")]
    answer = (
        "重参数是处理期望形式的目标函数的一种技巧 [1]。"
        "具体来说，重参数技巧通过引入一个随机变量来表示原始的参数 [1]。"
    )
    c = check(answer, reparam, tools, similarity, question="重参数技巧为什么能让梯度反传?")
    assert c.text == "重参数是处理期望形式的目标函数的一种技巧 [1]。"
    assert "具体来说" not in (c.notice or "") and "随机变量" in (c.notice or "")
    # kept when what it introduces is kept
    kept = check(
        "具体来说，重参数是处理期望形式的目标函数的一种技巧 [1]。", reparam, tools, similarity
    )
    assert kept.text.startswith("具体来说") and kept.removed == []


def test_a_list_the_passage_gives_in_one_sentence_cites_that_passage_once(tools, similarity):
    # asked as a user: "…due to their low resolution [1], blurry images [5], limited information,
    # and high noise [1]" (blurry had no rendering; 图像模糊 is in [1]'s sentence)
    small = [_p(_body("small-object-detection"), "small-object-detection")]
    pyramid = [_p(_body("image-feature-pyramid"), "image-feature-pyramid")]
    c = check(
        "Because small objects are harder to detect due to their low resolution, blurry images, "
        "limited information, and high noise [1].",
        small + pyramid,
        tools,
        similarity,
        lang="en",
        question="Why do small objects hurt detection accuracy?",
    )
    assert c.removed == [] and c.cited == [1] and c.text.count("[1]") == 1


def test_a_bracketed_label_the_model_wrote_like_a_citation_is_not_a_sentence(tools, similarity):
    # asked as a user ("DPO 是什么?" then "它和 RLHF 有什么区别?"): the answer ended "…方法 [1]。[DPO] [1]."
    dpo = [_p(_body("dpo"), "dpo")]
    c = check(
        "DPO 是一种直接偏好优化的方法，而 RLHF 是一种分两步走的方法。[DPO]",
        dpo,
        tools,
        similarity,
        question="DPO 和 RLHF 有什么区别?",
    )
    assert c.text == "DPO 是一种直接偏好优化的方法，而 RLHF 是一种分两步走的方法 [1]。"
    assert c.notice is None


def test_a_three_character_term_the_question_names_is_not_present_by_its_last_two(
    tools, similarity
):
    # asked as a user ("DeepSeek-R1 为什么需要冷启动数据?"; the articles never speak of a cold
    # start): the answer gave post-training's benefits as the reason, and was kept because
    # 启动 occurs in a passage; its "但…" clause then has nothing left to contrast
    r1 = [_p(_body("deepseek-r1"), "deepseek-r1"), _p("训练启动前需要准备数据。", "other")]
    c = check(
        "DeepSeek-R1 需要冷启动数据是因为预训练需要的计算资源相对较少,但能够提高推理任务的准确性 [1]。",
        r1,
        tools,
        similarity,
        question="DeepSeek-R1 为什么需要冷启动数据?",
    )
    assert c.empty
    assert c.removed[0].reason == "'冷启动' not in the passages"


def test_a_verb_is_not_rendered_through_an_unrelated_word_sharing_its_first_letters(
    tools, similarity
):
    # asked as a user ("Why does DDPG use a deterministic policy instead of a stochastic one?"):
    # "proposed" took the renderings of proportion/propolis (平均, 蜂胶 …), so "someone proposed
    # using deterministic policies" was supported by the stochastic-approximation article's
    # "平均" sentence and pulled its neighbour's citation there; the DDPG article says it
    # ("于是有人就想出使用确定性策略来简化这个问题")
    passages = _articles("ddpg", "stochastic-approximation")
    c = check(
        "To simplify the problem, someone proposed using deterministic policies.",
        passages,
        tools,
        similarity,
        lang="en",
        question="Why does DDPG use a deterministic policy instead of a stochastic one?",
    )
    assert c.removed == []
    assert [cl.support for cl in c.clauses] == [[1], [1]]
    assert c.text == "To simplify the problem, someone proposed using deterministic policies [1]."


def test_an_infinitive_of_purpose_left_alone_is_not_shown():
    from rag.answer.claims.remnants import dependent

    assert dependent("To simplify the problem", True)
    assert not dependent("Tokens are split", True) and not dependent("To date it works", True)


def test_a_citation_that_barely_passes_gives_way_to_the_passage_that_says_it(tools, similarity):
    # asked as a user ("Why is small object detection hard?"): the model cited [2] (anchor-free)
    # for a list that the small-object article says word for word; "blurry images" stayed on
    # [2], which only passed through "images" (0.28 against 0.59 for [1])
    passages = _articles("small-object-detection", "anchor-free")
    c = check(
        "Because of low resolution, blurry images, limited information, noise, and other "
        "factors, small objects are difficult to detect, especially in face detection. [2]",
        passages,
        tools,
        similarity,
        lang="en",
        question="Why is small object detection hard?",
    )
    assert c.removed == []
    assert all(cl.support == [1] for cl in c.clauses)
    assert c.cited == [1]


def test_a_chinese_answer_over_the_english_article_stands_on_its_english_words(tools, similarity):
    # asked as a user ("SPP 用的是哪种池化?"): the model's right answer was removed. 最大 was read
    # as a comparison the English sentence does not make, and the Chinese clause model, which
    # never saw English evidence, scored e5's lower cross-lingual similarity as a miss
    spp = _articles("spp", "ddpg")
    c = check("SPP 用的是最大池化 [1]。", spp, tools, similarity, question="SPP 用的是哪种池化?")
    assert c.removed == [] and c.text == "SPP 用的是最大池化 [1]。"
    assert "maximum pool" in c.clauses[0].evidence


def test_a_negation_whose_own_verb_is_a_stop_word_does_not_reach_past_and(tools, similarity):
    # asked as a user ("Why is CTR prediction special as a regression problem?"): "(we can't
    # show the same ad 10,000 times and count clicks …)" was removed as a negation the source
    # does not make: "show" is no claim word, so the negation was tested on "count" (统计),
    # 28 characters after the source's own 没有办法
    ctr = _articles("ctr-prediction")
    answer = (
        "The training data only has 0/1 values (we can't show the same ad 10,000 times and count "
        "clicks to estimate the true click rate) [1]."
    )
    c = check(answer, ctr, tools, similarity, lang="en")
    assert c.removed == [] and c.text == answer
    # the scope: the negation's first claim word, not one past an "and"
    from rag.answer.claims.lexicon import Lexicon

    lex = Lexicon(ctr, tools["terms"], tools["glossary"], lambda t: [(0, len(t))])
    far = lex.clause_info("we can't show the same ad 10,000 times and count clicks", True)
    near = lex.clause_info("the message does not wrap a Features message", True)
    assert far.negated and far.neg_scope == []
    assert [u.surface for u in near.neg_scope] == ["wrap"]


def test_a_clause_rests_on_the_passage_with_the_question_words_it_repeats(tools, similarity):
    # asked as a user ("What is the relationship between Prefix-Tuning and CTRL?"): "Prefix-Tuning
    # is a variant of CTRL," was judged on "variant" alone (the names are the question's), rested
    # on the FLASH article's 变体, and was then removed for not naming Prefix-Tuning
    passages = _articles("prefix-tuning", "ctr-prediction", "tf-feature-column", "flash-gau")
    c = check(
        "Prefix-Tuning is a variant of CTRL, which is a model for text generation that includes "
        "control codes in the input text.",
        passages,
        tools,
        similarity,
        lang="en",
        question="What is the relationship between Prefix-Tuning and CTRL?",
    )
    assert c.removed == []
    assert all(cl.support == [1] for cl in c.clauses)


# ------------------------------------------------------------- opposites an English clause states
def test_the_bie_of_a_word_is_no_negation(tools, similarity):
    """Asked as a user, "特征工程里怎么处理类别特征?" had its answer removed for "negation not in the
    source": the 别 of 类别 was read as "don't". Imperative 别/勿 still negate."""
    passages = _articles("tf-feature-column", "recsys-feature-engineering")
    said = "特征工程里处理类别特征的方法包括特征设计、清洗、变换以及特征选择 [2]。"
    c = check(said, passages, tools, similarity, question="特征工程里怎么处理类别特征?")
    assert c.removed == [] and c.text == said
    assert zh_negations("请勿在训练时改动类别") == [(1, 2)]


def test_a_verb_that_negates_its_object_is_a_negation(tools, similarity):
    """ "avoids / gives up / lacks X" says X is not there: over a source that uses X the clause
    is removed; over one that avoids (避免/放弃) it, kept."""
    used = [_p("为了提高训练效率，该方法采用了混合精度训练。")]
    bad = check(
        "To train faster it avoids mixed-precision training [1].", used, tools, similarity, "en"
    )
    assert [r.reason for r in bad.removed] == ["negation not in the source [1]"]
    avoided = [_p("为了提高训练效率，该方法避免了混合精度训练。")]
    ok = check(
        "To train faster it avoids mixed-precision training [1].", avoided, tools, similarity, "en"
    )
    assert ok.removed == []
    kept = [_p("它还保持了做 Decoder 的可能性，并且能保持高效的训练并行性。")]
    gave_up = check(
        "It keeps the decoder option but gives up efficient training parallelism [1].",
        kept,
        tools,
        similarity,
        "en",
    )
    assert [r.rule for r in gave_up.removed] == ["negation"]
    # the scope of "lacks" does not enter a parenthesised quote of the source
    flow = [_p("flow 模型缺少直观的类比（因为 flow 整体偏数学化，所以很难让人提起兴趣来）。")]
    quoted = check(
        "Flow models lack an intuitive analogy (因为 flow 整体偏数学化) [1].",
        flow,
        tools,
        similarity,
        "en",
    )
    assert quoted.removed == []


def test_a_name_where_the_evidence_names_another_version_is_removed(tools, similarity):
    """ "validated in DeepSeek-R1" over "在 DeepSeek-V2 中已经得到验证": the version is the claim,
    although DeepSeek-R1 is named elsewhere in the passage (not in the evidence sentence or the
    one next to it). A typo of the source is no swap."""
    passages = [
        _p(
            "这两种架构在 DeepSeek-V2 中已经得到验证。它们兼顾性能与效率。训练成本很低。"
            "DeepSeek-R1 是一个推理模型，以 GridWord 环境为例讲解。"
        )
    ]
    bad = check(
        "Both architectures were validated in DeepSeek-R1 [1].", passages, tools, similarity, "en"
    )
    assert [r.reason for r in bad.removed] == ["'DeepSeek-R1' where [1] says 'DeepSeek-V2'"]
    ok = check(
        "Both architectures were validated in DeepSeek-V2 [1].", passages, tools, similarity, "en"
    )
    assert ok.removed == []
    typo = check(
        "It uses the GridWorld environment as its example [1].", passages, tools, similarity, "en"
    )
    assert typo.removed == []


def test_a_name_said_to_be_another_name_the_passage_keeps_apart_is_removed(tools, similarity):
    """Asked as a user, "Mamba 是什么时候提出的?" was answered "Mamba 是2021年的 S4 [1]。": the
    article names S4 as the first SSM and Mamba as the newest, each in a clause of its own."""
    passages = _articles("ssm-hippo")
    bad = check("Mamba 是2021年的 S4 [1]。", passages, tools, similarity)
    assert [r.reason for r in bad.removed] == ["'Mamba' is not 'S4' in [1]"]
    assert bad.text == ""
    ok = check("SSM 的开篇之作是2021年的 S4 [1]。", passages, tools, similarity)
    assert ok.removed == [] and "S4" in ok.text


def test_a_name_given_what_the_passage_says_of_another_name_is_removed(tools, similarity):
    """Asked as a user, "SSM 和 HiPPO 有什么关系?" was answered "…HiPPO 是 SSM 的奠基之作，而 S4 是
    SSM 的最新最火的变体 [1]。": the article says the newest variant is Mamba (S4 is the first)."""
    passages = _articles("ssm-hippo")
    bad = check(
        "HiPPO 是 SSM 的奠基之作，而 S4 是 SSM 的最新最火的变体 [1]。",
        passages,
        tools,
        similarity,
        question="SSM 和 HiPPO 有什么关系?",
    )
    assert [(r.text, r.reason) for r in bad.removed] == [
        ("而 S4 是 SSM 的最新最火的变体", "'S4' where [1] says 'Mamba'")
    ]
    assert "奠基之作" in bad.text and "S4" not in bad.text
    ok = check("Mamba 是 SSM 最新最火的变体 [1]。", passages, tools, similarity)
    assert ok.removed == [] and "Mamba" in ok.text


def test_a_name_the_passage_sets_apart_is_not_an_example_of_the_subject(tools, similarity):
    """Asked as a user, "Anchor-free 检测器有哪些代表模型?" was answered "Anchor-free 目标检测器代表模型
    包括 Faster RCNN [1]。" over "Anchorfree … 与传统的使用锚框的方法(例如Faster RCNN)不同"."""
    passages = _articles("anchor-free")
    for answer in (
        "Anchor-free 目标检测器代表模型包括 Faster RCNN [1]。",
        "Anchor-free detectors such as Faster RCNN predict objects without anchors [1].",
    ):
        lang = "en" if answer.isascii() else "zh"
        assert "Faster RCNN" not in check(answer, passages, tools, similarity, lang).text
    # what the passage does say of Faster RCNN stays
    ok = check("Faster RCNN 是使用锚框的传统方法 [1]。", passages, tools, similarity)
    assert ok.removed == []


def test_least_where_the_source_says_most_and_below_where_it_says_above(tools, similarity):
    search = [_p("搜索引擎通过 query 和 doc 的匹配，返回用户最可能点击的文档。")]
    least = "It returns the documents the user is least likely to click [1]."
    assert [(r.rule, r.reason) for r in check(least, search, tools, similarity, "en").removed] == [
        ("antonym", "'least' where [1] says '最可能'")
    ]
    most = "It returns the documents the user is most likely to click [1]."
    assert check(most, search, tools, similarity, "en").removed == []
    rule = [_p("其基本规则是：如果某个值超过某个阈值，则返回 1，否则返回 0。")]
    below = check(
        "If a value falls below the threshold it returns 1 [1].", rule, tools, similarity, "en"
    )
    assert [r.rule for r in below.removed] == ["antonym"]
    above = check(
        "If a value exceeds the threshold it returns 1 [1].", rule, tools, similarity, "en"
    )
    assert above.removed == []


def test_a_weak_degree_where_the_source_marvels_is_removed(tools, similarity):
    glow = [_p("OpenAI 的这个好得让人惊叹的、基于 flow 的 glow 模型，让人重新关注 flow。")]
    weak = check(
        "The author calls the flow-based glow model only moderately successful [1].",
        glow,
        tools,
        similarity,
        "en",
    )
    assert [(r.rule, r.reason) for r in weak.removed] == [
        ("antonym", "'moderately' where [1] says '惊叹'")
    ]


def test_a_chinese_question_term_an_english_passage_writes_in_english_is_not_absent(
    tools, similarity
):
    """卷积层 / 池化层 of a Chinese question over the English SPP article: the article says
    "convolutional layer" and "pooling layer", so the terms are there (this answer was removed as
    "'卷积层' not in the passages")."""
    spp = [
        _p(
            "It replaces the last pooling layer (after the last convolutional layer) with a "
            "spatial pyramid pooling layer.",
            "spp",
        )
    ]
    c = check(
        "SPP 用空间金字塔池化层替换了最后一个卷积层之后的那个池化层 [1]。",
        spp,
        tools,
        similarity,
        question="SPP 用什么替换了最后一个卷积层之后的池化层？",
    )
    assert c.removed == []


def test_a_question_term_the_passage_writes_as_its_synonym_is_not_absent(tools, similarity):
    """大模型 of "现在的大模型还用 ReLU 吗?" over an article that says 大型语言模型(LLM): the answer's
    "而现在的大模型似乎都在使用…更高级的激活函数" was removed as "'大模型' not in the passages"."""
    p = [_p("最近,似乎现在每个大型语言模型(LLM)都使用略有不同的激活函数。", "llm-activations")]
    c = check(
        "现在的大模型似乎都在使用略有不同的激活函数 [1]。",
        p,
        tools,
        similarity,
        question="现在的大模型还用 ReLU 吗？",
    )
    assert c.removed == []
    gone = check(
        "现在的大模型似乎都在使用略有不同的激活函数 [1]。",
        [_p("最近,似乎现在每个神经网络都使用略有不同的激活函数。")],
        tools,
        similarity,
        question="现在的大模型还用 ReLU 吗？",
    )
    assert [r.reason for r in gone.removed] == ["'大模型' not in the passages"]


def test_not_yet_negates_the_verb_and_every_new_are_words(tools, similarity):
    """ "has not yet reached" negates "reached" (it was judged on "yet", found in 尚未's 尚 and
    removed as a negation the source does not make); every/new are 每/新."""
    p = [_p("这个模型尚未达到人类水平。它每获得一个新样本就更新一次参数。")]
    c = check("The model has not yet reached human level [1].", p, tools, similarity, "en")
    assert c.removed == []
    c = check(
        "It updates its parameters every time a new sample arrives [1].", p, tools, similarity, "en"
    )
    assert c.removed == []


def test_an_ml_term_of_the_answer_no_passage_mentions_is_removed(tools, similarity):
    """An English ML term of the clause's own ("normal distribution") that the passages never
    mention — not as the term, not as 正态分布, not word by word — is a claim about something
    they do not speak of; a term they say word by word ("sampling steps": 采样, 步) is there."""
    walk = [_p("随机游走本质上是一个二项分布问题，但是取极限后会带来很多新的性质和应用。")]
    c = check(
        "It is essentially a binomial distribution [1]. In the limit it follows a normal "
        "distribution [1].",
        walk,
        tools,
        similarity,
        "en",
    )
    assert [r.reason for r in c.removed] == ["'normal distribution' not in the passages"]
    ddim = [_p("DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的效果。")]
    ok = check("DDIM needs only 20 to 100 sampling steps [1].", ddim, tools, similarity, "en")
    assert ok.removed == []
    # a Chinese term as well (梯度消失), judged as the question's terms are
    relu = [_p("ReLU 的计算非常简单，收敛速度也更快。")]
    zh = check("ReLU 计算简单 [1]，并且能彻底解决梯度消失问题 [1]。", relu, tools, similarity)
    assert [r.reason for r in zh.removed] == ["'梯度消失' not in the passages"]


def test_a_numeral_of_a_name_the_question_gives_is_no_figure(tools, similarity) -> None:
    """CMRC trial: "五月艾分布在哪些地区?" answered with the article's own list of 37 regions was
    removed as "number 五 not in [1]": the list is cut into 90-character pieces, and the piece
    that holds its end does not name the plant, whose 五 was read as the figure five."""
    places = (
        "越南、老挝、缅甸、泰国、尼泊尔、菲律宾、印度、不丹、日本、朝鲜以及中国大陆的四川、浙江、江西、"
        "西藏、陕西、山西、内蒙古、云南、辽宁、河北、福建、安徽、甘肃、江苏、湖南、湖北、贵州、广西、"
        "河南、山东、广东等地"
    )
    passage = _p(f"七叶树是无患子科的植物。分布于{places}，生长于海拔100米至2,800米的地区。")
    answer = f"七叶树分布于{places} [1]。"
    checked = check(answer, [passage], tools, similarity, question="七叶树分布在哪些地区?")
    assert checked.clauses[0].supported, checked.clauses[0].reason
    # a figure the passage lacks still is one
    wrong = check("七叶树有三种 [1]。", [passage], tools, similarity, question="七叶树有几种?")
    assert not wrong.clauses[0].supported


def test_a_word_jieba_cut_across_two_words_is_found_by_its_neighbours(tools, similarity):
    # faithfulness dev f153: "公式一从 top 往下…" (the article: "公式一:这个算法从top往下…") was
    # removed as "'一从' not in the passages": jieba reads 一从 as one word across 公式一|从
    rf = [_p(_body("receptive-field"), "receptive-field")]
    answer = "公式一从 top 往下层层迭代,直到追溯回 input image,从而计算出 RF [1]。"
    c = check(answer, rf, tools, similarity, question="公式一是怎样计算感受野的?")
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    # a word put in is still missing although its characters stand beside words of the article
    # (池化, pooling: not in this article; stop 63 took 反向, a verb the model now weighs less and
    # arguably said by 从 top 往下…追溯回 input, out of this test)
    c = check(answer.replace("层层", "层层池化"), rf, tools, similarity)
    assert any("池化" in x.reason for x in c.removed)


def test_a_long_chinese_term_is_not_present_by_two_words_of_other_sentences(tools, similarity):
    # held-out dev near miss (h003 with the CTR article left out): "点击率预估本质上被当作匹配问题"
    # was kept from the search overview: 点击率预估 counted as present through 点击 ("最可能点击
    # 的文档") and 预估 (the rerank article's "CTR/CVR进行预估")
    question = "从机器学习的角度看,点击率预估本质上被当作哪一类问题来处理?"
    others = [_p(_body("search-engine-overview"), "search"), _p(_body("rerank"), "rerank")]
    c = check(
        "点击率预估本质上被当作匹配问题来处理 [1]。", others, tools, similarity, "zh", question
    )
    assert c.empty and c.removed[0].reason == "'点击率预估' not in the passages"
    # the CTR article writes "点击率(Click Through Rate, CTR)预估": the term is there
    ctr = [_p(_body("ctr-prediction"), "ctr")]
    kept = check(
        "从机器学习的角度来说这是一个普通的回归问题 [1]。", ctr, tools, similarity, "zh", question
    )
    assert not kept.removed


def test_no_longer_negates_the_word_after_it(tools, similarity):
    # held-out dev h037: "The first variant no longer has quadratic complexity" was kept over
    # "它依然具有二次的复杂度": "no" was read alone, its scope "longer", which says nothing
    flash = [_p(_body("flash-gau"), "flash-gau")]
    question = "Is the first Transformer variant proposed in FLASH linear in complexity?"
    bad = check(
        "The first variant no longer has quadratic complexity [1].",
        flash,
        tools,
        similarity,
        "en",
        question,
    )
    assert bad.removed and "negation" in bad.removed[0].reason
    ok = check(
        "The first variant still has quadratic complexity [1].",
        flash,
        tools,
        similarity,
        "en",
        question,
    )
    assert not ok.removed


# CMRC 2018 trial paragraph TRIAL_157 (CC BY-SA 4.0), the sentences the case turns on
ZBIKOWSKI = (
    "1996年起，微软独立开发Cairo，茨柏克沃斯基参与Windows NT核心的档案系统开发。"
    "2006年6月，茨柏克沃斯基从微软退休。除了公司创办人比尔·盖兹（Bill Gates）与史蒂夫·巴尔默"
    "（Steve Ballmer）以外，他是公司内第一位达到服务满25年的员工。"
    "2008年1月，茨柏克沃斯基加入SWsoft担任资深技术顾问。"
)


@pytest.mark.parametrize(
    "answer",
    ["2008年1月，茨柏克沃斯基从微软退休 [1]。", "茨柏克沃斯基于2008年1月从微软退休了 [1]。"],
)
def test_a_date_of_another_statement_of_the_passage_is_removed(answer, tools, similarity):
    # the embedded model's answer on the CMRC trial sample: every figure and word is in the
    # passage, but 2008年1月 dates his joining SWsoft; the passage dates the retirement 2006年6月
    q = "茨柏克沃斯基是何时从微软退休的？"
    c = check(answer, [_p(ZBIKOWSKI, "TRIAL_157")], tools, similarity, question=q)
    assert c.text == ""
    assert [r.reason for r in c.removed] == ["'2008' where [1] says '2006'"]
    right = check(
        "2006年6月，茨柏克沃斯基从微软退休 [1]。",
        [_p(ZBIKOWSKI, "TRIAL_157")],
        tools,
        similarity,
        question=q,
    )
    assert right.removed == [] and right.text == "2006年6月，茨柏克沃斯基从微软退休 [1]。"


def test_a_figure_written_with_its_unit_is_read_whole():
    # "1750.33km²" had been read as 1750 (a letter after a figure stopped it), so "1750.33 km²"
    # was "not in [1]"; "5kg" and "300MB" were no figures at all
    got = [n.low for t in ("面积为1750.33km²", "5kg", "300MB", "100m 短跑") for n in numbers_in(t)]
    assert got == [1750.33, 5.0, 300.0, 100.0]
    # a scale letter stays a scale, and a word with a figure in it is no figure
    assert [n.low for n in numbers_in("2.8B 参数, 8k 上下文")] == [2.8e9, 8000.0]
    assert numbers_in("3D 卷积, Qwen2.5, H100") == []


def test_an_area_in_square_kilometres_is_a_figure_not_a_name(tools, similarity):
    # CMRC trial paragraph TRIAL_303 (CC BY-SA 4.0); the embedded model's right answer had been
    # removed for "'km2' not in the passages" (km² read as a name)
    p = [
        _p(
            "卡塞雷斯（西班牙语：Cáceres）西班牙城市，是卡塞雷斯省的首府。"
            "其陆地管辖面积为1750.33km²，在西班牙城市中是最大的。",
            "TRIAL_303",
        )
    ]
    q = "What is the land area of Cáceres?"
    c = check("The land area of Cáceres is 1750.33 km². [1]", p, tools, similarity, "en", q)
    assert c.removed == [] and "1750.33 km²" in c.text
    wrong = check("The land area of Cáceres is 1850.33 km². [1]", p, tools, similarity, "en", q)
    assert wrong.text == "" and "1850.33" in wrong.removed[0].reason


def test_a_chinese_figure_moved_to_another_noun_is_removed(tools, similarity):
    # asked as a user: "DeepSeek-V3 的 MoE 有多少个路由专家?" was answered "…有 37B 个路由专家 [1]。"
    # with no notice; the article's 37B counts activated parameters (English had this rule)
    v3 = [_p(_body("deepseek-v3"), "deepseek-v3")]
    q = "DeepSeek-V3 的 MoE 有多少个路由专家?"
    c = check("DeepSeek-V3 的 MoE 有 37B 个路由专家 [1]。", v3, tools, similarity, question=q)
    assert c.text == ""
    assert c.removed[0].reason == "'37B 个路由专家' where [1] says '37B 个参数'"
    right = check("每个 token 会激活 37B 个参数 [1]。", v3, tools, similarity, question=q)
    assert right.removed == []


def test_allow_and_across_are_no_words_a_passage_must_write(assistant, tools, similarity):
    """Asked as a user, "Why does DDP use multiple processes?" lost "because it allows for
    distributed training across multiple GPUs" for "'allows', 'across' not in the passages", and
    the GIL clause after it with it: the fallback showed a "Quick Start" heading instead."""
    q = "Why does DDP use multiple processes?"
    answer = (
        "DDP uses multiple processes because it allows for distributed training across multiple "
        "GPUs, which can help alleviate GIL limitations [1]."
    )
    c = check(answer, assistant.retrieve(q), tools, similarity, "en", q)
    assert [r.reason for r in c.removed] == [] and "GIL" in c.text


def test_a_connective_pointing_at_a_removed_sentence_goes_with_it(ddim, tools, similarity):
    """Asked as a user, "How does DDIM speed up sampling?" was answered "Instead, DDIM uses a
    theoretical approach…" once the sentence before it went: instead of what the reader can't
    see. So for one after a kept sentence and a removed one ("…步 [1]。[removed] 因此，…")."""
    first = check(
        "DDIM speeds up sampling by running on 5000 GPUs [1]. Instead, DDIM samples in only 20 "
        "to 100 steps [1].",
        ddim,
        tools,
        similarity,
        "en",
    )
    assert first.text == "DDIM samples in only 20 to 100 steps [1]."
    middle = check(
        "DDIM 仅采样 20~100 步 [1]。DDIM 需要 5000 块 GPU [1]。因此，DDIM 提速 10~50 倍 [1]。",
        ddim,
        tools,
        similarity,
    )
    assert middle.text == "DDIM 仅采样 20~100 步 [1]。DDIM 提速 10~50 倍 [1]。"


def test_a_lead_in_that_restates_the_question_with_respectively_is_no_claim(tools, similarity):
    # a real answer (CMRC 2018 trial sample, TRIAL_763): the lead-in "…各自的主唱歌曲分别是" was
    # removed as "'分别' not in the passages" and the reader was told of a removed claim, though
    # it adds nothing to the question but "respectively"
    passage = _p(
        "吉布三兄弟在专辑中都有其主唱的歌曲，例如：巴里·吉布主唱《Loose Talk Costs Lives》，"
        "罗宾·吉布主唱《Embrace》，而莫里斯·吉布则主唱《Man in the Middle》。"
    )
    question = "吉布三兄弟在专辑中各自的主唱歌曲是什么？"
    answer = (
        "吉布三兄弟在专辑中各自的主唱歌曲分别是：巴里·吉布主唱《Loose Talk Costs Lives》，"
        "罗宾·吉布主唱《Embrace》，而莫里斯·吉布则主唱《Man in the Middle》 [1]。"
    )
    c = check(answer, [passage], tools, similarity, question=question)
    assert c.removed == []
    assert c.text.startswith("吉布三兄弟在专辑中各自的主唱歌曲分别是")
    # an invented respectively-list is still checked on its items
    wrong = answer.replace("《Embrace》", "《Stayin' Alive》")
    assert [r.text for r in check(wrong, [passage], tools, similarity, question=question).removed]


def test_a_title_before_a_name_ends_no_sentence():
    """A stored CMRC answer, "…statues of St. John of Matha and St. Felix of Valois on either
    side [1].", was split after each "St." and shown as "John of Matha and St [1]. Felix of
    Valois on either side [1]." once its first clause went. A unit before a full stop still
    ends its sentence."""
    from rag.answer.claims.clauses import split_sentences

    text = "It has statues of St. John of Matha and St. Felix of Valois on either side [1]."
    assert split_sentences(text) == [(0, len(text))]
    text = "Mr. Smith met Dr. Lee [1]. The latency is 20 ms. It is low [1]."
    assert [text[s:e].strip() for s, e in split_sentences(text)] == [
        "Mr. Smith met Dr. Lee [1].",
        "The latency is 20 ms.",
        "It is low [1].",
    ]


def test_an_answer_announcing_what_it_never_says_is_no_answer(tools, similarity):
    """Asked as a user, "DPO 和 RLHF 有什么区别?" was answered "DPO 是直接偏好优化(DPO) 传统的RLHF
    方法分两步走: [1]。" and shown as "…分两步走 [1]。": the two steps never came, and the words
    are the passage's own. A clause ending in a colon with nothing kept after it goes (the
    chain then shows the extractive answer); one followed by what it announces stays."""
    passages = _articles("dpo")
    question = "DPO 和 RLHF 有什么区别?"
    c = check(
        "DPO 是直接偏好优化(DPO) 传统的RLHF方法分两步走: [1]。",
        passages,
        tools,
        similarity,
        question=question,
    )
    assert c.text == "" and [r.reason for r in c.removed] == [
        "it announced what the answer never says"
    ]
    said = "传统的RLHF方法分两步走: 先训练一个奖励模型来判断哪个回答更好 [1]。"
    c = check(said, passages, tools, similarity, question=question)
    assert "先训练一个奖励模型" in c.text and not c.removed, c.removed


def test_a_quote_after_its_sentences_full_stop_is_shown_with_it(tools, similarity):
    """Asked as a user, "How many GPU processes does DDP start with N GPUs?" was answered
    "N processes are started with N GPUs. ("N个进程被启动,…") [1]" and shown as two sentences,
    the quote alone and ending in "。". The quote belongs to the sentence before it."""
    answer = (
        'N processes are started with N GPUs. ("N个进程被启动,每个进程在一张卡上加载一个模型,'
        '这些模型的参数在数值上是相同的") [1]'
    )
    q = "How many GPU processes does DDP start with N GPUs?"
    c = check(answer, _articles("pytorch-ddp"), tools, similarity, lang="en", question=q)
    assert c.text == (
        'N processes are started with N GPUs ("N个进程被启动,每个进程在一张卡上加载一个模型,'
        '这些模型的参数在数值上是相同的") [1].'
    ), c.text


def test_a_drawback_is_not_given_as_an_advantage(tools, similarity):
    """Asked as a user, "What are the advantages of FM?" got "…, linear time complexity, ability
    to generalize to unseen cross-feature information, and lack of consideration of
    higher-order features [1]": the last is what the FM article lists under "不足:". It goes; the
    same point given as a drawback, or in answer to a question asking for drawbacks, stays."""
    passages = _articles("fm-ffm")
    answer = (
        "FM has several advantages, including effective handling of sparse scenarios, linear "
        "time complexity, and lack of consideration of higher-order features [1]."
    )
    c = check(answer, passages, tools, similarity, "en", question="What are the advantages of FM?")
    assert [r.reason for r in c.removed] == ["[1] lists it under '不足'"], c.removed
    assert "linear time complexity [1]." in c.text and "higher-order" not in c.text
    said = "FM does not consider higher-order features [1]."
    c = check(said, passages, tools, similarity, "en", question="What are the drawbacks of FM?")
    assert not any(r.rule == "judgement" for r in c.removed), c.removed
    zh = "FM 的不足是没有考虑高阶特征的信息 [1]。"
    c = check(zh, passages, tools, similarity, question="FM 有哪些优点?")
    assert not any(r.rule == "judgement" for r in c.removed), c.removed


def test_a_quote_never_closed_is_checked_as_one_quote(tools, similarity):
    """Asked as a user, "What are the limitations of the image pyramid approach?" was answered
    with an English lead-in and a quote the model never closed; the quote's three sentences
    were shown as the answer's own, each with a citation inside the open parenthesis."""
    answer = (
        'The image pyramid approach has limitations ("在正式介绍之前,先简单回顾一下现有的两大类方法。'
        " 第一大类,也是从非Deep时代,乃至CV初期就被就被广泛使用的方法叫做image pyramid。"
        " 在image pyramid中,我们直接对图像进行不同尺度的缩放,然后将这些图像直接输入到detector中去进行检测。"
    )
    q = "What are the limitations of the image pyramid approach?"
    passages = _articles("image-feature-pyramid", "spp")
    c = check(answer, passages, tools, similarity, lang="en", question=q)
    assert c.text.count("[") == 1 and c.text.count("(") == c.text.count(")"), c.text


def test_a_quote_closed_after_its_citation_is_not_closed_again(tools, similarity):
    """Asked as a user, "What are the advantages of DPO over RLHF?" was answered '… stage
    ("…不如直接训练语言模型,让它自己内化" [1]).' and shown ending '内化").") [1].': the quote, closed
    after its citation, read as one the model never closed."""
    quote = "与其先训练奖励模型再训练语言模型,不如直接训练语言模型,让它自己内化"
    answer = f'DPO skips the separate reward modeling stage ("{quote}" [1]).'
    q = "What are the advantages of DPO over RLHF?"
    c = check(answer, _articles("dpo"), tools, similarity, lang="en", question=q)
    assert c.text.count('"') == 2 and c.text.count(")") == 1, c.text
    assert c.text.endswith('内化") [1].'), c.text


def test_an_english_restatement_around_a_chinese_quote_only_restates(tools, similarity):
    """The unclosed-quote answer above, closed: "The image pyramid approach has limitations
    ("第一大类…叫做image pyramid。") [1]" says only the question back (the quote is the passage's
    words, not the answer's), so the chain shows the extract instead. An English clause that
    says something of its own beside its quote is an answer."""
    q = "What are the limitations of the image pyramid approach?"
    passages = _articles("image-feature-pyramid", "spp")
    quote = "第一大类,也是从非Deep时代,乃至CV初期就被就被广泛使用的方法叫做image pyramid。"
    answer = f'The image pyramid approach has limitations ("{quote}") [1].'
    assert check(answer, passages, tools, similarity, lang="en", question=q).restated
    said = 'It scales the image to different sizes and feeds each to the detector ("在image pyramid中,我们直接对图像进行不同尺度的缩放") [1].'
    assert not check(said, passages, tools, similarity, lang="en", question=q).restated


def test_lower_due_to_over_a_chinese_slightly_lower_is_supported(tools, similarity):
    """ "Why might the online result be lower than the offline validation score?" was answered
    rightly, "…lower than the offline validation score due to various reasons, including feature
    delays, …", and the whole answer gave way to the extract: "due" counted as a word to find,
    and "lower than" as a comparison 略低 ("slightly lower") does not make."""
    recsys = _articles("recsys-feature-engineering")
    c = check(
        "The online result might be lower than the offline validation score due to various "
        "reasons, including feature delays, feature inconsistency, and data loss during sample "
        "storage [1].",
        recsys,
        tools,
        similarity,
        "en",
        question="Why might the online result be lower than the offline validation score?",
    )
    assert c.removed == []
    higher = check(
        "The online result is usually higher than the offline validation score [1].",
        recsys,
        tools,
        similarity,
        "en",
    )
    assert [r.rule for r in higher.removed] == ["comparison"]


def test_a_chinese_sentence_listing_names_keeps_its_quote(tools, similarity):
    """ "Which linear RNN models can be counted as SSMs?" got 'RWKV、RetNet、LRU都可以归入此类
    ("当然,当我们谈到SSM时,也可能泛指一切线性RNN模型") [1].' and the user read the quote removed as
    unsupported: the three names were taken for English words the quote had to hold."""
    ssm = _articles("ssm-hippo")
    c = check(
        'RWKV、RetNet、LRU都可以归入此类 ("当然,当我们谈到SSM时,也可能泛指一切线性RNN模型") [1].',
        ssm,
        tools,
        similarity,
        "en",
        question="Which linear RNN models can be counted as SSMs?",
    )
    assert c.removed == []
    assert "泛指一切线性RNN模型" in c.text


def test_a_list_answer_with_one_item_swapped_is_removed(tools, similarity):
    """ "重排的一般方法分为哪三个方面?" was answered "精排、关注序和上下文、特殊需求重排 [1]。" over
    “更加精准打分”、“关注序和上下文”、“特殊需求重排”三方面 and kept: 精排 is the article's subject, so
    every word was in the passage. The right list, or one reworded item, is kept."""
    rerank = _articles("rerank")
    q = "重排的一般方法分为哪三个方面？"
    wrong = check("精排、关注序和上下文、特殊需求重排 [1]。", rerank, tools, similarity, question=q)
    assert [(r.rule, r.reason) for r in wrong.removed] == [
        ("list", "'精排' where [1] lists '更加精准打分'")
    ]
    for right in (
        "更加精准打分、关注序和上下文、特殊需求重排 [1]。",
        "更精准的打分、关注序和上下文、特殊需求重排 [1]。",
    ):
        assert check(right, rerank, tools, similarity, question=q).removed == []


def test_an_it_sentence_after_a_removed_it_sentence_speaks_of_the_question(tools, similarity):
    """ "What is functools.partial used for in tf_export?" got "It is used to create a partial
    function that can be exported to TensorFlow's API. It allows you to fix some parameters of a
    function…": the first sentence went, and the right second one went with it, as if its "it"
    had meant something of the removed sentence; both "it"s are the question's subject. A
    "This …" after a removed sentence still goes (it points at what was removed)."""
    tf_export = _articles("tf-export")
    q = "What is functools.partial used for in tf_export?"
    c = check(
        "It is used to create a partial function that can be exported to TensorFlow's API. "
        "It allows you to fix some parameters of a function [1].",
        tf_export,
        tools,
        similarity,
        "en",
        question=q,
    )
    assert c.text == "It allows you to fix some parameters of a function [1]."
    this = check(
        "functools.partial is exported to TensorFlow's API. "
        "This allows you to fix some parameters of a function [1].",
        tf_export,
        tools,
        similarity,
        "en",
        question=q,
    )
    assert "fix some parameters" not in this.text


def test_an_open_quote_with_a_parenthesis_of_its_own_is_still_closed(tools, similarity):
    """ "How does it pool features?" (after "SPP 解决了什么问题?") got 'It pools features over
    spatial bins ("SPP applies … It replaces the last pooling layer (after the last convolutional
    layer) with … respectively.' and the reply stopped: the passage's parenthesis counted as the
    quote's end, and its three sentences were shown as the answer's own, each cited. Closed, the
    quote is trimmed to the sentence that says it."""
    spp = _articles("spp")
    c = check(
        'It pools features over spatial bins ("SPP applies a slightly different strategy in '
        "detecting objects of different scales. It replaces the last pooling layer (after the "
        "last convolutional layer) with a spatial pyramid pooling layer. The feature maps are "
        "spatially divided into m×m bins with m, say, equals 1, 2, and 4 respectively.",
        spp,
        tools,
        similarity,
        "en",
        question="SPP 解决了什么问题? How does it pool features?",
    )
    assert c.text == (
        'It pools features over spatial bins ("The feature maps are spatially divided into m×m '
        'bins with m, say, equals 1, 2, and 4 respectively.") [1].'
    )


def test_ranking_jargon_renders_into_the_chinese_of_the_rerank_article(tools, similarity):
    """ "What are the shortcomings of fine ranking…?" lost "heterogeneity content mixing (like
    products, content, ads)" over "异质内容的混排调控(如商品、内容、广告等物料的混排)": 混排 and
    商品 were not renderings of "mixing" and "products"."""
    c = check(
        "Direct use of fine ranking scores cannot meet special overallity ranking requirements, "
        "such as diversity (like price, region, brand, style), discoverability, heterogeneity "
        "content mixing (like products, content, ads), traffic control, etc. [1]",
        _articles("rerank"),
        tools,
        similarity,
        "en",
        question="What are the shortcomings of fine ranking that motivate re-ranking?",
    )
    assert c.removed == []


def test_a_point_of_a_section_labelled_with_another_name_is_not_said_of_this_one(tools, similarity):
    """ "What is FFM?" was answered "FFM is a factorization machine…, which can be effective
    for sparse scenarios [1]. It has linear time complexity and can generalize to unseen
    cross-feature information [1]." — the advantages the FM article lists under "FM:Factorization
    Machines … 优势:", before it ever names FFM. What the article says of FFM is kept."""
    c = check(
        "FFM can be effective for sparse scenarios [1]. It has linear time complexity and can "
        "generalize to unseen cross-feature information [1]. However, FFM has a higher "
        "computational complexity compared to FM [1].",
        _articles("fm-ffm"),
        tools,
        similarity,
        "en",
        question="What is FFM?",
    )
    assert [r.reason for r in c.removed] == ["[1] says it of 'FM'"] * 2
    assert c.text == "FFM has a higher computational complexity compared to FM [1]."
    fm = check(
        "It has linear time complexity [1].",
        _articles("fm-ffm"),
        tools,
        similarity,
        "en",
        question="What is FM?",
    )
    assert fm.removed == []


def test_a_comparison_s_object_is_what_follows_than_not_the_phrase_after_it(
    ddim, tools, similarity
):
    """ "How much faster is DDIM than DDPM?" was answered rightly, "DDIM is faster than DDPM by
    a factor of 10 to 50.", and removed: "compared with 'DDPM by a factor of 10 to 50': [1] makes
    no such comparison" — the phrase after the object was read as part of what DDIM is compared
    with. Compared with something the passage does not name, it still goes."""
    q = "How much faster is DDIM than DDPM?"
    c = check(
        "DDIM is faster than DDPM by a factor of 10 to 50 [1].", ddim, tools, similarity, "en", q
    )
    assert c.removed == []
    gans = check(
        "DDIM is faster than GANs by a factor of 10 to 50 [1].", ddim, tools, similarity, "en", q
    )
    assert [r.reason for r in gans.removed] == ["'GANs' not in the passages"]


# ------------------------------------------------- paraphrase: linking words, potential verbs
def test_a_paraphrase_that_changes_only_linking_words_and_verbs_is_kept(tools, similarity):
    # the articles say 确保 / 没法直接用; an answer says 保证 / 可惜: no claim of its own
    v3 = _articles("deepseek-v3")
    c = check(
        "它用 MLA 来保证推理效率，用 DeepSeekMoE 实现经济高效的训练 [1]。", v3, tools, similarity
    )
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    metrics = _articles("differentiable-metrics")
    answer = "最理想的是用正确率的相反数做损失函数，可惜正确率不可导，没法直接用 [1]。"
    c = check(answer, metrics, tools, similarity)
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    # a claim the article never makes, in the same words, still goes
    c = check(
        "它用 MLA 来保证推理效率，用 DeepSeekMoE 实现经济高效的训练，还彻底解决了专家负载失衡 [1]。",
        v3,
        tools,
        similarity,
    )
    assert [x.text for x in c.removed] == ["还彻底解决了专家负载失衡"]


def test_cannot_said_with_a_potential_complement_is_the_passages_cannot(tools, similarity):
    rerank = [_p("资源效率限制下,上千候选的精排有时也无法落地更加复杂的模型。", "rerank")]
    kept = check("上千候选的精排有时落地不了更加复杂的模型 [1]。", rerank, tools, similarity)
    assert not kept.removed, [(x.text, x.reason) for x in kept.removed]
    turned = check("上千候选的精排可以落地更加复杂的模型 [1]。", rerank, tools, similarity)
    assert turned.removed


def test_either_or_with_bu_shi_jiu_shi_denies_nothing(tools, similarity):
    walk = [_p("数轴上的一个粒子,每过一秒,它要不向前移动一格(+1),要不就向后移动一格(-1)。", "walk")]
    c = check("粒子每过一秒不是向前移动一格就是向后移动一格 [1]。", walk, tools, similarity)
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    assert zh_negations("不是向前移动一格就是向后移动一格") == []
    assert zh_negations("它不是向前移动一格") == [(1, 3)]


def test_a_name_swapped_for_its_sibling_by_ending_is_removed(tools, similarity):
    # heldout3 dev k049: "精排用 listwise 的方式…" where the article says pointwise there and
    # brings up listwise for the reranking stage; the versioned-name rule (DeepSeek-V2/-R1)
    # missed names that differ at their start
    rerank = [
        _p(
            "精排通常用 pointwise 的方式预估商品的 CTR/CVR。精排之后还有重排阶段。"
            "重排会考虑上下文,可以用 listwise 的方式建模整个候选列表。",
            "rerank",
        )
    ]
    kept = check("精排用 pointwise 的方式预估商品的 CTR/CVR [1]。", rerank, tools, similarity)
    assert not kept.removed, [(x.text, x.reason) for x in kept.removed]
    swapped = check("精排用 listwise 的方式预估商品的 CTR/CVR [1]。", rerank, tools, similarity)
    assert [x.reason for x in swapped.removed] == ["'listwise' where [1] says 'pointwise'"]


def test_a_year_stands_on_a_date_written_year_dot_month(tools, similarity):
    # heldout2 dev g052: "(2021, 'Optimizing Continuous Prompts for Generation')" was removed as
    # "number 2021 not in [1]" over "Paper: 2021.1 Optimizing…", read as the decimal 2021.1
    paper = [_p("PrefixTuning Paper: 2021.1 Optimizing Continuous Prompts for Generation。", "pt")]
    c = check("Prefix-Tuning 的论文发表于 2021 年 [1]。", paper, tools, similarity)
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    wrong = check("Prefix-Tuning 的论文发表于 2020 年 [1]。", paper, tools, similarity)
    assert [x.reason for x in wrong.removed] == ["number 2020 not in [1]"]


def test_a_western_name_the_article_writes_by_its_sound_is_there(tools, similarity):
    # faithfulness dev f111 and heldout3 k069/h061: "Frank Rosenblatt implemented it in hardware
    # …" over "弗兰克·罗森布拉特在 1957 年于康奈尔航空实验室为美国海军在硬件上…" was removed as
    # "'Rosenblatt' not in the passages": no dictionary lists 罗森布拉特
    acts = [_p(_body("llm-activations"), "llm-activations")]
    question = "Who conceived the perceptron?"
    answer = "It was conceived by McCulloch and Pitts of the University of Chicago [1]."
    c = check(answer, acts, tools, similarity, "en", question)
    assert not c.removed, [(x.text, x.reason) for x in c.removed]
    # a name the article does not write, by sound or otherwise, is still missing
    c = check(answer.replace("Pitts", "Geoffrey Hinton"), acts, tools, similarity, "en")
    assert c.removed and "Hinton" in c.removed[0].reason


@pytest.mark.parametrize(
    ("doc", "question", "answer", "kept"),
    [
        (
            "kimi-vl",
            "KimiVL 的语言模型在推理时激活多少参数？",
            "它的语言解码器是 MoE 语言模型 Moonlight，总参数 16B，实际只激活 2.8B 参数 [1]。",
            "实际只激活 2.8B 参数",
        ),
        (
            "ctr-prediction",
            "CTR 预估在程序化广告里有多重要？",
            "以竞价广告为例，排序依据就是 ctr×bid [1]。",
            "以竞价广告为例",
        ),
        (
            "random-walk",
            "随机游走问题为什么又叫“醉汉问题”？",
            "当然真正的醉汉是在三维空间里走的，这里为了简单只描述了一维的情形 [1]。",
            "这里为了简单只描述了一维的情形",
        ),
    ],
)
def test_a_discourse_word_of_the_answer_s_own_is_no_claim(
    doc, question, answer, kept, tools, similarity
) -> None:
    """实际, 为例, 情形 (and 本来, 大致, 依次, 尽可能, 这类, 做法, 概括 …) frame a statement the
    article makes; an answer that says them in its own words was cut down for words "not in the
    passages" (the held-out faithfulness set's correct answers, dev split)."""
    checked = check(answer, _articles(doc), tools, similarity, question=question)
    assert kept in checked.text, [(c.text, c.reason) for c in checked.removed]
    assert not checked.removed
