"""Judging questions (advantages, drawbacks) against the passages an answer would rest on."""

from __future__ import annotations

from rag.answer.evaluative import unmet_figure, unmet_judgement, unmet_subject
from rag.schema import Passage
from tests.conftest import ARTICLES


def _body(doc_id: str) -> str:
    return (ARTICLES / f"{doc_id}.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]


def test_an_article_that_names_no_drawback_leaves_the_question_unmet() -> None:
    assert unmet_judgement("YOLO 的缺点是什么?", [_body("yolo")]) == "缺点"
    assert unmet_judgement("What are the drawbacks of SPP?", [_body("spp")]) == "drawbacks"


def test_an_article_that_speaks_of_drawbacks_in_other_words_meets_it() -> None:
    # the image-pyramid article: "然而其缺点也是很明显的，测试时间大幅度提高"
    assert unmet_judgement("image pyramid 有什么不足?", [_body("image-feature-pyramid")]) is None
    assert unmet_judgement("What are the drawbacks of image pyramids?", ["其局限在于速度"]) is None


def test_a_question_that_judges_nothing_is_never_unmet() -> None:
    assert unmet_judgement("YOLO 的核心思想是什么?", [_body("yolo")]) is None
    assert unmet_judgement("What is SPP?", []) is None
    # asking why something is a drawback asks for the reason, in whatever words it is given
    why = "Why is having to predefine and generate a set of anchors seen as a drawback?"
    assert unmet_judgement(why, [_body("anchor-free")]) is None
    # a limit is a limitation ("缓解GIL限制")
    gil = "Which Python limitation does DDP's one-process-per-GPU design help alleviate?"
    assert unmet_judgement(gil, [_body("pytorch-ddp")]) is None


def test_the_extractive_answer_to_a_judging_question_the_articles_do_not_judge_abstains(
    assistant,
) -> None:
    # asked as a user without a model: "YOLO 的缺点是什么?" was answered with YOLO's core idea
    # (the model's path already abstained on it)
    for question in ("YOLO 的缺点是什么?", "What are the drawbacks of YOLO?"):
        answer = assistant.ask(question)
        assert answer.abstained, answer.text
        assert "say nothing of" in (answer.notice or "")
    assert not assistant.ask("YOLO 的核心思想是什么?").abstained


def _p(doc_id: str, text: str | None = None) -> Passage:
    body = _body(doc_id) if text is None else text
    return Passage(body, doc_id, doc_id, f"{doc_id}.md", f"{doc_id}#0", 1.0)


def test_an_extract_from_an_article_that_does_not_name_the_subject_is_unmet() -> None:
    dpo, metrics = _p("dpo"), _p("differentiable-metrics", "常见的损失函数是交叉熵。")
    assert unmet_subject("DPO 的损失函数是什么形式?", [metrics], [dpo, metrics]) == "DPO"
    assert unmet_subject("DPO 的损失函数是什么形式?", [dpo], [dpo, metrics]) is None
    # FM is not named by "FFM" (a short name is a whole word)
    fm, ffm = _p("fm-ffm", "FM 具有线性时间复杂度"), _p("fm-ffm", "FFM 的计算复杂度更高")
    assert unmet_subject("FM 的计算复杂度是多少?", [ffm], [fm, ffm]) == "FM"


def test_english_questions_and_names_no_passage_mentions_are_left_to_coverage() -> None:
    mc = _p("monte-carlo-rl", "值迭代和策略迭代是基于模型的方法。")
    other = _p("rl-basics", "RL 的基本概念")
    # "RL" is 强化学习 in the article that answers the English question
    assert (
        unmet_subject("What comes before Monte Carlo in the RL lineage?", [mc], [mc, other]) is None
    )
    assert unmet_subject("Robbins-Monro 2 算法估计什么?", [mc], [mc]) is None


def test_an_english_question_names_a_model_as_the_articles_write_it() -> None:
    """Held-out dev, DeepSeek-V3 article hidden: "How many parameters does DeepSeek-V3 have in
    total?" was answered from Kimi-VL's "2.8B activated (16B total)", while the only passage
    naming DeepSeek-V3 (the R1 article) says nothing of its size."""
    kimi = _p("kimi-vl", "Moonlight MoE language model with only 2.8B activated (16B total)")
    r1 = _p("deepseek-r1", "DeepSeek-R1 以 DeepSeek-V3 为基础模型。")
    q = "How many parameters does DeepSeek-V3 have in total?"
    assert unmet_subject(q, [kimi], [kimi, r1]) == "DeepSeek-V3"
    assert unmet_subject("Which vision encoder does Kimi-VL use?", [kimi], [kimi, r1]) is None


def test_a_question_asking_for_a_figure_needs_one_in_the_answer() -> None:
    assert unmet_figure("How much faster is DDIM sampling than DDPM?", "It is deterministic") == (
        "How much"
    )
    assert unmet_figure("DDIM 采样需要多少步?", "仅需 20~100 步 [1]") is None
    # a name's digits, an article 一个, a citation number are no figures
    assert unmet_figure("训练用了多少 GPU 小时?", "DeepSeek-V3 用了一个新目标 [2]") == "多少"
    # ... in any of the forms an answer cites with ([1, 2], 【1】: rag.text.citations)
    for cited in ("[1, 2]", "[1，2]", "【1】"):
        assert unmet_figure("DDIM 快多少倍?", f"DDIM 是确定性的采样过程 {cited}。") == "多少", cited
    # numerals with a counter, number words and a variable are
    for said in ("两大目标", "three layers", "N processes", "三个矩阵连乘"):
        assert unmet_figure("How many are there?", said) is None, said
    # "哪几种" asks which kinds, not how many
    assert unmet_figure("网络里做的是哪几种运算?", "乘法和加法") is None
    # asked as a user: "YOLO 把图像划分成多少个网格?" was refused over the model's right "SxS 个网格",
    # and "FM 的时间复杂度是多少?" lost the model's right "线性时间复杂度" to the draft
    assert unmet_figure("YOLO 把图像划分成多少个网格?", "YOLO 把图像划分成 SxS 个网格 [1]") is None
    assert unmet_figure("FM 的时间复杂度是多少?", "FM 的时间复杂度是线性时间复杂度 [1]") is None
    assert unmet_figure("FM 的参数量是多少?", "FM 是线性模型的扩展 [1]") == "多少"


def test_a_date_is_no_figure_unless_the_question_asks_about_time() -> None:
    """Asked "DeepSeek-V3 的训练花了多少 GPU 小时?" (the article gives none), the embedded model
    answered "DeepSeek-V3 的训练花了 24年12月 [1]。" — the article's release date — and it was
    shown as the answer."""
    said = "DeepSeek-V3 的训练花了 24年12月 [1]。"
    assert unmet_figure("DeepSeek-V3 的训练花了多少 GPU 小时?", said) == "多少"
    assert unmet_figure("How many GPU hours did it take?", "It was released in December 2024.")
    # a date answers a question about time, and a figure beside a date still counts
    assert unmet_figure("DeepSeek-V3 是哪一年发布的?", "24年12月 [1]。") is None
    assert unmet_figure("How many days did training take?", "It ended on Dec 26, 2024.") is None
    assert unmet_figure("总参数量是多少?", "24年12月发布, 总参数量达到 671B [1]。") is None


def test_the_letters_of_an_abbreviation_are_no_figure() -> None:
    # asked as a user: "FlashAttention 把显存访问从多少降到了多少?" was answered "…从 I/O 开销降到了内存
    # 瓶颈 [1]。": the I and O of I/O counted as variables, as the N of "N processes" does
    question = "FlashAttention 把显存访问从多少降到了多少?"
    assert (
        unmet_figure(question, "FlashAttention 把显存访问从 I/O 开销降到了内存瓶颈 [1]。") == "多少"
    )
    assert unmet_figure("How many processes does DDP start?", "N processes [1].") is None


def test_a_question_naming_a_quantity_asks_for_a_figure() -> None:
    # asked as a user: "What batch size does DDP recommend?" (the article names none) showed the
    # article's "推荐使用官方打好的PyTorch docker" once the model's invented "16" was removed
    docker = "推荐使用官方打好的PyTorch docker,避免乱七八糟的环境问题影响心情。[1]"
    assert unmet_figure("What batch size does DDP recommend?", docker) == "What batch size"
    assert unmet_figure("What learning rate is used?", "The rate is 3e-4 [1].") is None
    # "what value" names a kind of output as often as a figure ("a confidence value")
    value = "Each bounding box predicts a confidence value [1]."
    assert unmet_figure("What extra value does each YOLO box predict?", value) is None
    # asked as a user: "What speedup does FlashAttention give?" (the articles give none) was
    # answered under the notice with how it works, "It gives a speedup by using a tiled approach…"
    how = "It gives a speedup by using a tiled approach to compute self-attention [1]."
    assert unmet_figure("What speedup does FlashAttention give?", how) == "What speedup"
    assert unmet_figure("What speedup does DDIM give?", "A 10~50x speedup [1].") is None
    # (the verb asks for no figure: "What does DDIM drop to speed up sampling?")
    assert unmet_figure("What assumption does DDIM drop to speed up sampling?", how) is None


def test_an_opening_once_is_no_figure() -> None:
    """A dev near miss (the FLASH article hidden): "Once softmax is dropped, attention becomes a
    chained product of how many matrices (即多少个头数) [2]." passed as an answer to "…how many
    matrices?": its "Once" was read as "one time"."""
    q = "Once softmax is dropped, attention becomes a chained product of how many matrices?"
    said = "Once softmax is dropped, attention becomes a chained product of how many matrices [2]."
    assert unmet_figure(q, said) == "how many"
    assert unmet_figure(q, "Once dropped, it is a product of three matrices [2].") is None
    assert unmet_figure("How many times is the data read?", "It is read only once [1].") is None
