"""Refitting the clause model from checked answers, with numpy alone (no scikit-learn).

Training pairs: the clauses of correct answers (label 1) and the injected clauses of corrupted
ones (label 0) that no rule decided. Per language, a class-balanced logistic regression with an
L2 penalty (``C``: scikit-learn's convention, ``C * sum(weighted log-loss) + |w|^2 / 2``, the
intercept not penalised) is fitted by Newton's method; a feature whose weight comes out with
the wrong sign (:data:`SIGN`: a penalty that would reward, e.g. a missing name raising the
probability) is dropped and the model refitted, so it stays explainable. The threshold is the
highest (in steps of 0.01 from 0.05) whose false-removal rate on the correct clauses, rule
removals included, stays at or below ``max_false_removal``.

``python -m rag.eval.refit`` runs it on the dev splits (see :mod:`rag.eval.refit`).

Example:
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> w, b = logistic_regression(X, y, C=1.0)
    >>> bool(w[0] > 0), round(float(sigmoid(X @ w + b)[0]), 3) < 0.5
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.answer.claims.model import FEATURES, ClaimModel
from rag.answer.claims.result import CheckedAnswer

__all__ = ["SIGN", "Labelled", "fit_model", "logistic_regression", "sigmoid", "training_pairs"]

# The sign a feature's weight must have (0: either).
SIGN = {
    "cov": 1,
    "miss_c": -1,
    "miss_a": -1,
    "miss_share": -1,
    "miss_g": -1,
    "miss_v": -1,
    "name_miss": -1,
    "neg": -1,
    "cmp": -1,
    "sim": 1,
    "sim_x": 1,
    "short": 0,
}


@dataclass
class Labelled:
    """One case of the detection set, checked: the correct answer, the corrupted one, and the
    span of the injected text in the corrupted one."""

    ok: CheckedAnswer
    bad: CheckedAnswer
    injected: tuple[int, int]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def training_pairs(cases: Sequence[Labelled]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(features, labels) per clause language: correct clauses 1, injected clauses 0."""
    data: dict[str, list[tuple[list[float], int]]] = {"zh": [], "en": []}
    for case in cases:
        for c in case.ok.clauses:
            if c.features.get("cov") is None or c.rule:
                continue  # decided by a rule
            data[c.lang].append(([c.features[f] for f in FEATURES], 1))
        for c in case.bad.clauses:
            if not _overlaps((c.start, c.end), case.injected):
                continue
            if c.features.get("cov") is None or c.rule:
                continue
            data[c.lang].append(([c.features[f] for f in FEATURES], 0))
    out = {}
    for lang, items in data.items():
        X = np.array([x for x, _ in items], dtype=float).reshape(len(items), len(FEATURES))
        y = np.array([label for _, label in items], dtype=int)
        out[lang] = (X, y)
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function (clipped: no overflow)."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))


def logistic_regression(
    X: np.ndarray, y: np.ndarray, C: float = 1.0, max_iter: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-penalised logistic regression: ``(weights, intercept)``.

    Minimises ``C * sum_i s_i * logloss_i + |w|^2 / 2`` with balanced sample weights
    ``s_i = n / (2 * n_class(y_i))`` (scikit-learn's ``class_weight="balanced"``) by damped
    Newton steps; the problem is strictly convex in ``w``, so the optimum is the one
    scikit-learn's solvers approach.
    """
    n, d = X.shape
    counts = np.bincount(y, minlength=2).astype(float)
    s = n / (2.0 * counts[y])
    Xb = np.hstack([X, np.ones((n, 1))])
    penalty = np.ones(d + 1)
    penalty[-1] = 0.0  # the intercept is not penalised

    def objective(theta: np.ndarray) -> float:
        z = Xb @ theta
        loss = np.logaddexp(0.0, z) - y * z
        return float(C * np.sum(s * loss) + 0.5 * np.sum(penalty * theta**2))

    theta = np.zeros(d + 1)
    current = objective(theta)
    for _ in range(max_iter):
        p = sigmoid(Xb @ theta)
        grad = C * Xb.T @ (s * (p - y)) + penalty * theta
        hess = C * (Xb.T * (s * p * (1.0 - p))) @ Xb + np.diag(penalty) + 1e-12 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:  # backtracking: never increase the objective
            trial = objective(theta - t * step)
            if trial <= current + 1e-12:
                break
            t /= 2
        theta = theta - t * step
        current = objective(theta)
        if np.max(np.abs(t * step)) < tol:
            break
    return theta[:-1], float(theta[-1])


def _sign_constrained(X: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float, Any]:
    """Fit, drop the features whose weight has the wrong sign, refit; (w, b, kept mask)."""
    mask = np.ones(len(FEATURES), dtype=bool)
    w, b = np.zeros(len(FEATURES)), 0.0
    for _ in range(len(FEATURES)):
        w, b = logistic_regression(X * mask, y, C)
        wrong = [i for i, f in enumerate(FEATURES) if mask[i] and w[i] * SIGN[f] < 0]
        if not wrong:
            break
        mask[wrong] = False
    return w, b, mask


def _threshold(p_ok: np.ndarray, rule_ok: int, n_ok: int, max_false_removal: float) -> float:
    """The highest threshold whose false-removal rate stays within ``max_false_removal``."""
    best = 0.05
    for thr in np.arange(0.05, 0.95, 0.01):
        removed = (rule_ok + int((p_ok < thr).sum())) / max(1, n_ok)
        if removed <= max_false_removal:
            best = float(thr)
    return best


def fit_model(
    cases: Sequence[Labelled],
    max_false_removal: float = 0.045,
    C: float = 1.0,
    fitted_on: str = "faithfulness.jsonl",
) -> ClaimModel:
    """Fit the per-language model on checked cases and pick its threshold (module docstring)."""
    weights: dict[str, dict[str, float]] = {}
    thresholds: dict[str, float] = {}
    meta: dict[str, Any] = {}
    for lang, (X, y) in training_pairs(cases).items():
        if len(set(y.tolist())) < 2:
            raise ValueError(f"{lang}: need correct and injected clauses to fit, got {len(y)}")
        w, b, mask = _sign_constrained(X, y, C)
        p = sigmoid((X * mask) @ w + b)
        ok_clauses = [c for case in cases for c in case.ok.clauses if c.lang == lang]
        n_ok, rule_ok = len(ok_clauses), sum(bool(c.rule) for c in ok_clauses)
        thr = _threshold(p[y == 1], rule_ok, n_ok, max_false_removal)
        weights[lang] = {
            **{f: round(float(v) * bool(m), 4) for f, v, m in zip(FEATURES, w, mask, strict=True)},
            "bias": round(b, 4),
        }
        thresholds[lang] = round(thr, 2)
        meta[lang] = {
            "fitted_on": f"{fitted_on}: dev split (features computed without the (dev) terms)",
            "n_pos": int((y == 1).sum()),
            "n_neg": int((y == 0).sum()),
            "ok_clauses": n_ok,
            "ok_removed_by_rules": rule_ok,
            "model_recall_at_thr": round(float((p[y == 0] < thr).mean()), 4),
            "false_removal_at_thr": round(
                (rule_ok + float((p[y == 1] < thr).sum())) / max(1, n_ok), 4
            ),
        }
    meta["C"] = C
    meta["max_false_removal"] = max_false_removal
    return ClaimModel(weights, thresholds, meta)
