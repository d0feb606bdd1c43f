"""An English word's Chinese renderings scored as one word (``RAG_BM25_SYNONYMS``): the query
the retriever builds, and a question whose name would otherwise lose to two renderings of one
common word."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.retrieval.crosslingual import Renderings, ml_phrases
from rag.retrieval.query import sparse_query
from rag.text.tokenize_zh import BM25Tokenizer
from tests.conftest import retrieved_docs, tiny_assistant

# The CMRC trial case (TRIAL_970): "primary" has the renderings 主要, 最初 and 第一, which the
# cartoonist's paragraph all holds; the footballer's holds the name asked about and 学校.
PARAGRAPHS = {
    "qu": "渠成是江苏南京人，司职前锋，现效力四川。渠成上的学校是南昌路小学。",
    "cartoonist": "长谷川町子是日本最初的女性专业漫画家，也是第一位获得国民荣誉奖的漫画家，主要作品是《海螺小姐》。",
    "river": "永定河是北京的重要河流，流经多个区县，是海河水系的一部分。",
    "park": "乍都节公园位于泰国曼谷，土地由泰国国家铁路局捐赠，公园里有很多古树。",
    "opera": "蔡敏是台湾三大女高音之一，其父为空军中将，她曾在台北就学，后赴意大利深造。",
}
QUESTION = "Which primary school did Qu Cheng attend?"


@pytest.fixture(scope="module")
def tok() -> BM25Tokenizer:
    return BM25Tokenizer()


def test_each_rendering_is_one_alternative_of_its_word(tok: BM25Tokenizer) -> None:
    d = Renderings.from_lines(
        ["獎勵 奖励 [jiang3 li4] /reward/", "報酬 报酬 [bao4 chou5] /reward/remuneration/"]
    )
    sq = sparse_query("How does DPO avoid a reward?", tok, renderings=5, dictionary=d)
    groups = {g[0]: set(g) for g in sq.synonyms}
    assert groups[("reward",)] == {("reward",), ("奖励",), ("报酬",)}
    assert ("avoid",) not in groups  # no rendering: a word of its own
    assert sq.terms[:3] == ["dpo", "avoid", "reward"]  # the flat query is unchanged


def test_a_several_word_term_counts_once_not_once_per_word(tok: BM25Tokenizer) -> None:
    d = Renderings(
        {"linear": ("线性",), "attention": ("注意力",)},
        ml_phrases(["linear attention\t线性注意力"]),
    )
    vocabulary = set(tok("线性注意力"))  # the index has the pieces, not the whole term

    def known(terms):
        return [t for t in terms if t in vocabulary]

    sq = sparse_query("What is linear attention?", tok, renderings=5, dictionary=d, known=known)
    (group,) = sq.synonyms
    phrase, parts = group
    # the term as the index's terms of it (a Chinese question writing it would score them)
    assert set(phrase) == set(tok("线性注意力"))
    # or the words' own alternatives, each a group: best of linear's + best of attention's
    assert parts == (
        (("linear",), ("线性",)),
        (("attention",), tuple(dict.fromkeys(["注意力", *tok("注意力")]))),
    )


def test_chinese_questions_have_no_structure(tok: BM25Tokenizer) -> None:
    assert sparse_query("DPO 为什么不需要奖励模型?", tok, renderings=5).synonyms == []


@pytest.fixture(scope="module")
def names_index(base_settings: Settings, embedder, tmp_path_factory: pytest.TempPathFactory):
    assistant = tiny_assistant(PARAGRAPHS, base_settings, embedder, tmp_path_factory, "synonyms")
    yield assistant
    assistant.close()


def ranked(assistant, synonyms: bool) -> list[str]:
    return retrieved_docs(assistant, QUESTION, 3, "bm25", bm25_synonyms=synonyms)


def test_the_name_asked_about_outweighs_two_renderings_of_one_word(names_index) -> None:
    summed, structured = ranked(names_index, False), ranked(names_index, True)
    assert summed[0] == "cartoonist", summed  # 主要 + 最初 + 第一 counted as three words
    assert structured[0] == "qu", structured
    hits = names_index.retriever.run(QUESTION, k=3, mode="bm25").passages
    assert hits[0].bm25_score > 0


def test_singleton_groups_score_as_the_flat_query(names_index) -> None:
    store = names_index.store
    terms = store.known_terms(["渠成", "小学", "最初", "第一", "泰国"])
    flat = store.sparse_scores(terms, range(5))
    grouped = store.sparse_scores(terms, range(5), groups=[[(t,)] for t in terms])
    assert flat == pytest.approx(grouped)
    assert any(flat.values())
