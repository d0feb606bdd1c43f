"""The evaluation formulas: retrieval metrics against trec_eval (pytrec_eval), answer F1 on CMRC cases."""

from __future__ import annotations

import random

import pytest

from rag.eval.metrics import (
    answer_f1,
    cmrc_f1,
    contains_answer,
    dedupe_docs,
    latency_summary,
    retrieval_scores,
    token_f1,
)
from rag.eval.questions import parse_questions
from rag.eval.squad import convert_squad

CUTOFFS = [1, 3, 5, 10]


def _fixture_runs(seed: int = 7, n: int = 40) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Random ranked document lists and 1-3 gold documents per query (some never retrieved)."""
    rng = random.Random(seed)
    docs = [f"d{i}" for i in range(30)]
    runs, qrels = {}, {}
    for q in range(n):
        ranked = rng.sample(docs, rng.randint(3, 12))
        gold = set(rng.sample(docs, rng.randint(1, 3)))
        runs[f"q{q}"], qrels[f"q{q}"] = ranked, gold
    return runs, qrels


def test_hand_computed_retrieval_scores() -> None:
    ranked = dedupe_docs(c.split("#")[0] for c in ["x#0", "x#1", "a#0", "y#0", "b#0"])
    assert ranked == ["x", "a", "y", "b"]
    s = retrieval_scores(ranked, {"a", "b"}, CUTOFFS, 10)
    assert s["hit@1"] == 0.0 and s["hit@3"] == 1.0
    assert s["recall@3"] == 0.5 and s["recall@5"] == 1.0
    assert s["mrr@10"] == 0.5
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    assert s["ndcg@10"] == pytest.approx(
        (1 / 1.5849625 + 1 / 2.3219281) / (1 + 1 / 1.5849625), abs=1e-6
    )
    miss = retrieval_scores(["x", "y"], {"a"}, CUTOFFS, 10)
    assert all(v == 0.0 for v in miss.values())
    # MRR@10 ignores a gold document ranked 11th
    assert (
        retrieval_scores([f"n{i}" for i in range(10)] + ["a"], {"a"}, CUTOFFS, 10)["mrr@10"] == 0.0
    )


def test_retrieval_metrics_match_trec_eval() -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval", reason="pytrec-eval-terrier is a test extra")
    runs, qrels = _fixture_runs()
    # trec_eval ranks by score: give strictly decreasing scores, cut at 10 (MRR@10).
    run = {q: {d: float(100 - i) for i, d in enumerate(r[:10])} for q, r in runs.items()}
    qrel = {q: dict.fromkeys(g, 1) for q, g in qrels.items()}
    measures = {"success.1,3,5,10", "recall.1,3,5,10", "recip_rank", "ndcg_cut.10"}
    ref = pytrec_eval.RelevanceEvaluator(qrel, measures).evaluate(run)
    names = {"recip_rank": "mrr@10", "ndcg_cut_10": "ndcg@10"}
    names |= {f"success_{c}": f"hit@{c}" for c in CUTOFFS} | {
        f"recall_{c}": f"recall@{c}" for c in CUTOFFS
    }
    compared = 0
    for q, ranked in runs.items():
        ours = retrieval_scores(ranked, qrels[q], CUTOFFS, 10)
        for theirs, mine in names.items():
            assert ours[mine] == pytest.approx(ref[q][theirs], abs=1e-9), (q, mine)
            compared += 1
    assert compared == len(runs) * len(names)


@pytest.mark.parametrize(
    ("prediction", "golds", "expected"),
    [
        ("1990年代", ["1990年"], 0.8),  # segments [1990, 年] vs [1990, 年, 代]
        (
            "澳洲南部岛屿及西岸地区",
            ["尤金袋鼠分布在澳洲南部岛屿及西岸地区"],
            22 / 29,
        ),  # P 1, R 11/18
        ("泡泡堂", ["《泡泡堂》"], 1.0),  # punctuation removed
        ("踢爆", ["被踢爆了", "踢爆"], 1.0),  # max over gold answers
        # CMRC counts the longest common *substring*: 6 of 13 characters, not 12 of 13
        ("日本战国时代和安土桃山时代", ["日本战国时代至安土桃山时代"], 6 / 13),
        ("完全无关的回答", ["踢爆"], 0.0),
    ],
)
def test_cmrc_character_f1(prediction: str, golds: list[str], expected: float) -> None:
    assert cmrc_f1(prediction, golds) == pytest.approx(expected, abs=1e-9)


def test_english_token_f1_and_routing_by_answer_script() -> None:
    assert token_f1("the Denver Broncos", ["Denver Broncos"]) == 1.0
    assert token_f1("Broncos won", ["Denver Broncos"]) == pytest.approx(0.5)
    # English gold answer -> tokens; Chinese gold answer -> characters; citations ignored
    assert answer_f1(
        "It uses Flash Attention [1].", ["FlashAttention", "flash attention"]
    ) == pytest.approx(2 / 3)
    assert answer_f1("偏置[1]", ["偏置"]) == 1.0


def test_containment_ignores_citations_case_and_punctuation() -> None:
    assert contains_answer("DDIM 仅需 20~100 步[1]。", ["20～100 步"])
    assert contains_answer("It is an ECPM thing [2].", ["eCPM"])
    assert not contains_answer("热[1]图", ["热图谱"])
    assert contains_answer("热【1】图", ["热图"]) and contains_answer("热[1，2]图", ["热图"])
    assert not contains_answer("anything", [])


def test_latency_percentiles_match_numpy() -> None:
    np = pytest.importorskip("numpy")
    values = [0.3, 0.1, 2.0, 0.5, 0.25, 0.9, 1.4]
    lat = latency_summary(values)
    assert lat["p50"] == pytest.approx(float(np.percentile(values, 50)))
    assert lat["p95"] == pytest.approx(float(np.percentile(values, 95)))
    assert latency_summary([])["p50"] is None


def test_question_lines_are_validated_with_line_numbers() -> None:
    text = "\n".join(
        [
            '{"id": "a", "question": "DDIM 要几步?", "gold_doc_ids": ["ddim"], "answers": ["20"], "type": "x"}',
            '{"question": "broken"',
            '{"gold_doc_ids": []}',
            '{"id": "a", "question": "dup"}',
            '{"question": "Who wrote it?", "gold_doc_ids": "ddim"}',
            "",
            '{"question": "unlabelled question"}',
        ]
    )
    qs, errors = parse_questions(text, "q.jsonl")
    assert [q.qid for q in qs] == ["a", "L7"]
    assert qs[0].meta == {"type": "x"} and qs[0].lang == "zh" and qs[0].answerable
    assert qs[1].gold_doc_ids is None and qs[1].answerable is None and qs[1].lang == "en"
    assert [e.split(":")[1] for e in errors] == ["2", "3", "4", "5"]
    assert "not valid JSON" in errors[0] and '"question"' in errors[1] and "duplicate" in errors[2]


def test_squad_conversion_rules() -> None:
    data = {
        "data": [
            {
                "title": "A",
                "paragraphs": [
                    {
                        "context": "甲乙丙。",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "甲?",
                                "answers": [{"text": "甲"}, {"text": "甲"}, {"text": "甲乙"}],
                            },
                            {"id": "q2", "question": "丁?", "is_impossible": True, "answers": []},
                            {"id": "q3", "answers": []},
                        ],
                    },
                    {
                        "context": "甲乙丙。",
                        "qas": [{"question": "乙?", "answers": [{"text": "乙"}]}],
                    },
                ],
            },
            {
                "title": "B",
                "id": "ART",
                "paragraphs": [{"id": "P9", "context": "Text.", "qas": []}],
            },
        ]
    }
    corpus, questions, notes = convert_squad(data)
    assert [(d["id"], d["title"]) for d in corpus] == [("a0-p0", "A"), ("P9", "B")]
    by_id = {q["id"]: q for q in questions}
    assert by_id["q1"]["gold_doc_ids"] == ["a0-p0"] and by_id["q1"]["answers"] == ["甲", "甲乙"]
    assert by_id["q2"]["gold_doc_ids"] == [] and by_id["q2"]["answers"] == []
    assert by_id["a0-p0-q0"]["gold_doc_ids"] == ["a0-p0"]  # duplicate context merged
    assert any("qas[2]: no question" in n for n in notes)
    assert any("merged" in n for n in notes)
