"""Same-language bias of the dense scores, taken out of chunks in a corpus's minority language.

e5 scores a question higher against text in its own language, whatever the text is about. In a
corpus that is mostly Chinese, the one English article (SPP) was the closest chunk to English
questions it does not answer: of 18 English dev questions whose dense top-1 was wrong, 12 had
SPP first, and it sat in the hybrid top 5 of 32 of 74 English dev questions it does not answer.
The other way round, a Chinese question about SPP ("SPP 解决了什么问题?") found every Chinese
article closer than SPP's own (0.836 against 0.85-0.86), and was refused.

The correction is CSLS-like (cross-domain similarity local scaling): how close a chunk is to a
*typical* question of the query's language is its hubness. The typical question is the
centroid of a few generic ML questions per language (``data/probes.tsv``); since a mean of
dot products is the dot product with the mean, a chunk's hubness is one dot product. A chunk
of a minority language is put on the majority's scale: it loses what its hubness exceeds the
mean hubness of the majority-language candidates of the same query, and gains what it falls
short of it (a Chinese question, an English chunk):

    penalty(c) = mu_q · c - mean(mu_q · m for majority-language candidates m)

Chunks of the majority language are never changed, nor is anything in a corpus of one language
(so the coverage calibration and every monolingual benchmark are untouched). Measured on the
questions of ``questions.jsonl``, ``questions_more.jsonl`` and ``frames.jsonl``
(docs/retrieval.md).

Example:
    >>> import numpy as np
    >>> mu = np.array([1.0, 0.0])
    >>> vectors = {1: np.array([0.9, 0.1]), 2: np.array([0.5, 0.5]), 3: np.array([0.4, 0.6])}
    >>> hub = {i: float(mu @ v) for i, v in vectors.items()}
    >>> excess_hubness(hub, {1: "en", 2: "zh", 3: "zh"}, "zh")
    {1: 0.45}
    >>> excess_hubness(hub, {1: "zh", 2: "zh", 3: "en"}, "zh")  # below the majority: a gain
    {3: -0.3}
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.text.json_cache import cached_json

__all__ = ["LanguageBias", "excess_hubness", "load_probes"]

PROBES = Path(__file__).with_name("data") / "probes.tsv"
_CACHE_SIZE = 100_000  # chunk languages kept in memory


def load_probes(path: Path = PROBES) -> dict[str, list[str]]:
    """``lang -> questions`` from a ``lang<TAB>question`` file (``#`` starts a comment)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, _, question = line.partition("\t")
        if question.strip():
            out.setdefault(lang.strip(), []).append(question.strip())
    return out


def excess_hubness(
    hubness: Mapping[int, float], langs: Mapping[int, str], majority: str
) -> dict[int, float]:
    """The penalty of each minority-language chunk, negative for a gain (see the module
    docstring); rounded to 4 places."""
    major = [h for i, h in hubness.items() if langs.get(i) == majority]
    if not major:
        return {}
    base = float(np.mean(major))
    return {i: round(h - base, 4) for i, h in hubness.items() if langs.get(i, majority) != majority}


class LanguageBias:
    """Penalties for the minority-language chunks of a store (none in a one-language corpus).

    Args:
        store: The store (``documents()``, ``chunks(ids)``, ``dense_scores(vector, ids)``).
        embed_queries: ``texts -> vectors`` of the store's embedder (question side).
        fingerprint: The embedder's fingerprint (the probe centroids are cached under it).
        cache_dir: Where the centroids are kept (None: computed each time the store opens).
        probes: ``lang -> generic questions`` (default: ``data/probes.tsv``).
    """

    def __init__(
        self,
        store: Any,
        embed_queries: Callable[[Sequence[str]], np.ndarray],
        fingerprint: str,
        cache_dir: Path | None = None,
        probes: dict[str, list[str]] | None = None,
    ) -> None:
        self.store = store
        self.embed_queries = embed_queries
        self.fingerprint = fingerprint
        self.cache_dir = cache_dir
        self.probes = probes if probes is not None else load_probes()
        documents = getattr(store, "documents", None)  # a store that can't tell: one language
        docs = documents() if callable(documents) else []
        self.doc_lang = {d["doc_id"]: d.get("lang") or "" for d in docs}
        sizes: Counter[str] = Counter()
        for d in docs:
            sizes[d.get("lang") or ""] += int(d.get("chunks") or 1)
        self.majority = sizes.most_common(1)[0][0] if sizes else ""
        # worth it only when another language has chunks, and a probe set for the question
        self.active = len([lang for lang in sizes if lang]) > 1
        self._centroids: dict[str, np.ndarray] | None = None
        self._langs: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()

    def centroids(self) -> dict[str, np.ndarray]:
        """``lang -> mean e5 vector of its probe questions`` (computed once, cached on disk)."""
        if self._centroids is None:
            text = repr(sorted(self.probes.items()))
            key = hashlib.sha256(f"{self.fingerprint}\n{text}".encode()).hexdigest()[:16]
            path = self.cache_dir / f"probe-centroids-{key}.json" if self.cache_dir else None

            def build() -> dict[str, np.ndarray]:
                return {
                    lang: np.asarray(self.embed_queries(qs), dtype=np.float32).mean(axis=0)
                    for lang, qs in self.probes.items()
                }

            self._centroids = cached_json(
                path,
                build,
                lambda c: {k: [float(x) for x in v] for k, v in c.items()},
                lambda j: {k: np.asarray(v, dtype=np.float32) for k, v in j.items()},
            )
        return self._centroids

    def languages(self, ids: Sequence[int]) -> dict[int, str]:
        """The language of each chunk (its document's), cached."""
        with self._lock:
            known = {i: self._langs[i] for i in ids if i in self._langs}
        missing = [i for i in dict.fromkeys(ids) if i not in known]
        if missing:
            fresh = {
                i: self.doc_lang.get(c.doc_id, "")
                for i, c in zip(missing, self.store.chunks(missing), strict=True)
            }
            with self._lock:
                self._langs.update(fresh)
                while len(self._langs) > _CACHE_SIZE:
                    self._langs.popitem(last=False)
            known.update(fresh)
        return known

    def penalties(self, ids: Sequence[int], question_lang: str) -> dict[int, float]:
        """``id -> penalty`` (negative: a gain) for the minority-language chunks among ``ids``
        (the candidates of one question); empty when the corpus has one language or the
        question's has no probes."""
        if not self.active or not ids:
            return {}
        mu = self.centroids().get(question_lang)
        if mu is None:
            return {}
        langs = self.languages(ids)
        if all(lang == self.majority for lang in langs.values()):
            return {}
        hubness = self.store.dense_scores(mu, list(dict.fromkeys(ids)))
        return excess_hubness(hubness, langs, self.majority)
