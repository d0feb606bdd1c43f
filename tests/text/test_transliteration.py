"""Western names written in Chinese characters by their sound (rag/text/transliteration.py)."""

from __future__ import annotations

import pytest

from rag.text.transliteration import skeleton_en, skeleton_zh, transliterated

# Names of the ML literature and the Chinese the articles and Chinese Wikipedia write them with.
PAIRS = [
    ("Rosenblatt", "罗森布拉特"),
    ("McCulloch", "麦克洛奇"),
    ("Pitts", "皮茨"),
    ("Markov", "马尔可夫"),
    ("Lipschitz", "利普希茨"),
    ("Bengio", "本吉奥"),
    ("Gauss", "高斯"),
    ("Bayes", "贝叶斯"),
    ("Laplace", "拉普拉斯"),
    ("Kullback", "库尔贝克"),
    ("Leibler", "莱布勒"),
    ("Boltzmann", "玻尔兹曼"),
    ("Jensen", "詹森"),
    ("Supervielle", "苏佩维埃尔"),  # one consonant apart: SPLFL, SPFL
    ("Winkelhock", "温克霍克"),  # FNKLK, FNKHK
]


@pytest.mark.parametrize(("name", "zh"), PAIRS)
def test_a_name_is_found_where_the_text_writes_it_by_its_sound(name: str, zh: str) -> None:
    assert transliterated(name, f"这一方法由{zh}在论文中提出。") == zh


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("Hinton", "这一方法由罗森布拉特在论文中提出。"),  # another name
        ("Markov", "模型在训练时使用随机梯度下降。"),  # no name at all
        ("Gauss", "可以看出,这是一个高效的算法。"),  # ordinary words: no run of name characters
        ("Ng", "吴恩达讲过这门课。"),  # too short to tell by sound
        # four consonants one apart from a name of three: too loose over a corpus of names
        # (Walter FLTL is as close to 维多利亚 FTL as to 沃尔特 FLT)
        ("Walter", "维多利亚女王在位期间。"),
        # a close skeleton counts for a whole run, not a piece of a longer one
        ("Supervielle", "苏佩维埃尔多斯卡雷"),
    ],
)
def test_other_names_and_ordinary_words_do_not_match(name: str, text: str) -> None:
    assert transliterated(name, text) is None


def test_the_skeletons_agree_on_the_classes_the_tables_render_alike() -> None:
    assert skeleton_en("Rosenblatt") == skeleton_zh("罗森布拉特") == "LSNPLT"
    assert skeleton_zh("模型") == ""  # 模 and 型 are no transliteration characters
    assert skeleton_en("GPT-4") == ""  # not a word of letters
