"""Terms the question names that no passage mentions: what an answer says about them is a claim.

An answer may restate its question, so the checker treats the question's words as given
(:func:`~rag.answer.claims.given.given_by_question`). That exemption must not cover a technical
term the passages never mention: "Speculative decoding is used in DeepSeek-V3's MTP [1]", after
"What does speculative decoding have to do with DeepSeek-V3's MTP?", relates two things the
question named, and the passages say nothing about the first. Only terms of the packaged ML
term list count (several English words, or a Chinese term of three characters or more), so
that their absence is known rather than a gap of the renderings of a general word: an
English term is absent when none of its words (非Deep时代 may say "deep learning"), none of
its Chinese renderings and none of its words' renderings occur; a Chinese term of three characters when neither it nor its
first two characters occur (感受野 is in 感受的视野, 冷启动 is not in 启动), a four-character one when
less than half of it is covered by its two-character words (总参数量 is present in 总参数), a
longer one when no piece of three characters occurs (点击率预估 is not in 点击 … 预估).

Example:
    >>> terms = MlTerms.from_lines(["speculative decoding\\t投机解码", "感受野\\t感受野"])
    >>> terms.absent("What does speculative decoding have to do with MTP?", "mtp 是…")
    ['speculative decoding']
    >>> terms.absent("What does speculative decoding do?", "投机解码是…")
    []
    >>> terms.absent("What does speculative decoding do?", "非decoding 时代")
    []
    >>> terms.absent("感受野多大?", "感受的视野"), terms.absent("感受野多大?", "卷积核")
    ([], ['感受野'])
    >>> MlTerms.from_lines(["cold start\\t冷启动"]).absent("为什么需要冷启动数据?", "启动训练")
    ['冷启动']
    >>> MlTerms.from_lines(["pooling layer\\t池化层"]).absent("池化层在哪?", "the pooling layer")
    []
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rag.answer.claims.words import ZH_SYNONYMS
from rag.text.glossary import ML_TERMS, ml_term_pairs

__all__ = ["MlTerms", "ml_terms"]

_MIN_ZH = 3  # Chinese terms this long or longer (two-character words are too general)
# what a clause sets aside right before a term ("instead of multiple threads", "而不是多线程")
_SET_ASIDE = re.compile(r"(?:\b(?:instead of|rather than|not|without)|而不是|而非|不是|不用)\s*$")


@dataclass
class MlTerms:
    """English terms of several words and long Chinese terms, each with its renderings."""

    english: dict[str, frozenset[str]] = field(default_factory=dict)  # "receptive field" -> zh
    chinese: frozenset[str] = frozenset()
    # 卷积层 -> "convolutional layer": a Chinese question may be about an English article
    chinese_en: dict[str, frozenset[str]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()  # the one-word English terms: "regression", "dropout"
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> MlTerms:
        """Parse ``english<TAB>chinese`` lines (``#`` starts a comment)."""
        english: dict[str, set[str]] = defaultdict(set)
        chinese_en: dict[str, set[str]] = defaultdict(set)
        words: set[str] = set()
        for en, zh in ml_term_pairs(lines):
            en = " ".join(en.lower().split())
            if re.fullmatch(r"[a-z]{3,}", en):
                words.add(en)
            if len(en.split()) >= 2 and re.fullmatch(r"[a-z0-9 \-]+", en):
                english[en].add(zh)
            if len(zh) >= _MIN_ZH and re.fullmatch(r"[\u4e00-\u9fff]+", zh):
                chinese_en[zh].add(en)
        return cls(
            {k: frozenset(v) for k, v in english.items()},
            frozenset(chinese_en),
            {k: frozenset(v) for k, v in chinese_en.items()},
            frozenset(words),
        )

    def _terms_in(self, question: str) -> tuple[list[str], list[str]]:
        if self._pattern is None:
            names = sorted(self.english, key=len, reverse=True)
            self._pattern = re.compile(
                r"\b(" + "|".join(re.escape(n) for n in names) + r")(?:s|es)?\b"
                if names
                else r"(?!x)x"
            )
        low = " ".join(question.lower().split())
        english = [m.group(1) for m in self._pattern.finditer(low)]
        chinese = sorted(
            (z for z in self.chinese if z in question), key=lambda z: (question.find(z), z)
        )
        return english, chinese

    def unmentioned(
        self, clause: str, passages_low: str, word_found: Callable[[str], bool]
    ) -> list[str]:
        """The ML terms an answer's clause names that the passages never mention: an English
        term not as itself, not by a Chinese rendering and not word by word (some word of it has
        no rendering there): "…the position follows a normal distribution" over an article that
        never speaks of one, while "sampling steps" is in "仅采样 20~100 步" (采样, 步); a Chinese
        term as the question's are judged (梯度消失 over an article without it).

        Example:
            >>> terms = MlTerms.from_lines(["normal distribution\\t正态分布"])
            >>> terms.unmentioned("it follows a normal distribution", "二项分布", lambda w: False)
            ['normal distribution']
            >>> terms.unmentioned("a normal distribution", "正态分布", lambda w: False)
            []
        """
        english, chinese = self._terms_in(clause)
        return [
            t
            for t in dict.fromkeys(english)
            if not any(z in passages_low for z in self.english[t])
            and not re.search(rf"(?<![a-z]){re.escape(t)}", passages_low)
            and not all(word_found(w) for w in t.split())
        ] + self._chinese_absent(chinese, passages_low)

    def absent(
        self,
        question: str,
        passages_low: str,
        word_found: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """The question's ML terms (lowercase English, Chinese) that the passages
        (``passages_low``: their text, lowercased) do not mention in any form.

        ``word_found`` tells whether an English word of a term is in the passages through a
        rendering of its own ("sampling steps" is in "仅采样 20~100 步" by 采样 and 步).
        """
        english, chinese = self._terms_in(question)
        out = [
            t
            for t in dict.fromkeys(english)
            if not any(z in passages_low for z in self.english[t])
            and not any(re.search(rf"(?<![a-z]){re.escape(w)}", passages_low) for w in t.split())
            and not (word_found is not None and any(word_found(w) for w in t.split()))
        ]
        return out + self._chinese_absent(chinese, passages_low)

    def _chinese_absent(self, chinese: list[str], passages_low: str) -> list[str]:
        """The Chinese terms the passages mention neither as such (or a variant: see
        :func:`_present`), nor by a synonym (大模型 as 大型语言模型) nor by an English rendering
        ("convolutional layer" for 卷积层)."""
        return [
            z
            for z in chinese
            if not _present(z, passages_low)
            and not any(s in passages_low for s in ZH_SYNONYMS.get(z, ()))
            and not any(
                re.search(rf"(?<![a-z]){re.escape(en)}", passages_low)
                for en in self.chinese_en.get(z, ())
            )
        ]

    def named_in(self, clause: str, terms: Sequence[str]) -> list[str]:
        """Which of ``terms`` (from :meth:`absent`) the clause names (English plurals too), but
        only as what it sets aside: "Because DDP uses multiple processes instead of multiple
        threads" repeats the question's contrast and claims no threads of the passages.

        Example:
            >>> terms = MlTerms.from_lines(["multiple threads\t多线程"])
            >>> terms.named_in("DDP uses multiple threads", ["multiple threads"])
            ['multiple threads']
            >>> terms.named_in("processes instead of multiple threads", ["multiple threads"])
            []
        """
        low = " ".join(clause.lower().split())
        named = []
        for t in terms:
            pattern = re.escape(t) if not t.isascii() else rf"\b{re.escape(t)}(?:s|es)?\b"
            hits = list(re.finditer(pattern, low))
            if hits and not all(_SET_ASIDE.search(low[: m.start()]) for m in hits):
                named.append(t)
        return named


def _present(term: str, text: str) -> bool:
    """A Chinese term in ``text``, or a variant of it: a three-character term by its first two
    characters (感受野 in "感受的视野"; 冷启动 is not in a text that only says 启动: the model
    answered "DeepSeek-R1 需要冷启动数据是因为…" from passages that never speak of a cold start),
    a four-character one when half of it is covered by its two-character words (:func:`_covered`:
    总参数量 by 总参数, 动作空间 by "动作的空间"), a longer one by a piece of three characters or
    more (点击率预估 is not in a text with 点击 in one sentence and 预估 in another, nor 随机迭代算法
    where 随机, 迭代 and 算法 are three words of other sentences).

    >>> _present("总参数量", "总参数 671b"), _present("点击率预估", "用户点击的文档;ctr 预估")
    (True, False)
    """
    if term in text:
        return True
    if len(term) == 3:
        return term[:2] in text
    if len(term) == 4:
        return _covered(term, text) >= 0.5
    return any(term[i : i + 3] in text for i in range(len(term) - 2))


def _covered(term: str, text: str) -> float:
    """Share of the term's characters inside one of its two-character words that ``text`` has
    (总参数量 is covered by a passage's 总参数: a variant, not an absence)."""
    hit: set[int] = set()
    for i in range(len(term) - 1):
        if term[i : i + 2] in text:
            hit.update((i, i + 1))
    return len(hit) / len(term)


_LOADED: MlTerms | None = None


def ml_terms() -> MlTerms:
    """The packaged ML term list, parsed once."""
    global _LOADED
    if _LOADED is None:
        _LOADED = MlTerms.from_lines(ML_TERMS.read_text(encoding="utf-8").splitlines())
    return _LOADED
