"""Refitting the clause model with numpy: the optimum, the sign constraint, the threshold rule."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.claims import FEATURES, CheckedAnswer, Clause
from rag.answer.claims.fit import (
    Labelled,
    _threshold,
    fit_model,
    logistic_regression,
    sigmoid,
    training_pairs,
)


def test_logistic_regression_reaches_the_penalised_balanced_optimum() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X @ np.array([1.5, -2.0, 0.0]) + rng.normal(size=120) > 0.8).astype(int)
    C = 0.7
    w, b = logistic_regression(X, y, C=C)
    # the gradient of C * sum(s_i * logloss_i) + |w|^2 / 2 vanishes (intercept unpenalised)
    s = len(y) / (2.0 * np.bincount(y)[y])
    r = s * (sigmoid(X @ w + b) - y)
    assert np.allclose(C * X.T @ r + w, 0.0, atol=1e-8)
    assert abs(C * r.sum()) < 1e-8
    assert w[0] > 0 > w[1]


def _clause(lang: str, feats: dict[str, float], start: int, supported: bool = True) -> Clause:
    return Clause(
        "x",
        start,
        start + 1,
        0,
        status="supported" if supported else "unsupported",
        lang=lang,
        features=dict(feats),
    )


def _case(ok_feats: dict[str, float], bad_feats: dict[str, float]) -> Labelled:
    """A correct answer (a zh and an en clause) and its corrupted twin with one injected clause
    per language, at 5..6 and 12..13: the injected span (5, 13) covers exactly those two."""
    ok = CheckedAnswer("x", clauses=[_clause("zh", ok_feats, 0), _clause("en", ok_feats, 20)])
    bad = CheckedAnswer(
        "x",
        clauses=[
            _clause("zh", ok_feats, 0),
            _clause("zh", bad_feats, 5, supported=False),
            _clause("en", bad_feats, 12, supported=False),
            _clause("en", ok_feats, 20),
        ],
    )
    return Labelled(ok, bad, (5, 13))


def test_fit_keeps_weights_explainable_and_the_false_removal_budget() -> None:
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(60):
        good = dict.fromkeys(FEATURES, 0.0)
        good.update(cov=rng.uniform(0.6, 1.0), sim=rng.normal(0.5, 0.5), short=0.2)
        # name_miss is noise that happens to be higher on supported clauses: the wrong sign
        good["name_miss"] = float(rng.integers(0, 3))
        bad = dict.fromkeys(FEATURES, 0.0)
        bad.update(cov=rng.uniform(0.0, 0.7), sim=rng.normal(-0.5, 0.5), short=0.2)
        bad["name_miss"] = float(rng.integers(0, 2))
        cases.append(_case(good, bad))
    pairs = training_pairs(cases)
    assert [int(v) for v in np.bincount(pairs["zh"][1])] == [60, 60]
    model = fit_model(cases, max_false_removal=0.05)
    for lang in ("zh", "en"):
        w = model.weights[lang]
        assert w["cov"] > 0 and w["sim"] > 0
        assert w["name_miss"] == 0.0  # came out positive: dropped and refitted
        assert 0.05 <= model.threshold[lang] < 0.95
        assert model.meta[lang]["false_removal_at_thr"] <= 0.05


def test_threshold_is_the_highest_within_the_budget() -> None:
    p_ok = np.array([0.075, 0.315, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9])
    # 1 of 10 clauses may go: up to 0.31 only the 0.075 one is below the threshold
    assert _threshold(p_ok, rule_ok=0, n_ok=10, max_false_removal=0.1) == pytest.approx(0.31)
    # a clause already removed by a rule uses the budget up
    assert _threshold(p_ok, rule_ok=1, n_ok=10, max_false_removal=0.1) == pytest.approx(0.07)


def test_fit_needs_both_labels() -> None:
    only_ok = _case(dict.fromkeys(FEATURES, 0.0), dict.fromkeys(FEATURES, 0.0))
    only_ok.bad.clauses.clear()
    with pytest.raises(ValueError, match="need correct and injected"):
        fit_model([only_ok])


def test_keep_recall_raises_the_threshold_until_dev_catches_what_it_caught(tools, embedder) -> None:
    from rag.answer.claims import ClaimModel
    from rag.eval.faithfulness import CachedSimilarity, Case, Checker, check_cases
    from rag.eval.refit import caught_per_set, keep_recall
    from rag.schema import Passage

    text = (
        "为了加速 DDPM 的采样过程,DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程,"
        "最终可以实现仅采样 20~100 步的情况下达到和 DDPM 采样 1000 步相近的生成效果。"
    )
    passage = Passage(text, "ddim", "DDIM", "ddim.md", "ddim#0", 1.0)
    ok = "DDIM 推导出了 diffusion 的反向过程，仅采样 20~100 步 [1]。"
    bad = "DDIM 推导出了 diffusion 的反向过程，可惜仅采样 20~100 步 [1]。"
    cases = [Case("k1", "ddim", "zh", ok, bad, "可惜", "added_claim", "dev")]
    source = {"k1": "set.jsonl"}
    checker = Checker(
        lambda _doc: passage, tools["terms"], tools["glossary"], CachedSimilarity(embedder)
    )
    packaged = ClaimModel.load()

    def with_zh(t: float) -> ClaimModel:
        return ClaimModel(packaged.weights, {**packaged.threshold, "zh": t}, packaged.meta)

    # the injected clause's probability under the packaged weights, as the check records it
    checker.model = with_zh(0.05)
    (first,) = check_cases(cases, checker, warm=False)
    (clause,) = [c for c in first.bad.clauses if "可惜" in c.text]
    p = clause.score
    assert 0.2 < p < 0.85, p  # decided by the model, not by a rule
    checker.model = with_zh(p + 0.01)  # the model being replaced caught it
    anchor = caught_per_set(check_cases(cases, checker, warm=False), source)
    assert anchor == {("set.jsonl", "zh"): 1}
    said: list[str] = []
    kept = keep_recall(with_zh(p - 0.12), "zh", cases, checker, source, anchor, said.append)
    assert p < kept.threshold["zh"] <= p + 0.055  # raised in steps of 0.05 until it catches
    assert kept.meta["zh"]["threshold_kept_recall"] == kept.threshold["zh"]
    assert said and "catches fewer injected clauses on set.jsonl" in said[0]
    checker.model = kept
    assert caught_per_set(check_cases(cases, checker, warm=False), source) == anchor
