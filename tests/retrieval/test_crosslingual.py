"""English -> Chinese renderings from CC-CEDICT."""

from __future__ import annotations

from pathlib import Path

from rag.retrieval.crosslingual import Renderings, english_words, stem


def test_stem_and_english_words() -> None:
    assert stem("sampling") == stem("samples") == "sampl"
    assert stem("queries") == "query"
    assert english_words("What is the reward of a sampling step, and the rewards?") == [
        "reward",
        "sampl",
        "step",
    ]


def test_parsing_keeps_one_word_senses_of_chinese_words() -> None:
    d = Renderings.from_lines(
        [
            "# a comment",
            "獎勵 奖励 [jiang3 li4] /to reward/reward (as encouragement)/",
            "報酬 报酬 [bao4 chou5] /reward/remuneration/",
            "奬 奖 [jiang3] /prize/award/",  # one character: skipped
            "船 小船 [xiao3 chuan2] /a kind of small boat/",  # several words: skipped
            "王 王 [Wang2] /surname Wang/",
            "個 个 [ge4] /CL:個|个/",
            "broken line",
        ]
    )
    assert d.zh_for("rewards") == ("奖励", "报酬")  # longest first, then code point order
    assert d.zh_for("remuneration") == ("报酬",)
    assert d.zh_for("boat") == () and d.zh_for("prize") == () and d.zh_for("wang") == ()


def test_cedict_is_parsed_once_and_cached(tmp_path: Path, monkeypatch) -> None:
    import rag.retrieval.crosslingual as cl

    monkeypatch.setattr(cl, "_loaded", None)
    first = Renderings.load(tmp_path)
    assert "采样" in first.zh_for("sampling") and "奖励" in first.zh_for("reward")
    (cached,) = tmp_path.glob("cedict-renderings-v1-*.json")
    monkeypatch.setattr(cl, "_loaded", None)
    again = Renderings.load(tmp_path)
    assert again.zh_by_stem == first.zh_by_stem
    cached.write_text("not json", encoding="utf-8")  # a damaged cache is parsed again
    monkeypatch.setattr(cl, "_loaded", None)
    assert Renderings.load(tmp_path).zh_for("sampling") == first.zh_for("sampling")


def test_a_term_spelt_out_finds_the_article_that_writes_its_acronym(assistant) -> None:
    # asked as a user: "What is a state space model?" retrieved DDPG, random walk and RL basics
    # (the SSM article never spells the term out) and the answer defined RL as an SSM
    passages = assistant.retrieve("What is a state space model?", k=5)
    assert passages[0].doc_id == "ssm-hippo"
    answer = assistant.ask(
        "What is a state space model in deep learning usually said to start from?"
    )
    assert answer.citations and answer.citations[0].doc_id == "ssm-hippo"
    assert "S4" in answer.text
