"""Chinese names written in pinyin: the CC-CEDICT readings, the lookup among index terms, and
an English question finding the paragraph about a person, a school and a custom it names."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rag.config import Settings
from rag.retrieval.pinyin_names import PinyinNames
from rag.text.pinyin import Pinyin
from rag.text.wade_giles import wade_giles
from tests.conftest import tiny_assistant

PARAGRAPHS = {
    "zhang": "张永海是一名足球运动员，主要司职中后卫，曾经入选国家队。",
    "painter": "张伟是一位画家，擅长山水画，作品曾在上海展出。",
    "river": "永定河是北京的重要河流，流经多个区县，海河水系的一部分。",
    "school": "南宁二中创建于1906年，是一所重点中学，校园里有很多古树。",
    "nanjing": "南京大学是一所综合性大学，历史悠久，校园里有很多古树。",
    "zhan": "占旭刚，浙江省衢州市开化县人，著名男子举重运动员，两度获得奥运会金牌。",
    "runner": "刘翔是著名的田径运动员，曾获得奥运会金牌，让这项运动更受欢迎。",
    "soprano": "蔡敏是台湾女高音，曾就学于台北市古亭国小，后赴米兰音乐院深造。",
}


@pytest.fixture(scope="module")
def pinyin(cache_dir: Path) -> Pinyin:
    return Pinyin.load(cache_dir)


def test_words_read_as_cc_cedict_says(pinyin: Pinyin) -> None:
    assert pinyin.readings("张永海") == {"zhangyonghai"}
    assert pinyin.readings("南宁") == {"nanning"}  # the word's own reading settles 宁
    assert pinyin.split("Erzhong") == ["er", "zhong"]
    assert pinyin.split("Transformer") is None and pinyin.split("Mamba") is None


def test_english_words_are_never_read_as_pinyin(pinyin: Pinyin) -> None:
    names = PinyinNames(pinyin, ["女们", "我们", "香蕉", "常格", "张永海"])
    english = {"women", "banana", "change"}
    found = names.sounds("Women like banana; change Zhang Yonghai", english.__contains__)
    assert found == {"zhang": ["张永海"], "yonghai": ["张永海"]}


def test_wade_giles_names_read_as_the_pinyin_they_stand_for(pinyin: Pinyin) -> None:
    """Taiwanese names in English keep Wade-Giles without its apostrophes: ch = zh/ch/j/q,
    ts = z/c, hs = x, k = g/k, -ien = -ian, -ung = -ong."""
    syl = pinyin.syllables
    assert wade_giles("Tsai", syl) == {"cai", "zai"}
    assert {"zhang", "chang"} <= wade_giles("Chang", syl) and "yusheng" in wade_giles(
        "Yu-sheng", syl
    )
    assert "jiancheng" in wade_giles("Chien-cheng", syl)
    assert wade_giles("Hsieh", syl) == {"xie"} and "guo" in wade_giles("Kuo", syl)
    assert "gaoxiong" in wade_giles("Kaohsiung", syl)  # 高雄, no hyphen
    for english in ("transformer", "attention", "model", "Stanley"):
        assert wade_giles(english, syl) == set(), english
    names = PinyinNames(pinyin, ["张雨生", "宋建成", "蔡敏", "国光"])
    assert names.sounds("What is Chang Yu-sheng's sixth album?", lambda w: False)["chang"] == [
        "张雨生"
    ]
    found = names.sounds("Did Tsai Min study at the Kuo Kuang school?", lambda w: False)
    assert found["tsai"] == ["蔡敏"] and found["kuo"] == ["国光"]


@pytest.fixture(scope="module")
def names_index(base_settings: Settings, embedder, tmp_path_factory: pytest.TempPathFactory):
    assistant = tiny_assistant(PARAGRAPHS, base_settings, embedder, tmp_path_factory, "pinyin")
    yield assistant
    assistant.close()


@pytest.mark.parametrize(
    ("question", "doc", "name"),
    [
        ("What position does Zhang Yonghai play?", "zhang", "张永海"),
        ("Which sport made Zhan Xugang famous?", "zhan", "占旭刚"),
        ("Which sport made Zhan Xu-gang famous?", "zhan", "占旭刚"),  # a hyphenated given name
        ("When was Nanning Erzhong founded?", "school", "二中"),
        ("Where did Tsai Min study singing?", "soprano", "蔡敏"),  # Wade-Giles: cai min
    ],
)
def test_an_english_question_finds_the_name_it_writes_in_pinyin(
    names_index, question: str, doc: str, name: str
) -> None:
    found = names_index.retrieve(question, k=3, mode="bm25")
    assert found and found[0].doc_id == doc, [p.doc_id for p in found]
    assert name in names_index.retriever.sparse_query(question).terms
    # the retrieval carries what it heard, for the answer chain's evidence step
    heard = names_index.retriever.run(question, k=3, mode="bm25").sounds
    assert any(name in terms for terms in heard.values()), heard
    retriever = names_index.retriever
    retriever.settings = retriever.settings.replace(bm25_pinyin=False)
    try:
        assert name not in retriever.sparse_query(question).terms  # no dictionary has it
    finally:
        retriever.settings = retriever.settings.replace(bm25_pinyin=True)


def test_the_coverage_decision_hears_the_name_too(names_index) -> None:
    """The question's words found in the passages feed the coverage decision: a pinyin name
    found by its sound counts, so the answer is more confident, not refused."""
    question = "What position does Zhang Yonghai play?"
    on = names_index.ask(question)
    retriever = names_index.retriever
    retriever.settings = retriever.settings.replace(bm25_pinyin=False)
    try:
        off = names_index.ask(question)
    finally:
        retriever.settings = retriever.settings.replace(bm25_pinyin=True)
    assert not on.abstained and on.citations[0].doc_id == "zhang"
    assert on.coverage is not None and off.coverage is not None
    assert on.coverage > off.coverage


def test_the_calibration_features_hear_the_name_as_the_chain_does(names_index) -> None:
    """``python -m rag.calibrate`` must compute the features the chain computes: the chain's
    evidence and coverage count a pinyin name found by its sound, so the calibration does too."""
    from rag.answer.calibrate import collect
    from rag.text.glossary import Glossary

    question = {"question": "What position does Zhang Yonghai play?", "gold_doc_ids": ["zhang"]}
    retriever = names_index.retriever

    def retrieve(text: str):
        r = retriever.run(text, k=40)
        return r.passages, r.query_vector

    def share(sounds) -> float:
        (case, _loo) = collect(
            "t",
            [question],
            retrieve,
            names_index.answer_tools.selector,
            names_index.tokenizer,
            Glossary.load(),
            sounds=sounds,
        )
        return case.features["top1_term_share"]

    assert share(retriever.sounds) > share(None)


def test_a_passage_that_names_the_person_is_kept_among_the_passages(names_index) -> None:
    """The fused list had put 罗保铭's paragraph 7th for "Which university did Luo Baoming
    graduate from?" (the embeddings do not link the romanised name): when none of the passages
    names whom the question names in pinyin, the best candidate that does takes the last place."""
    retriever = names_index.retriever
    q = "Which schools did Tsai Min attend?"
    sq = retriever.sparse_query(q)
    ranked = retriever.run(q, k=len(PARAGRAPHS), mode="hybrid")
    soprano = next(
        i for i, p in zip(ranked.ids, ranked.passages, strict=True) if p.doc_id == "soprano"
    )
    others = [(i, 1.0) for i in ranked.ids if i != soprano]
    fused = [*others, (soprano, 0.0)]  # as if fusion had ranked her paragraph last
    kept = retriever._named(others[:2], fused, fused, sq)
    assert [i for i, _ in kept] == [others[0][0], soprano]
    # a sound that is a common word too names no one: "Fahui" heard as 发挥 pins nothing
    assert (
        retriever._named(others[:2], fused, fused, replace(sq, sounds={"fahui": ["发挥"]}))
        == others[:2]
    )
