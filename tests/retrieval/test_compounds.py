"""A Chinese word of the question counts once in BM25 (``RAG_BM25_COMPOUNDS``, the default):
the word and the shorter words the tokenizer cuts from it are one group scored by its best form,
so a compound can no longer outweigh the rare name the question asks about."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from rag.config import Settings
from rag.retrieval.query import sparse_query
from rag.store.structured import Word
from rag.text.tokenize_zh import BM25Tokenizer
from tests.conftest import retrieved_docs, tiny_assistant

# The CMRC low-overlap case (TRIAL_788): 爬行动物 is cut into 爬行动物, 爬行, 行动 and 动物, four
# terms that the paragraph on another family of sea reptiles holds twice over.
PARAGRAPHS = {
    "plotosaurus": "浮龙属（学名：Plotosaurus）是沧龙科的一属，生存于白垩纪晚期，化石发现于加州。",
    "reptiles": "扁掌龙亚科是海生爬行动物，属于沧龙科；这些爬行动物生活在白垩纪的海洋里，以鱼为食。",
    "river": "永定河是北京的重要河流，流经多个区县，是海河水系的一部分。",
    "park": "乍都节公园位于泰国曼谷，土地由泰国国家铁路局捐赠，公园里有很多古树。",
    "opera": "蔡敏是台湾三大女高音之一，其父为空军中将，她曾在台北就学，后赴意大利深造。",
}
QUESTION = "Plotosaurus这种海生爬行动物的化石是在哪里挖出来的？"


@pytest.fixture(scope="module")
def tok() -> BM25Tokenizer:
    return BM25Tokenizer()


def test_a_compound_and_its_pieces_are_one_group(tok: BM25Tokenizer) -> None:
    sq = sparse_query(QUESTION, tok, renderings=0)
    groups = [set(g) for g in sq.compounds]
    assert {("爬行动物",), ("爬行",), ("动物",)} <= groups[0]
    assert all(isinstance(g, Word) for g in sq.compounds)
    grouped = {t for g in sq.compounds for (t,) in g}
    assert "plotosaurus" not in grouped and "海生" not in grouped  # words of their own
    # the flat query (Milvus, the coverage share) is unchanged
    assert {"plotosaurus", "海生", "爬行", "动物", "爬行动物"} <= set(sq.terms)


def test_words_cut_into_one_term_make_no_group(tok: BM25Tokenizer) -> None:
    assert sparse_query("DPO 为什么不需要奖励模型?", tok, renderings=0).compounds == []


@pytest.fixture(scope="module")
def reptiles_index(base_settings: Settings, embedder, tmp_path_factory: pytest.TempPathFactory):
    assistant = tiny_assistant(PARAGRAPHS, base_settings, embedder, tmp_path_factory, "compounds")
    yield assistant
    assistant.close()


def ranked(assistant, compounds: bool) -> list[str]:
    return retrieved_docs(assistant, QUESTION, 3, "bm25", bm25_compounds=compounds)


def test_the_name_asked_about_outweighs_a_compound_counted_four_times(reptiles_index) -> None:
    summed, grouped = ranked(reptiles_index, False), ranked(reptiles_index, True)
    assert summed[0] == "reptiles", summed  # 爬行动物 + 爬行 + 行动 + 动物 as four words
    assert grouped[0] == "plotosaurus", grouped
    assert reptiles_index.settings.bm25_compounds  # the default


def test_a_word_scores_its_best_form_not_the_sum(reptiles_index) -> None:
    store = reptiles_index.store
    pieces = store.known_terms(["爬行动物", "爬行", "动物"])
    assert len(pieces) == 3
    ids = range(len(PARAGRAPHS))
    flat = store.sparse_scores(pieces, ids)
    best = store.sparse_scores(pieces, ids, groups=[Word((t,) for t in pieces)])
    per_term = [store.sparse_scores([t], ids) for t in pieces]
    for i in ids:
        assert best[i] == pytest.approx(max(s[i] for s in per_term))
        assert flat[i] == pytest.approx(sum(s[i] for s in per_term))
    assert max(flat.values()) > max(best.values()) > 0


def _mapped(folder: str) -> list[str]:
    return [line for line in Path("/proc/self/maps").read_text().splitlines() if folder in line]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_a_closed_index_is_unmapped_at_once_after_a_grouped_query(
    base_settings: Settings, embedder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The grouped scorer's helpers were closures calling each other: a reference cycle that
    # kept the BM25 arrays of a replaced index generation mapped until the garbage collector
    # ran (rag serve's reload test saw the old generation still open); and close() never let
    # go of the sentence vectors.
    assistant = tiny_assistant(PARAGRAPHS, base_settings, embedder, tmp_path_factory, "unmap")
    index = str(assistant.settings.index_dir)
    gc.disable()
    try:
        assert assistant.retriever.sparse_query(QUESTION).compounds
        assert assistant.retrieve(QUESTION, k=3, mode="bm25")
        assert any("bm25" in line for line in _mapped(index))
        assistant.close()
        assert _mapped(index) == []
    finally:
        gc.enable()
