"""The same-language bias correction: only minority-language chunks of a mixed corpus move."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.retrieval.language_bias import LanguageBias, excess_hubness, load_probes
from rag.retrieval.retriever import Retriever
from tests.conftest import tiny_assistant

CHINESE = {
    "ddim": "DDIM 不需要重新训练模型，只需要二十到一百步采样就能达到接近 DDPM 一千步的效果。",
    "dpo": "DPO 直接用偏好数据训练语言模型，不需要单独训练一个奖励模型。",
    "yolo": "YOLO 把整张图作为网络的输入，直接在输出层回归边界框的位置和类别。",
}


@pytest.fixture(scope="module")
def chinese_only(base_settings: Settings, embedder, tmp_path_factory: pytest.TempPathFactory):
    assistant = tiny_assistant(CHINESE, base_settings, embedder, tmp_path_factory, "zh")
    yield assistant
    assistant.close()


def test_a_corpus_of_one_language_is_left_as_it_is(chinese_only) -> None:
    bias = LanguageBias(
        chinese_only.store, chinese_only.embedder.embed_queries, chinese_only.embedder.fingerprint
    )
    assert not bias.active
    question = "Does DDIM need to retrain the model?"
    on = chinese_only.retrieve(question, k=3, mode="dense")
    off = Retriever(
        chinese_only.store,
        chinese_only.embedder,
        chinese_only.tokenizer,
        chinese_only.settings.replace(language_bias=False),
    ).retrieve(question, k=3, mode="dense")
    assert [(p.doc_id, p.dense_score) for p in on] == [(p.doc_id, p.dense_score) for p in off]


def test_the_articles_english_chunk_loses_for_english_questions_and_gains_for_chinese(
    assistant,
) -> None:
    bias = LanguageBias(
        assistant.store, assistant.embedder.embed_queries, assistant.embedder.fingerprint
    )
    assert bias.active and bias.majority == "zh"
    ids = assistant.retriever.run("What is SPP?", k=10).ids
    spp = [i for i, c in zip(ids, assistant.store.chunks(ids), strict=True) if c.doc_id == "spp"]
    assert spp and set(bias.penalties(ids, "en")) == set(spp)
    assert all(v > 0 for v in bias.penalties(ids, "en").values())
    # a Chinese question is far from it: it gains what e5 gives Chinese text for being Chinese
    assert set(bias.penalties(ids, "zh")) == set(spp)
    assert all(v < 0 for v in bias.penalties(ids, "zh").values())


def test_a_chinese_question_about_the_english_article_finds_it_and_is_answered(assistant) -> None:
    # asked as a user: "SPP 解决了什么问题?" ranked every Chinese article above SPP's own (dense
    # 0.836 against 0.85-0.86) and was refused ("no passage mentions SPP")
    question = "SPP 解决了什么问题?"
    assert assistant.retrieve(question, k=3)[0].doc_id == "spp"
    off = assistant.settings.replace(language_bias=False)
    plain = Retriever(assistant.store, assistant.embedder, assistant.tokenizer, off)
    assert "spp" not in [p.doc_id for p in plain.retrieve(question, k=3)]
    answer = assistant.ask(question, llm="none")
    assert not answer.abstained and answer.citations[0].doc_id == "spp"


def test_minority_chunks_lose_or_gain_their_distance_to_the_majoritys_mean_hubness() -> None:
    hub = {1: 0.80, 2: 0.70, 3: 0.76, 4: 0.74}
    assert excess_hubness(hub, {1: "en", 2: "en", 3: "zh", 4: "zh"}, "zh") == {1: 0.05, 2: -0.05}
    assert excess_hubness(hub, {1: "zh", 2: "zh", 3: "zh", 4: "zh"}, "zh") == {}


def test_the_packaged_probes_cover_both_languages() -> None:
    probes = load_probes()
    assert len(probes["en"]) >= 20 and len(probes["zh"]) >= 20
