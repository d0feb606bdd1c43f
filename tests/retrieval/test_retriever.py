"""Retrieval over the real articles index: the acceptance queries and the passage fields."""

from __future__ import annotations

import pytest

DPO_QUERIES = ["DPO 为什么不需要单独训练奖励模型?", "How does DPO avoid training a reward model?"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("query", DPO_QUERIES)
def test_dpo_article_is_first(assistant, query: str, mode: str) -> None:
    passages = assistant.retrieve(query, k=5, mode=mode)
    assert passages[0].doc_id == "dpo", [p.doc_id for p in passages]


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
@pytest.mark.parametrize(
    ("query", "doc"), [("DDIM 的核心思想是什么?", "ddim"), ("DPO 的核心思想是什么？", "dpo")]
)
def test_a_question_frame_does_not_pull_up_the_article_that_uses_its_words(
    assistant, query: str, doc: str, mode: str
) -> None:
    """Only the YOLO article says 核心思想: it came first for both questions."""
    passages = assistant.retrieve(query, k=5, mode=mode)
    assert passages[0].doc_id == doc, [p.doc_id for p in passages]


def test_passages_carry_text_ids_titles_sources_and_both_scores(assistant) -> None:
    passages = assistant.retrieve("FlashAttention 为什么不需要把注意力矩阵写回显存?", k=3)
    top = passages[0]
    assert top.doc_id == "flashattention" and top.title == "FlashAttention"
    assert top.chunk_id.startswith("flashattention#")
    assert top.source.endswith("flashattention.md")
    assert top.dense_score is not None and 0.5 < top.dense_score <= 1.0
    assert top.bm25_score is not None and top.bm25_score > 0
    assert [p.rank for p in passages] == [1, 2, 3]
    full = assistant.store.document_text("flashattention")
    assert full[top.start : top.end] == top.text


def test_hybrid_ranks_by_fused_score(assistant) -> None:
    passages = assistant.retrieve("DeepSeek-V3 总参数量是多少", k=5, mode="hybrid")
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    assert passages[0].doc_id == "deepseek-v3"


def test_empty_and_huge_questions_are_refused_clearly(assistant) -> None:
    from rag.answer.guard import QuestionError

    with pytest.raises(QuestionError, match="empty"):
        assistant.retrieve("   ")
    with pytest.raises(QuestionError, match="100,000 characters"):
        assistant.retrieve("问" * 100_000)


def test_english_questions_reach_chinese_text_through_bm25(assistant) -> None:
    sq = assistant.retriever.sparse_query("How does DPO avoid training a reward model?")
    assert "dpo" in sq.terms and "奖励" in sq.terms  # "reward" rendered in Chinese
    assert assistant.store.known_terms(["奖励", "zzqqxx"]) == ["奖励"]
    run = assistant.retriever.run("How does DPO avoid training a reward model?", k=3)
    assert run.fusion["method"] == "zscore" and 0.2 <= run.fusion["bm25_weight"] <= 0.6
    assert run.passages[0].bm25_rank == 1 and run.passages[0].dense_rank is not None


def test_english_ml_terms_of_several_words_find_their_chinese_article(assistant) -> None:
    # CC-CEDICT renders "receptive" and "field" but not "receptive field" (感受野): the packaged
    # ML term list does, and the article about it comes first (before: not in the first 10)
    run = assistant.retriever.run("What is the receptive field of a CNN?", k=5)
    rendered = assistant.retriever.tokenizer("感受野")  # as the index cut it
    assert set(rendered) <= set(assistant.retriever.sparse_query("receptive fields").terms)
    assert run.passages[0].doc_id == "receptive-field"


def test_the_one_english_article_does_not_answer_every_english_question(assistant) -> None:
    """SPP is the only English article, and e5 scores English questions higher against it
    whatever they ask: "What is the difference between DDP and DataParallel?" had it first."""
    from rag.retrieval.retriever import Retriever

    question = "What is the difference between DDP and DataParallel?"
    assert assistant.retrieve(question, k=5)[0].doc_id == "pytorch-ddp"
    plain = Retriever(
        assistant.store,
        assistant.embedder,
        assistant.tokenizer,
        assistant.settings.replace(language_bias=False),
    )
    assert plain.retrieve(question, k=5)[0].doc_id == "spp"
    # questions about SPP still find it first, in both languages
    for q in (
        "Into how many bins does SPP divide the feature maps?",
        "SPP 把特征图分成多少个 bin?",
    ):
        assert assistant.retrieve(q, k=5)[0].doc_id == "spp"
