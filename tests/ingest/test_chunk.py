"""Chunker: token limits (counted by the real tokenizer), sentence boundaries, offsets."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunk import Chunker, has_content
from rag.schema import Document, embedding_text

ARTICLE = (
    "背景 RLHF 通常包括三个阶段。有监督微调(SFT)是第一步!奖励建模是第二步;RL 微调是第三步？"
    "DPO 发现了一个数学上的捷径。The key idea is simple. It optimizes the policy directly.\n"
    "[公式]\n[Math] 。\n"
    "这个过程很复杂,就像绕了一大圈:先学习什么是好的,再学习如何做好。"
) * 6


def char_counter(texts):  # one token per character, plus 2 special tokens
    return [len(t) + 2 for t in texts]


def test_chunks_are_exact_spans_of_the_text() -> None:
    doc = Document("d", ARTICLE, "DPO", "d.md")
    chunks = Chunker(char_counter, max_tokens=80, overlap=0.15).split(doc)
    assert len(chunks) > 3
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert c.chunk_id.startswith("d#") and c.doc_id == "d"


def test_no_chunk_exceeds_the_limit_including_title_and_prompt() -> None:
    doc = Document("d", ARTICLE, "DPO", "d.md")
    chunker = Chunker(char_counter, max_tokens=80, overlap=0.15)
    for c in chunker.split(doc):
        assert char_counter([embedding_text("DPO", c.text)])[0] <= 80
        assert c.n_tokens <= 80


def test_chunks_end_at_sentence_boundaries() -> None:
    doc = Document("d", ARTICLE, "DPO", "d.md")
    for c in Chunker(char_counter, max_tokens=80, overlap=0.0).split(doc)[:-1]:
        last, after = doc.text[c.end - 1], doc.text[c.end : c.end + 1]
        assert last in "。！？；!?;….\n" or after == "\n", c.text[-10:]


def test_overlap_repeats_whole_sentences() -> None:
    doc = Document("d", ARTICLE, "DPO", "d.md")
    chunks = Chunker(char_counter, max_tokens=80, overlap=0.3).split(doc)
    overlapping = [b for a, b in itertools.pairwise(chunks) if b.start < a.end]
    assert overlapping, "with 30% overlap some chunks must share text"


def test_a_sentence_longer_than_the_limit_is_split_at_commas_then_cut() -> None:
    long = "这是一个很长的句子," * 30 + "无标点" * 60 + "。"
    doc = Document("d", long, "T", "d.md")
    chunks = Chunker(char_counter, max_tokens=50, overlap=0.0).split(doc)
    assert all(c.n_tokens <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == long  # nothing lost


def test_placeholders_never_make_a_chunk_on_their_own() -> None:
    text = "正文第一句话比较长。" * 3 + "[公式] [Math] [代码]。" + "正文第二段也很长。" * 3
    doc = Document("d", text, "T", "d.md")
    chunks = Chunker(char_counter, max_tokens=40, overlap=0.0).split(doc)
    assert chunks and all(has_content(c.text) for c in chunks)
    assert "[公式]" in "".join(c.text for c in chunks)  # kept in display text


def test_document_of_placeholders_only_gives_no_chunk() -> None:
    doc = Document("d", "[公式] [Math]。\n[代码]", "T", "d.md")
    assert Chunker(char_counter, max_tokens=40).split(doc) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from([*list("模型训练采样。！？,，;\n ab.DPO[]公式Math"), "[公式]", "。\n"]),
        min_size=1,
        max_size=200,
    ).map("".join),
    st.integers(min_value=34, max_value=120),
    st.floats(min_value=0.0, max_value=0.5),
)
def test_property_offsets_map_back_and_cover_the_text(
    text: str, limit: int, overlap: float
) -> None:
    doc = Document("d", text, "T", "d.md")
    chunks = Chunker(char_counter, max_tokens=limit, overlap=overlap).split(doc)
    covered = [False] * len(text)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.n_tokens <= limit
        for i in range(c.start, c.end):
            covered[i] = True
    # Everything not covered is whitespace or belongs to a placeholder-only stretch.
    uncovered = "".join(ch for ch, cov in zip(text, covered, strict=True) if not cov)
    assert not has_content(uncovered, min_chars=4) or not chunks


def test_real_tokenizer_bounds_chunks_of_every_article(embedder) -> None:
    from ingest.loaders import load_paths
    from tests.conftest import ARTICLES

    chunker = Chunker(embedder.count_passage_tokens, max_tokens=128, overlap=0.15)
    docs = load_paths([ARTICLES]).documents
    n = 0
    for doc in docs:
        chunks = chunker.split(doc)
        texts = [embedding_text(doc.title, c.text) for c in chunks]
        counts = embedder.count_passage_tokens(texts)
        assert max(counts) <= 128, doc.doc_id
        assert counts == [c.n_tokens for c in chunks]
        n += len(chunks)
    assert n > len(docs)  # 128 tokens is less than most articles


@pytest.mark.parametrize("limit", [256])
def test_default_limit_fits_the_model(embedder, limit: int) -> None:
    assert limit <= embedder.max_tokens
