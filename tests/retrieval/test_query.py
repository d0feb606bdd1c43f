"""The BM25 side of a question: question words dropped, English words rendered in Chinese."""

from __future__ import annotations

import pytest

from rag.retrieval.crosslingual import Renderings, ml_phrases, ml_words
from rag.retrieval.query import is_question_word, matched_share, sparse_query
from rag.text.tokenize_zh import BM25Tokenizer

# A three-entry dictionary in CC-CEDICT's format: deterministic, no package data needed.
TINY = Renderings.from_lines(
    [
        "獎勵 奖励 [jiang3 li4] /reward/to reward/",
        "報酬 报酬 [bao4 chou5] /reward/remuneration/",
        "採樣 采样 [cai3 yang4] /sampling/",
        "模型 模型 [mo2 xing2] /model/mold/",
    ]
)


@pytest.fixture(scope="module")
def tok() -> BM25Tokenizer:
    return BM25Tokenizer()


@pytest.mark.parametrize(
    ("question", "dropped"),
    [
        ("鸟巢那届奥运会的百米飞人大战在哪几天上演？", {"那届", "哪几", "几天", "哪几天"}),
        ("佩内塔一共赢下过多少个WTA巡回赛个人项目的奖杯？", {"多少"}),
        ("高英嫁给了哪位君主做正宫？", {"哪位"}),
        ("When was DDIM proposed and how many steps does it need?", {"when", "many"}),
        ("DDIM 的核心思想是什么?", {"核心思想", "核心", "心思", "思想"}),
        ("FM 和 FFM 的区别是什么?", {"区别"}),
        # the time asked about is no term of the topic (no passage writes 一年 or 时候)
        ("S4 是哪一年提出的?", {"一年", "哪一年"}),
        ("Mamba 是什么时候提出的?", {"时候"}),
        ("DeepSeek-V3 是哪年发布的?", {"哪", "年"}),
    ],
)
def test_question_words_are_dropped(tok: BM25Tokenizer, question: str, dropped: set[str]) -> None:
    before = tok(question)
    after = sparse_query(question, tok, renderings=0).terms
    assert dropped <= set(before) and not dropped & set(after)
    assert [t for t in before if t not in dropped] == after


def test_latin_terms_and_numbers_are_kept(tok: BM25Tokenizer) -> None:
    terms = sparse_query("WTA 在 2018 年办了几个比赛?", tok, renderings=0).terms
    assert terms == ["wta", "2018", "年", "办", "比赛"]


def test_a_time_unit_the_question_also_names_is_kept(tok: BM25Tokenizer) -> None:
    assert sparse_query("2021年的模型是哪年发布的?", tok, renderings=0).terms == [
        "2021",
        "年",
        "模型",
        "年",
        "发布",
    ]


def test_a_question_of_nothing_but_question_words_keeps_them(tok: BM25Tokenizer) -> None:
    assert sparse_query("多少呢?", tok, renderings=0).terms == ["多少"]


def test_off_switch_keeps_the_tokenizer_output(tok: BM25Tokenizer) -> None:
    q = "高英嫁给了哪位君主做正宫？"
    assert sparse_query(q, tok, drop_question_words=False, renderings=0).terms == tok(q)


def test_is_question_word() -> None:
    assert all(map(is_question_word, ["哪座", "几个", "这位", "那届", "多少", "which"]))
    assert not any(map(is_question_word, ["哪吒"[1:], "结局", "gpu", "几何"]))


def test_english_question_gets_chinese_renderings_grouped_by_word(tok: BM25Tokenizer) -> None:
    sq = sparse_query("How does DPO avoid a reward model?", tok, renderings=5, dictionary=TINY)
    assert sq.terms[: len(tok("How does DPO avoid a reward model?"))] == [
        "dpo",
        "avoid",
        "reward",
        "model",
    ]
    assert {"奖励", "报酬", "模型"} <= set(sq.terms)
    groups = {g[0]: set(g) for g in sq.groups}
    assert groups["reward"] == {"reward", "奖励", "报酬"} and groups["model"] == {"model", "模型"}


def test_renderings_per_word_and_known_terms(tok: BM25Tokenizer) -> None:
    one = sparse_query("reward", tok, renderings=1, dictionary=TINY).terms
    assert one == ["reward", "奖励"]  # the first rendering (longest, then code point order)
    known = sparse_query("reward", tok, renderings=5, dictionary=TINY, known=lambda ts: ["报酬"])
    assert known.terms == ["reward", "报酬"]  # a word the index never saw is not added


