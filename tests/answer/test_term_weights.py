"""Term weights for evidence selection: rare question terms count more; one word counts once."""

from __future__ import annotations

from rag.answer.term_weights import rarity_weights


def test_a_term_in_fewer_sentences_weighs_more() -> None:
    found = [{"七叶树"}, {"七叶树"}, {"七叶树"}, {"七叶树", "功能"}, {"功能"}]
    weigh = rarity_weights(["七叶树", "功能"], found)
    assert weigh({"功能"}) > weigh({"七叶树"})
    assert weigh({"七叶树", "功能"}) == 1.0
    assert weigh(set()) == 0.0


def test_the_pieces_of_one_chinese_word_count_once_and_english_names_stay_apart() -> None:
    found = [{"水蜈蚣", "蜈蚣"}, {"水蜈蚣", "蜈蚣"}, {"功能"}]
    weigh = rarity_weights(["水蜈蚣", "蜈蚣", "功能"], found)
    # without the collapse the plant's name would count twice against 功能 once
    assert weigh({"水蜈蚣", "蜈蚣"}) < weigh({"功能"})
    # "fm" inside "ffm" is another model, not a piece of it
    names = rarity_weights(["fm", "ffm"], [{"fm"}, {"fm", "ffm"}])
    assert names({"fm"}) > 0


def test_no_terms_weigh_nothing() -> None:
    assert rarity_weights([], [set(), set()])({"x"}) == 0.0


def test_a_piece_counts_where_its_whole_word_is_missing() -> None:
    # "推荐系统要解决的匹配问题": "推荐的本质是给定user" holds 推荐 but not 推荐系统
    found = [{"推荐系统", "推荐"}, {"推荐"}, {"匹配"}]
    weigh = rarity_weights(["推荐系统", "推荐", "匹配"], found)
    assert weigh({"推荐"}) > 0
    assert weigh({"推荐系统", "推荐"}) == weigh({"推荐系统"})
