"""Chinese names written in pinyin, found among the index's terms by their sound.

"When did Zhang Yonghai return to Liaoning?" asks about 张永海 and 辽宁; CC-CEDICT renders
Liaoning but no dictionary holds every person, school or custom ("Nanning Erzhong", 南宁二中;
"guanfuxing", 冠夫姓). :class:`PinyinNames` indexes the BM25 vocabulary's Chinese terms by their
toneless pinyin (:class:`rag.text.pinyin.Pinyin`) and looks up the question's words that read as
pinyin and are no English word (unless capitalised inside a sentence) — each word of two or more syllables, and two adjacent words
together (a surname and a given name). The terms found join the BM25 query as renderings of
those words (:func:`rag.retrieval.query.sparse_query`).

Example:
    >>> from rag.text.pinyin import Pinyin
    >>> p = Pinyin.from_lines(["張 张 [zhang1] /x/", "永 永 [yong3] /x/", "海 海 [hai3] /x/",
    ...                        "遼寧 辽宁 [Liao2 ning2] /Liaoning/", "遼 辽 [liao2] /x/",
    ...                        "寧 宁 [ning2] /x/"])
    >>> names = PinyinNames(p, ["张永海", "辽宁", "永海", "训练"])
    >>> names.sounds("When did Zhang Yonghai return to Liaoning?", lambda w: w in ("return", "zhang"))
    {'zhang': ['张永海'], 'yonghai': ['张永海', '永海'], 'liaoning': ['辽宁']}
    >>> names.sounds("Where does Zhang Yong-hai play?", lambda w: False)["hai"]
    ['张永海', '永海']
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from rag.text.pinyin import Pinyin
from rag.text.wade_giles import wade_giles

__all__ = ["PinyinNames"]

_CJK_TERM = re.compile(r"^[\u4e00-\u9fff]{2,6}$")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")  # "Shui-bian" is one given name
_PER_KEY = 3  # terms kept per sound, longest first


class PinyinNames:
    """The Chinese terms of a vocabulary by their toneless pinyin.

    Args:
        pinyin: The readings table.
        vocabulary: The index's terms (only Chinese terms of 2-6 characters are kept).
    """

    def __init__(self, pinyin: Pinyin, vocabulary: Iterable[str]) -> None:
        self.pinyin = pinyin
        by_sound: dict[str, set[str]] = defaultdict(set)
        for term in vocabulary:
            if _CJK_TERM.match(term):
                for sound in pinyin.readings(term):
                    by_sound[sound].add(term)
        self.by_sound = {
            k: sorted(v, key=lambda t: (-len(t), t))[:_PER_KEY] for k, v in by_sound.items()
        }

    def sounds(self, question: str, is_english: Callable[[str], bool]) -> dict[str, list[str]]:
        """Lowercased question word -> the vocabulary terms it (or it with its neighbour) reads
        as. ``is_english`` tells which lowercased words are English words: those are not looked
        up unless capitalised inside the sentence (a name: CC-CEDICT knows "zhang" as a unit of
        length)."""
        words = [
            (m.group(0).lower().replace("-", ""), m.start(), m.end(), self._spellings(m.group(0)))
            for m in _WORD.finditer(question)
            if _capitalised_inside(question, m.start()) or not is_english(m.group(0).lower())
        ]
        words = [w for w in words if w[3]]
        out: dict[str, list[str]] = {}
        spans = {w: (s, e) for w, s, e, _ in words}

        def add(word: str, terms: list[str]) -> None:
            surface = question[spans[word][0] : spans[word][1]].lower()
            for key in dict.fromkeys([word, *surface.split("-")]):  # the pieces of "yong-hai" too
                for t in terms:
                    out.setdefault(key, [])
                    if t not in out[key]:
                        out[key].append(t)

        for (a, _, a_end, a_sp), (b, b_start, _, b_sp) in itertools.pairwise(words):
            if not question[a_end:b_start].strip():  # adjacent: "Zhang Yonghai"
                terms = [t for x in a_sp for y in b_sp for t in self.by_sound.get(x + y, [])]
                add(a, terms)
                add(b, terms)
        for w, _, _, sp in words:
            for s in sp:
                if len(self.pinyin.split(s) or ()) >= 2:
                    add(w, self.by_sound.get(s, []))
        return {w: ts for w, ts in out.items() if ts}

    def _spellings(self, word: str) -> list[str]:
        """The toneless pinyin a Latin word may be: itself when it splits into pinyin
        syllables, and its Wade-Giles readings ("Tsai" -> cai, zai)."""
        plain = word.lower().replace("-", "")
        out = [plain] if self.pinyin.split(plain) else []
        return out + sorted(wade_giles(word, self.pinyin.syllables) - {plain})


def _capitalised_inside(text: str, start: int) -> bool:
    """The word at ``start`` is capitalised and does not open a sentence."""
    before = text[:start].rstrip()
    return text[start].isupper() and bool(before) and before[-1] not in ".?!:;\"'“‘("
