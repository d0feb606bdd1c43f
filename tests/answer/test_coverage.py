"""Coverage decision: names missing from every passage, similarity and word overlap."""

from __future__ import annotations

from rag.answer.coverage import decide_coverage, question_entities
from rag.schema import Passage
from rag.text.tokenize_zh import BM25Tokenizer

TOK = BM25Tokenizer()
DDIM = Passage(
    "为了加速 DDPM 的采样过程, DDIM 在不利用马尔可夫假设的情况下推导出了反向过程。",
    "ddim",
    "DDIM",
    "s",
    "c",
    0.03,
    dense_score=0.86,
    bm25_score=5.0,
)


def test_entities_of_chinese_and_english_questions() -> None:
    assert question_entities("LoRA 的秩一般取多少?") == ["LoRA"]
    assert question_entities("How does DPO avoid a reward model?") == ["DPO"]
    assert question_entities("What learning rate does BERT use with GPT-2?") == ["BERT", "GPT-2"]
    assert question_entities("How is the reward model trained?") == []


def test_question_about_an_absent_name_is_not_covered() -> None:
    c = decide_coverage("LoRA 的秩一般取多少?", [DDIM], TOK)
    assert not c.covered and c.missing_entities == ["LoRA"]


def test_similar_passage_with_shared_words_is_covered() -> None:
    c = decide_coverage("DDIM 是怎么加速 DDPM 采样的?", [DDIM], TOK)
    assert c.covered and c.overlap > 0.5


def test_low_similarity_without_shared_words_is_not_covered() -> None:
    far = Passage("网格世界是一个直观的二维环境。", "rl", "RL", "s", "c", 0.01, dense_score=0.74)
    assert not decide_coverage("如何选择优化器的学习率?", [far], TOK).covered


def test_no_passages_is_not_covered() -> None:
    assert not decide_coverage("anything", [], TOK).covered
