"""What a checked answer shows of the words it rests on (rag/answer/quote.py)."""

from __future__ import annotations

from rag.answer.claims import CheckedAnswer, Clause
from rag.answer.extractive import Extract
from rag.answer.quote import with_quote

PRICE = "如常见的搜索结果的多样性(如价格、地域、品牌、风格等属性的打散)"
WHOLE = "直接使用精排分排序无法满足特殊整体性排序需求," + PRICE + "、发现性、流量调控等。"


def clause(text: str, evidence: str, passage: int = 1, status: str = "supported") -> Clause:
    support = [passage] if status == "supported" else []
    return Clause(text, 0, len(text), 0, status, [passage], support, passage, 0, 0, evidence)


def test_english_answer_gets_the_sentence_most_clauses_rest_on() -> None:
    text = "Attributes such as price, region and brand are scattered [1], for diversity [1]."
    checked = CheckedAnswer(
        text,
        [
            clause("Attributes such as price, region and brand are scattered", PRICE),
            clause("for diversity", WHOLE),
            clause("made up", "另一个句子。", passage=2, status="unsupported"),
        ],
        cited=[1],
    )
    quoted = with_quote(checked, None, "en")
    assert quoted.text == f"{text}\nSource [1]: “{WHOLE}”"  # PRICE lies inside WHOLE
    assert quoted.cited == [1]


def test_the_quote_cites_its_passage_and_long_sentences_are_cut() -> None:
    checked = CheckedAnswer("It is fast [1].", [clause("It is fast", "很快" * 100, 3)], cited=[1])
    quoted = with_quote(checked, None, "en", max_chars=21)
    assert quoted.text.endswith("Source [3]: “" + "很快" * 10 + "…”")
    assert quoted.cited == [1, 3]


def test_answers_with_the_chinese_words_or_in_chinese_are_left_alone() -> None:
    quoting = CheckedAnswer('Over each batch ("每个 batch") [1].', [clause("x", PRICE)], cited=[1])
    assert with_quote(quoting, None, "en").text == quoting.text
    chinese = CheckedAnswer(
        "搜索结果的多样性，如价格、地域、品牌、风格等属性的打散 [1]。",
        [clause("搜索结果的多样性，如价格、地域、品牌、风格等属性的打散", PRICE)],
        cited=[1],
    )
    assert with_quote(chinese, None, "zh").text == chinese.text  # it says most of the sentence
    english_source = CheckedAnswer("It is fast [1].", [clause("x", "It is fast.")], cited=[1])
    assert with_quote(english_source, None, "en").text == english_source.text


def test_a_bare_yes_or_no_gets_the_draft_after_it() -> None:
    extract = Extract("DDIM 不需要重新训练模型。[2]", [2])
    checked = CheckedAnswer(
        "不需要 [1]。", [clause("不需要", "DDIM 不需要重新训练模型。")], cited=[1]
    )
    quoted = with_quote(checked, extract, "zh")
    assert quoted.text == "不需要 [1]。DDIM 不需要重新训练模型。[2]" and quoted.cited == [1, 2]
    # no draft numbered alike: the sentence the bare answer rests on, as for any terse answer
    assert (
        with_quote(checked, None, "zh").text
        == "不需要 [1]。\n来源 [1]：“DDIM 不需要重新训练模型。”"
    )


def test_one_confident_clause_outweighs_two_doubtful_ones() -> None:
    doubtful = [clause(f"part {i}", "单论性能而言,多尺度训练是不可缺少的组件。", 2) for i in (1, 2)]
    for c in doubtful:
        c.score = 0.3
    confident = clause("Deep networks only take numbers", "深度神经网络只能处理数值数据。")
    confident.score = 0.9
    checked = CheckedAnswer(
        "Deep networks only take numbers [1].", [*doubtful, confident], cited=[1]
    )
    assert with_quote(checked, None, "en").text.endswith(
        "Source [1]: “深度神经网络只能处理数值数据。”"
    )


def test_no_quote_from_a_passage_the_clause_does_not_cite() -> None:
    # a yes/no judged on the question's words keeps the model's [1]; its closest sentence was
    # in [5] ("相比于预训练,后训练…"), which says nothing about [1]'s subject
    text = "No, it does not need retraining [1]."
    off = clause("No, it does not need retraining", "相比于预训练,后训练需要的计算资源相对较少", 1)
    off.evidence_passage = 5
    quoted = with_quote(CheckedAnswer(text, [off], cited=[1]), None, "en")
    assert quoted.text == text and quoted.cited == [1]


