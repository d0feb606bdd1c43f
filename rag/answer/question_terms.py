"""The content terms of a question and which of them a text contains, across languages.

A Chinese question's jieba terms (its question words and the words of its frame left out), an
English question's word stems (their Chinese renderings from the glossary found in a Chinese
text), its acronyms, pinyin names and quoted Chinese terms: the evidence step scores sentences
by them and the coverage decision reads their shares.

Example:
    >>> from rag.text.tokenize_zh import BM25Tokenizer
    >>> q = QuestionTerms("DDIM 需要重新训练模型吗?", BM25Tokenizer())
    >>> q.terms, q.found("DDIM 不需要重新训练")
    (['ddim', '重新', '训练'], ['ddim', '重新', '训练'])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from rag.retrieval.query import EVALUATIVE_ZH, FRAME_WORDS_ZH, frame_terms, time_asked_terms
from rag.text.glossary import Glossary, acronym_renderings, acronyms_in, english_terms, stem
from rag.text.language import CJK, question_language

__all__ = ["GENERIC_EN", "GENERIC_ZH", "QuestionTerms"]

_LATIN = re.compile(r"[A-Za-z]{3}")
_MIN_STEM = 4  # shorter English stems (box, map) say too little alone
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}(?![A-Za-z0-9])")
_WHOLE = r"(?<![A-Za-z0-9]){}(?![A-Za-z0-9])"
_PLAIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z0-9])")
_PLAIN_COMPOUND = re.compile(r"(?<![A-Za-z\-])[a-z]+(?:-[a-z]+)+(?![A-Za-z0-9\-])")

# Words that say what kind of question it is, not what it is about.
_GENERIC_ZH_WORDS = (
    "模型 方法 问题 使用 什么 怎么 为什么 如何 哪些 哪个 一般 主要 需要 通常 可以 是否 一种 "
    "之间 相比 比较 介绍 文章 本文 多少 几个 有没有 能否 能不能 怎样 为何"
)
GENERIC_ZH = frozenset(_GENERIC_ZH_WORDS.split())
# ... and their English stems: "What is the difference between FM and FFM?" is about FM and FFM,
# not about 区别/不同 ("between" stays: "a bridge between what?" needs its 之间); "What is the
# drawback of image pyramid methods?" is not about 方法, which GENERIC_ZH leaves out too
GENERIC_EN = frozenset(
    english_terms(
        "difference differences differ compare comparison method methods approach approaches"
    )
)
# ... and the words of a Chinese question's frame, but for those that judge (缺点: QuestionTerms)
_FRAMES = FRAME_WORDS_ZH - EVALUATIVE_ZH


class QuestionTerms:
    """The content terms of a question and which of them a text contains (across languages).

    Args:
        question: The question.
        terms: The BM25 tokenizer (jieba terms, lowercased Latin words).
        glossary: Chinese renderings of English words, for English questions.
        sounds: Pinyin words of an English question and the Chinese terms they read as
            (:meth:`rag.retrieval.retriever.Retriever.sounds`).
    """

    def __init__(
        self,
        question: str,
        terms: Callable[[str], list[str]],
        glossary: Glossary | None = None,
        sounds: dict[str, list[str]] | None = None,
    ) -> None:
        self.question = question
        self.english = question_language(question) == "en"
        self.glossary = glossary
        self._terms = terms
        # pinyin names of an English question -> the index's Chinese terms (张永海)
        self.sounds = {stem(w): tuple(ts) for w, ts in (sounds or {}).items()}
        self._english_of: dict[str, tuple[str, ...]] = {}
        self._acronyms: list[str] = []
        self._chinese_of: dict[str, tuple[str, ...]] = {}
        if self.english:
            self.terms = [t for t in english_terms(question) if t not in GENERIC_EN]
            # acronyms, whole words: two-letter ones (FM, RL), those of spelt-out terms (-> ssm)
            found = [a.lower() for a in _ACRONYM.findall(question)] + acronyms_in(question)
            self._acronyms = list(dict.fromkeys(found))
            self.terms += [a for a in self._acronyms if a not in self.terms]
            # a Chinese term quoted in an English question ("What does 感受野 mean?")
            self.terms += [t for t in dict.fromkeys(terms(question)) if CJK.search(t)]
        else:
            # 核心思想, 原理…: what kind of answer is asked, not what about (缺点 stays: an
            # article need not speak of its topic's drawbacks)
            frame, asked = frame_terms(question, _FRAMES), time_asked_terms(question)
            self.terms = [
                t
                for t in dict.fromkeys(terms(question))
                if t not in GENERIC_ZH and not frame(t) and not asked(t)
            ]
            # English words written in lowercase: words, not names (DDIM, Mamba)
            plain = {w for w in _PLAIN_WORD.findall(question) if w.islower()}
            if glossary is not None:
                # a Chinese term the text states in English (视觉编码器 -> "vision encoder")
                for t in self.terms:
                    stems = tuple(s for s in glossary.en_for(t) if len(s) >= _MIN_STEM)
                    if len(t) >= 2 and CJK.search(t) and stems:
                        self._english_of[t] = stems
                    # an English word of a Chinese question the text says in Chinese
                    # ("rerank 阶段…" over 重排)
                    zh = tuple(z for z in glossary.zh_for(t) if len(z) >= 2) if t in plain else ()
                    if zh:
                        self._chinese_of[t] = zh
                # a hyphenated one, which the tokenizer cuts but the coverage decision reads
                # whole ("它和 fine-tuning 有什么区别?" over "Prompt微调")
                for w in dict.fromkeys(_PLAIN_COMPOUND.findall(question)):
                    zh = tuple(z for z in glossary.zh_for(w) if len(z) >= 2)
                    if zh:
                        self._chinese_of.setdefault(w, zh)
            for t in self.terms:  # an acronym the text writes out in Chinese: MTP, 多 token 预测
                self._chinese_of.setdefault(t, tuple(acronym_renderings(t)))

    def found(self, text: str) -> list[str]:
        """The question's terms that ``text`` contains."""
        if not self.terms:
            return []
        if self.english:
            words = [t for t in self.terms if t not in self._acronyms]
            if self.glossary is not None:
                found = self.glossary.found(words, text)
            else:
                low = text.lower()
                found = [t for t in words if t in low]
            found += [a for a in self._acronyms if re.search(_WHOLE.format(a), text, re.I)]
            if self.sounds:
                heard = {t for t in self.terms if any(z in text for z in self.sounds.get(t, ()))}
                found = [t for t in self.terms if t in found or t in heard]
            return found
        have = set(self._terms(text))
        low = text.lower()
        stated = self._stated_in_english(text)
        return [
            t
            for t in self.terms
            if t in have or t in low or t in stated or self.rendered_in(t, text)
        ]

    def rendered_in(self, word: str, text: str) -> bool:
        """An English word a Chinese question writes in lowercase that ``text`` says in
        Chinese ("rerank" as 重排), or an acronym it writes out (MTP as 多 token 预测); other
        names (DDIM, Mamba) are not rendered."""
        spaced = text.replace(" ", "")
        return any(z in text or z in spaced for z in self._chinese_of.get(word, ()))

    def names_unheard(self, text: str) -> list[str]:
        """The names an English question writes in pinyin (found among the index's terms by
        their sound) that ``text`` never mentions, with the terms they read as. A sound that
        reads as a dictionary word too ("Fahui" as 发挥, of 王法慧, whose name jieba cut) is no
        evidence of a name and does not count.

        >>> from rag.text.tokenize_zh import BM25Tokenizer
        >>> q = QuestionTerms("Which schools did Tsai Min attend?", BM25Tokenizer(),
        ...                   sounds={"tsai": ["蔡敏"], "min": ["蔡敏"]})
        >>> q.names_unheard("符泳中学就读于喇沙书院"), q.names_unheard("蔡敏曾就学于台北市")
        (['Tsai Min (蔡敏)'], [])
        """
        names: dict[tuple[str, ...], list[str]] = {}
        for word, terms in self.sounds.items():
            names.setdefault(terms, []).append(word)
        return [
            f"{' '.join(w.capitalize() for w in words)} ({'/'.join(terms)})"
            for terms, words in names.items()
            if terms
            and not any(t in text for t in terms)
            and not (self.glossary is not None and any(self.glossary.en_for(t) for t in terms))
        ]

    def _stated_in_english(self, text: str) -> set[str]:
        """The Chinese terms whose English rendering ``text`` uses (a stem, or its start)."""
        if not self._english_of or not _LATIN.search(text):
            return set()
        words = set(english_terms(text))
        return {
            t
            for t, stems in self._english_of.items()
            if any(w.startswith(s) for s in stems for w in words)
        }

    def share(self, text: str) -> float:
        """The share of the question's terms that ``text`` contains (0 without terms)."""
        return self.share_of(self.found(text))

    def share_of(self, found: Collection[str]) -> float:
        """The share of the question's terms that ``found`` (from :meth:`found`) makes up."""
        return len(found) / len(self.terms) if self.terms else 0.0
