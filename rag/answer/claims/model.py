"""The calibrated clause model: a logistic model per language over :data:`FEATURES`.

``claims_model.json`` (beside this module) stores the feature names next to the weights and
the threshold of each language; loading a file fitted for another feature set fails instead of
silently mis-scoring. Refit it on the dev splits with ``python -m rag.eval.refit``.

Features of a clause against one evidence candidate (:func:`features`):

- ``cov``: weighted share of the clause's content units (and names) in the candidate;
- ``miss_c`` / ``miss_a``: weight of the units missing from the candidate / from its passage;
- ``miss_share``: share of the units' weight missing from the passage;
- ``miss_g`` / ``miss_v``: weight of the Chinese units missing from the passage that jieba's
  dictionary tags as linking or qualifying words (adverbs, conjunctions, pronouns...: 可惜, 此前,
  有些) / as verbs (借助, 保证, 改用); ``miss_a`` counts the others (nouns, adjectives, words the
  dictionary lacks, English). A paraphrase changes those words far more often than the things
  it speaks of (:mod:`rag.answer.claims.word_class`);
- ``name_miss``: names missing from the candidate; ``neg``: polarity mismatch; ``cmp``: a
  comparison the candidate does not make;
- ``sim``: e5 similarity (scaled around 0.85); ``sim_x``: the same, only when the clause and
  the evidence are in different languages; ``short``: 1 / (1 + units).

Example:
    >>> m = ClaimModel({"zh": {**dict.fromkeys(FEATURES, 0.0), "bias": 0.0}}, {"zh": 0.5})
    >>> m.prob("zh", dict.fromkeys(FEATURES, 1.0))
    0.5
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import name_in
from rag.answer.claims.negation import comparison_unmade, neg_mismatch
from rag.answer.claims.units import Candidate, ClauseInfo, Unit
from rag.answer.claims.words import CJK

__all__ = ["FEATURES", "MODEL_PATH", "ClaimModel", "default_model", "features", "model_reason"]

FEATURES = (
    "cov",
    "miss_c",
    "miss_a",
    "miss_share",
    "miss_g",
    "miss_v",
    "name_miss",
    "neg",
    "cmp",
    "sim",
    "sim_x",
    "short",
)
MODEL_PATH = Path(__file__).with_name("claims_model.json")


@dataclass
class ClaimModel:
    """A logistic model per clause language over :data:`FEATURES`, with its threshold.

    The JSON file stores the feature names next to the weights; loading a file fitted for a
    different feature set fails instead of silently mis-scoring.
    """

    weights: dict[str, dict[str, float]]  # lang -> feature -> weight ("bias" included)
    threshold: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str | None = None) -> ClaimModel:
        """The model of ``path`` (default: ``claims_model.json`` beside this module)."""
        data = json.loads(Path(path or MODEL_PATH).read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(
                f"claims model {path or MODEL_PATH} was fitted for features {data['features']}, "
                f"the code computes {list(FEATURES)}: refit it (python -m rag.eval.refit)"
            )
        return cls(data["weights"], data["threshold"], data.get("meta", {}))

    def save(self, path: Path | str | None = None) -> None:
        """Write the model as JSON (default: ``claims_model.json`` beside this module)."""
        data = {
            "features": list(FEATURES),
            "weights": self.weights,
            "threshold": self.threshold,
            "meta": self.meta,
        }
        Path(path or MODEL_PATH).write_text(
            json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def prob(self, lang: str, feats: dict[str, float]) -> float:
        """Probability that the clause is supported (``lang``: the clause's language)."""
        w = self.weights[lang]
        z = w["bias"] + sum(w[f] * feats[f] for f in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def contributions(self, lang: str, feats: dict[str, float]) -> dict[str, float]:
        """Each feature's term of the logit (to explain a rejection)."""
        w = self.weights[lang]
        return {f: w[f] * feats[f] for f in FEATURES}


_DEFAULT_MODEL: ClaimModel | None = None


def default_model() -> ClaimModel:
    """The packaged model, loaded once."""
    global _DEFAULT_MODEL
    if _DEFAULT_MODEL is None:
        _DEFAULT_MODEL = ClaimModel.load()
    return _DEFAULT_MODEL


def features(
    lex: Lexicon,
    info: ClauseInfo,
    c: Candidate,
    cov: float,
    miss_share: float,
    miss_units: list[Unit],
    sim: float | None,
) -> dict[str, float]:
    """The model's inputs for one clause and one evidence candidate (misses: in its passage).

    ``sim_raw`` (the unscaled similarity, 0.85 when none was computed) rides along for the
    clause's record; the model does not read it.
    """
    name_miss = sum(
        1 for m, n in info.names if n and not name_in(n, c.norm) and not lex.name_sounded(m, c)
    )
    n_units = len(info.units) + len(info.names)
    miss_c = sum(u.weight for u in info.units if lex.unit_score(u, c) < 0.5)
    miss_a = sum(u.weight for u in miss_units if not u.word_class)
    miss_g = sum(u.weight for u in miss_units if u.word_class == "g")
    miss_v = sum(u.weight for u in miss_units if u.word_class == "v")
    scale = 0.5 if not info.english else 1.0  # Chinese weights count characters (up to 4)
    cross = info.english == bool(CJK.search(c.text))  # the clause's language is not the text's
    s = 0.85 if sim is None else sim
    return {
        "cov": cov,
        "miss_c": min(miss_c * scale, 4.0),
        "miss_a": min(miss_a * scale, 4.0),
        "miss_share": miss_share,
        "miss_g": min(miss_g * scale, 4.0),
        "miss_v": min(miss_v * scale, 4.0),
        "name_miss": float(min(name_miss, 2)),
        "neg": 1.0 if neg_mismatch(info, c, lex.renderings, lex.tok) else 0.0,
        "cmp": 1.0 if comparison_unmade(info, c) else 0.0,
        "sim": (s - 0.85) * 10,
        "sim_x": (s - 0.85) * 10 if cross else 0.0,
        "short": 1.0 / (1.0 + n_units),
        "sim_raw": s,
    }


def model_reason(
    lex: Lexicon,
    model: ClaimModel,
    lang: str,
    info: ClauseInfo,
    feats: dict[str, float],
    c: Candidate,
    miss_all_units: list[Unit],
    cited: list[int],
) -> str:
    """Why the model rejected a clause that passed the rules, in words."""
    where = f"[{cited[0]}]" if cited else f"[{c.passage + 1}]"
    contrib = model.contributions(lang, feats)
    if feats["neg"] > 0 and contrib.get("neg", 0) < -1.0:
        return f"negation not in the source {where}"
    if miss_all_units:
        words = sorted(miss_all_units, key=lambda u: -u.weight)[:2]
        shown = "', '".join(u.surface for u in words)
        return f"'{shown}' not in the passages"
    missing_here = [u.surface for u in info.units if lex.unit_score(u, c) < 0.5]
    if missing_here:
        return f"'{missing_here[0]}' not in the evidence sentence of {where}"
    return f"not supported by {where} (similarity {feats.get('sim_raw', 0.85):.2f})"
