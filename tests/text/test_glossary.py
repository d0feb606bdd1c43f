"""The English <-> Chinese glossary (CC-CEDICT + the packaged ML terms)."""

from __future__ import annotations

import pytest

from rag.text.glossary import Glossary, english_terms, stem


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def test_inflections_share_a_stem() -> None:
    assert stem("activations") == stem("activation") == "activat"
    assert stem("sampling") == stem("samples") == "sampl"
    assert english_terms("How does the model avoid a reward model?") == ["model", "avoid", "reward"]
    # a doubled consonant before -ed/-ing, and Latin plurals
    assert stem("dropped") == stem("drop") and stem("embedding") == stem("embeds")
    assert stem("matrices") == stem("matrix") and stem("vertices") == stem("vertex")
    # a verb in -ply is no adverb: "apply" had been "app", "applied" "appli", "simply" "simp"
    assert {stem(w, 3) for w in ("apply", "applies", "applied", "applying")} == {"apply"}
    assert stem("simply") != stem("simple") and stem("quickly") == stem("quick")


def test_a_latin_plural_finds_the_singular_s_rendering(glossary: Glossary) -> None:
    # dev question m049 ("…a chained product of how many matrices?"): 矩阵 was not a rendering
    # of "matrices", so the sentence "三个矩阵连乘" did not count as matching the question
    assert "矩阵" in glossary.zh_for("matrices")
    assert glossary.found(english_terms("how many matrices?"), "那么就是三个矩阵连乘") == ["matrix"]


def test_english_words_find_their_chinese_renderings(glossary: Glossary) -> None:
    for english, chinese in [
        ("sampling", "采样"),
        ("gradient", "梯度"),
        ("distillation", "蒸馏"),
        ("anchor", "锚框"),  # the ML term list: not in the general dictionary
        ("retrain", "重新训练"),
    ]:
        assert chinese in glossary.zh_for(english), english


def test_found_matches_across_languages(glossary: Glossary) -> None:
    stems = english_terms("Which activation functions replaced ReLU?")
    text = "LLM 激活函数的演变：从 ReLU 到 SwiGLU"
    assert set(glossary.found(stems, text)) >= {"activat", "function", "relu"}
    assert glossary.found(english_terms("How many GPUs were used?"), "采样很慢") == []
