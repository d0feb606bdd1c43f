"""Citation checking: invalid numbers dropped, unsupported citations moved or removed."""

from __future__ import annotations

from rag.answer.verify import is_abstention, verify_answer
from rag.schema import Passage
from rag.text.sentences import answer_sentences as split_sentences

P = [
    Passage(
        "DDIM 在不利用马尔可夫假设的情况下推导出反向过程, 仅采样 20~100 步就能达到相近效果。",
        "ddim",
        "DDIM",
        "ddim.md",
        "ddim#0",
        1.0,
    ),
    Passage(
        "FlashAttention 使用分块(tiling)计算, 无需访问GPU全局内存来存储中间结果。",
        "flashattention",
        "FlashAttention",
        "fa.md",
        "fa#0",
        0.9,
    ),
]


def test_valid_citations_are_kept() -> None:
    v = verify_answer("DDIM 仅采样 20~100 步就能达到相近效果 [1]。", P, "zh")
    assert v.text == "DDIM 仅采样 20~100 步就能达到相近效果 [1]。"
    assert v.cited == [1] and v.support == 1.0


def test_numbers_without_a_passage_are_dropped() -> None:
    v = verify_answer("DDIM 仅采样 20~100 步 [9]。", P, "zh")
    assert v.dropped_numbers == [9]
    assert "[9]" not in v.text
    assert v.cited == [1]  # re-attributed to the passage that supports it


def test_wrong_citation_moves_to_the_supporting_passage() -> None:
    v = verify_answer("FlashAttention 使用分块计算, 无需访问GPU全局内存 [1]。", P, "zh")
    assert v.cited == [2] and "[2]" in v.text and "[1]" not in v.text


def test_unsupported_sentence_is_flagged_and_uncited() -> None:
    v = verify_answer("巴黎是法国的首都, 埃菲尔铁塔很高 [1]。", P, "zh")
    assert v.unsupported == [0] and v.cited == [] and v.support == 0.0


def test_fullwidth_and_grouped_citations_parse() -> None:
    v = verify_answer("DDIM 仅采样 20~100 步【1】。分块计算无需访问GPU全局内存[1, 2]。", P, "zh")
    assert v.cited == [1, 2]


def test_abstention_is_recognized() -> None:
    assert is_abstention("资料中没有相关内容。")
    assert is_abstention("The passages do not contain the answer.")
    assert not is_abstention("DDIM 仅采样 20~100 步 [1]。")
    assert verify_answer("The articles don't cover this.", P, "en").abstained


def test_cross_lingual_support_uses_the_similarity_function() -> None:
    def similarity(sentences, passages):
        return [[0.9, 0.1] for _ in sentences]

    v = verify_answer("DDIM needs only 20 to 100 sampling steps [1].", P, "en", similarity)
    assert v.cited == [1] and not v.unsupported


def test_split_sentences_keeps_trailing_citations() -> None:
    assert split_sentences("第一句。[1][2]第二句 [2]. Third [1].") == [
        "第一句。[1][2]",
        "第二句 [2].",
        " Third [1].",
    ]