def test_several_word_ml_terms_are_rendered_whole(tok: BM25Tokenizer) -> None:
    # "receptive" and "field" each have dictionary words; the term 感受野 is in neither
    d = Renderings(
        {"field": ("领域", "田野"), "receptiv": ("接受",)},
        ml_phrases(["receptive field\t感受野", "mixture of experts\t混合专家"]),
    )
    sq = sparse_query("What is the receptive field of a CNN?", tok, renderings=5, dictionary=d)
    assert "感受野" in sq.terms and {"领域", "接受"} <= set(sq.terms)
    groups = {g[0]: set(g) for g in sq.groups}
    assert "感受野" in groups["receptive"] and "感受野" in groups["field"]
    assert matched_share(sq.groups, "感受野 (RF) 的计算") == 2 / 3  # receptive, field; not cnn
    moe = sparse_query("Why use a mixture of experts?", tok, renderings=5, dictionary=d)
    assert "混合专家" in moe.terms
    apart = sparse_query("Which field is receptive to it?", tok, renderings=5, dictionary=d)
    assert "感受野" not in apart.terms  # the words, not the term: not next to each other


def test_the_ml_term_list_renders_a_word_the_dictionary_leaves_unmatched(
    tok: BM25Tokenizer,
) -> None:
    # CC-CEDICT renders "bias" as 偏见/成见 (no ML article says them) and has no "reranking"
    d = Renderings(
        {"bia": ("偏见", "成见"), "reward": ("奖励",)},
        ml_phrases(["fine ranking\t精排"]),
        ml_words(["bias\t偏置", "reranking\t重排", "reward\t回报"]),
    )
    index = {"偏置", "重排", "精排", "奖励", "回报"}  # the terms the index has

    def known(terms):
        return [t for t in terms if t in index]

    def terms(question: str) -> list[str]:
        return sparse_query(question, tok, renderings=5, dictionary=d, known=known).terms

    assert "偏置" in terms("Why is the bias needed?")
    assert {"重排", "精排"} <= set(terms("What does reranking after fine-ranking fix?"))
    # a word the dictionary already renders into the index's terms keeps only those
    assert "回报" not in terms("What is the reward?") and "奖励" in terms("What is the reward?")


def test_chinese_questions_get_no_renderings(tok: BM25Tokenizer) -> None:
    q = "DPO 的 reward 是什么?"
    assert (
        sparse_query(q, tok, renderings=5, dictionary=TINY).terms
        == sparse_query(q, tok, renderings=0).terms
    )


def test_an_english_word_of_a_chinese_question_the_index_lacks_is_rendered(
    tok: BM25Tokenizer,
) -> None:
    # asked as a user: "rerank 阶段一般用什么方法?" ranked the rerank article (which writes 重排,
    # never "rerank") 5th and was refused with "no passage mentions rerank"
    d = Renderings({"reward": ("奖励",)}, {}, ml_words(["reranking\t重排"]))
    index = {"重排", "阶段", "奖励", "reward", "dpo"}

    def known(terms):
        return [t for t in terms if t in index]

    q = sparse_query("rerank 阶段一般用什么方法?", tok, renderings=5, dictionary=d, known=known)
    assert "重排" in q.terms and ("rerank", "重排") in q.groups
    # a word the index has (and a name) is left as written
    kept = sparse_query("DPO 的 reward 是什么?", tok, renderings=5, dictionary=d, known=known)
    assert kept.terms == sparse_query("DPO 的 reward 是什么?", tok, renderings=0).terms


def test_an_acronym_the_index_lacks_is_rendered_as_the_term_it_stands_for(
    tok: BM25Tokenizer,
) -> None:
    # asked as a user: "MTP 是什么?" was refused (p=0.00) with the DeepSeek-V3 article third: it
    # writes 多 token 预测, never MTP, and BM25 had nothing to match
    d = Renderings({}, {}, {})
    index = {"多", "token", "预测", "deepseek"}

    def known(terms):
        return [t for t in terms if t in index]

    for question in ("MTP 是什么?", "What is MTP?"):
        q = sparse_query(question, tok, renderings=5, dictionary=d, known=known)
        assert {"多", "token", "预测"} <= set(q.terms), question
        assert ("mtp", "多", "token", "预测") in q.groups
    # an acronym the index has is searched as written
    kept = sparse_query("DeepSeek 是什么?", tok, renderings=5, dictionary=d, known=known)
    assert "预测" not in kept.terms


def test_matched_share_counts_groups_as_substrings() -> None:
    groups = [("采样",), ("reward", "奖励"), ("步数",)]
    assert matched_share(groups, "DDIM 的采样只需 20 步，REWARD") == 2 / 3
    assert matched_share([], "anything") == 0.0


def test_text_for_stores_that_tokenize_gives_the_same_terms_back(tok: BM25Tokenizer) -> None:
    # Milvus cuts the text again with jieba's search mode: whole words, not the joined terms
    for q in [
        "鸟巢那届奥运会的百米飞人大战在哪几天上演？",
        "FFM 相对于 FM 的主要改动是引入了什么概念?",
    ]:
        sq = sparse_query(q, tok, renderings=0)
        assert tok(sq.text) == sq.terms
    en = sparse_query("How is a reward given?", tok, renderings=5, dictionary=TINY)
    assert en.text.endswith("奖励 报酬") and "how" not in en.text.split()