def test_a_chinese_paraphrase_gets_the_sentence_it_rests_on() -> None:
    # CMRC trial: the gold "比赛共有来自64个国家及地区的84名运动员参与" was in the passage; the answer
    # paraphrased it (参赛) and the reader could not check it against the article's words
    sentence = "比赛共有来自64个国家及地区的84名运动员参与。"
    text = "共有来自64个国家及地区的84名运动员参赛 [1]。"
    checked = CheckedAnswer(text, [clause(text[:-5], sentence)], cited=[1])
    assert with_quote(checked, None, "zh").text == text  # 0.8 of its pairs: said already
    text = "84名运动员参赛 [1]。"
    checked = CheckedAnswer(text, [clause(text[:-5], sentence)], cited=[1])
    assert with_quote(checked, None, "zh").text == f"{text}\n来源 [1]：“{sentence}”"
    text = "搜索结果中的价格、地域和品牌等属性会被打散 [1]。"
    checked = CheckedAnswer(text, [clause(text[:-5], PRICE)], cited=[1])
    assert with_quote(checked, None, "zh").text == f"{text}\n来源 [1]：“{PRICE}”"
    # evidence of two sentences: an answer that says one of them says it (serve's DDIM answer)
    two = sentence + "这篇文章将对 DDIM 的理论进行讲解。"
    text = "比赛共有来自64个国家及地区的84名运动员参赛 [1]。"
    checked = CheckedAnswer(text, [clause(text[:-5], two)], cited=[1])
    assert with_quote(checked, None, "zh").text == text


def test_a_terse_chinese_answer_gets_the_sentence_it_rests_on() -> None:
    # dev m135: the model's terse answer is true but beside the question; the sentence shows the
    # reader the structure asked about
    sentence = "DeepSeek-V3 采用了 MLA 来确保推理效率,并使用 DeepSeekMoE 来实现经济高效的训练。"
    text = "DeepSeek-V3 靠 MLA 来确保推理效率 [1]。"
    checked = CheckedAnswer(
        text, [clause("DeepSeek-V3 靠 MLA 来确保推理效率", sentence)], cited=[1]
    )
    assert with_quote(checked, None, "zh").text == f"{text}\n来源 [1]：“{sentence}”"
    # a Chinese answer that says most of the sentence says enough on its own
    long_text = "DeepSeek-V3 采用了 MLA 来确保推理效率并使用 DeepSeekMoE 来实现高效训练 [1]。"
    checked = CheckedAnswer(long_text, [clause(long_text[:-5], sentence)], cited=[1])
    assert with_quote(checked, None, "zh").text == long_text
    # nor is a sentence the answer already holds shown again (CMRC: "分布于华中及长江流域 [1]。"
    # had been followed by 来源 [1]："分布于华中及长江流域。")
    checked = CheckedAnswer(
        "分布于华中及长江流域 [1]。",
        [clause("分布于华中及长江流域", "分布于华中及长江流域。")],
        cited=[1],
    )
    assert with_quote(checked, None, "zh").text == "分布于华中及长江流域 [1]。"


def test_a_sentence_cut_mid_way_is_shown_as_a_piece() -> None:
    # asked as a user: "锦囊 [1]。" was followed by a quote ending "…细选(锦囊)、”", the evidence
    # splitter's 90-character piece of a longer sentence
    piece = "常见的有query suggestion(SUG)、猜你想搜、细选(锦囊)、"
    checked = CheckedAnswer("锦囊 [1]。", [clause("锦囊", piece)], cited=[1])
    assert with_quote(checked, None, "zh").text.endswith("细选(锦囊)…”")


def test_a_chinese_answer_over_an_english_passage_shows_the_english_sentence() -> None:
    """Asked "SPP 层解决了什么问题?", the model's Chinese answer over the English SPP article came
    without a source line (only Chinese sentences were quoted), so the reader could not see the
    words it translated."""
    said = "It replaces the last pooling layer (after the last convolutional layer) with SPP."
    checked = CheckedAnswer(
        "SPP 层被放在网络中最后的卷积层之后 [1]。",
        [clause("SPP 层被放在网络中最后的卷积层之后", said)],
        cited=[1],
    )
    assert with_quote(checked, None, "zh").text.endswith(f"\n来源 [1]：“{said}”")


def test_the_source_line_drops_a_section_name_and_a_list_marker() -> None:
    """Asked "DPO 是什么?", the source line read "背景 RLHF 通常包括三个阶段: … 更好 1.": the flattened
    article's section name and the next item's number, which the draft already leaves out."""
    said = "背景 RLHF 通常包括三个阶段: 有监督微调(SFT) 奖励建模阶段 先训练一个奖励模型来判断哪个回答更好 1."
    checked = CheckedAnswer(
        "DPO 是直接偏好优化 [1]。", [clause("DPO 是直接偏好优化", said)], cited=[1]
    )
    line = with_quote(checked, None, "zh").text.split("\n")[1]
    assert line.startswith("来源 [1]：“RLHF 通常包括三个阶段") and line.endswith("更好…”"), line
