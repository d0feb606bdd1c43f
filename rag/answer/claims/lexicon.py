"""The lexicon: a clause's content units and how much of them an evidence candidate covers.

A clause's content units are its jieba terms (a term inside a longer one counts with it) and,
for an English clause, its word stems. A unit is found in a candidate literally, partly (a
Chinese compound: its sub-terms and character bigrams give partial credit), or, for an English
word over Chinese text, through its Chinese renderings: the glossary (CC-CEDICT + ML terms),
``claims_terms.tsv`` beside this module, inflection variants and long shared prefixes.

:class:`Lexicon` holds the passages' evidence candidates (every sentence and every pair of
adjacent sentences; a long sentence read in two pieces with the sentence after it) with caches,
built once per answer.

Example:
    >>> from rag.schema import Passage
    >>> terms = lambda t: [w for w in ("采样", "加速", "模型") if w in t]
    >>> lex = Lexicon([Passage("DDIM 加速采样。", "d", "d", "d.md", "d#0", 1.0)], terms, None,
    ...               lambda t: [(0, len(t))])
    >>> info = lex.clause_info("DDIM 加速了模型的采样")
    >>> [u.key for u in info.units], info.names
    (['采样', '加速', '模型'], [('DDIM', 'ddim')])
    >>> round(lex.coverage(info, lex.cands[0]), 3)  # 模型 (2 of 7.5) is missing
    0.733
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag.answer.claims.absent import ml_terms
from rag.answer.claims.english_units import clause_names, english_prose, english_units
from rag.answer.claims.glosses import without_glossed
from rag.answer.claims.names import name_in
from rag.answer.claims.negation import (
    EN_CMP,
    ZH_CMP,
    en_negations,
    is_negation_word,
    negated_predicate,
    zh_negations,
)
from rag.answer.claims.numbers import (
    Number,
    is_numeral,
    list_length,
    number_found,
    number_keys,
    numbers_in,
)
from rag.answer.claims.units import Candidate, ClauseInfo, Unit
from rag.answer.claims.word_class import word_class
from rag.answer.claims.words import (
    CJK,
    NORM_DROP,
    ZH_STOP,
    ZH_SYNONYMS,
    is_english,
    is_zh_stop,
    prefix_renderings,
    stem,
    stems_of,
    variants,
)
from rag.schema import Passage
from rag.text.glossary import Glossary, english_terms
from rag.text.language import question_language
from rag.text.transliteration import transliterated

__all__ = ["EXTRA_TERMS", "Lexicon", "dev_terms_left_out"]

_TERMS_PATH = Path(__file__).with_name("claims_terms.tsv")


def _load_terms(path: Path = _TERMS_PATH, dev: bool = True) -> dict[str, frozenset[str]]:
    """English stem -> Chinese renderings from ``claims_terms.tsv`` (supplements the glossary).

    Sections marked "(dev)" were written from the dev split's answers: ``dev=False`` leaves
    them out, so that a fit on dev sees features like those of unseen text.
    """
    out: dict[str, set[str]] = {}
    if not path.exists():
        return {}
    skip = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ---"):
            skip = "(dev)" in line and not dev
        if skip or line.startswith("#") or "\t" not in line:
            continue
        en, zh = line.split("\t", 1)
        for form in variants(en.strip().lower()) | {stem(w) for w in en.lower().split()}:
            out.setdefault(form, set()).add(zh.strip())
    return {k: frozenset(v) for k, v in out.items()}


EXTRA_TERMS: dict[str, frozenset[str]] = _load_terms()


@contextmanager
def dev_terms_left_out() -> Iterator[None]:
    """:data:`EXTRA_TERMS` without its "(dev)" sections while the block runs (fitting on dev)."""
    saved = dict(EXTRA_TERMS)
    EXTRA_TERMS.clear()
    EXTRA_TERMS.update(_load_terms(dev=False))
    try:
        yield
    finally:
        EXTRA_TERMS.clear()
        EXTRA_TERMS.update(saved)


_DEGREE = re.compile(r"^(?:比较|相对|非常|十分|相当|很|较)(?=[\u4e00-\u9fff])")
_SCOPE_ENDS = re.compile(r",|，|\(|（|\b(?:and|or|then)\b")  # (nor a parenthesised quote)


class Lexicon:
    """The passages' evidence candidates, and how a clause's units are found in them.

    Args:
        passages: The numbered passages (``[n]`` is ``passages[n-1]``).
        terms: The tokenizer (jieba terms, lowercased Latin words, numbers); cached here.
        glossary: English<->Chinese renderings (None: English words match only literally).
        sentence_spans: Sentence splitter for passages.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        terms: Callable[[str], list[str]],
        glossary: Glossary | None,
        sentence_spans: Callable[[str], list[tuple[int, int]]],
    ) -> None:
        self.passages = passages
        self.terms = terms
        self.glossary = glossary
        self._term_cache: dict[str, list[str]] = {}
        self._render_cache: dict[str, frozenset[str]] = {}
        self._en_extra: dict[str, frozenset[str]] | None = None  # EXTRA_TERMS read backwards
        self.cands: list[Candidate] = []
        self.by_passage: list[list[int]] = []
        for pi, p in enumerate(passages):
            idx: list[int] = []
            spans = sentence_spans(p.text)
            singles = [self._candidate(pi, p.text, s, e) for s, e in spans]
            for k, c in enumerate(singles):
                idx.append(len(self.cands))
                self.cands.append(c)
                if k + 1 < len(singles):
                    nxt = singles[k + 1]
                    idx.append(len(self.cands))
                    self.cands.append(self._merge(p.text, c, nxt))
                # a long sentence cut in two (evidence_spans) and the sentence after it: what a
                # pair of whole sentences would be ("首先…策略(…)," "有效降低了…。" "另外…多 token 预测…")
                if k + 2 < len(singles) and not _ENDS_SENTENCE.search(c.text):
                    idx.append(len(self.cands))
                    self.cands.append(self._merge(p.text, c, singles[k + 2]))
            self.by_passage.append(idx)
        # each passage as one pseudo-candidate: "is this word anywhere in passage p?" (its
        # title included: the prompt shows it, and it often holds the subject's name)
        self.pass_cands: list[Candidate] = []
        for pi, p in enumerate(passages):
            low = unicodedata.normalize("NFKC", f"{p.title}\n{p.text}").lower()
            mine = [self.cands[k] for k in self.by_passage[pi]]
            self.pass_cands.append(
                Candidate(
                    pi,
                    0,
                    len(p.text),
                    p.text,
                    low,
                    NORM_DROP.sub("", low),
                    frozenset(t for c in mine for t in c.terms),
                    frozenset(s for c in mine for s in c.stems),
                    frozenset(n for c in mine for n in c.numbers),
                    [],
                )
            )
        whole = " ".join(f"{p.title}\n{p.text}" for p in passages)
        self.all_low = unicodedata.normalize("NFKC", whole).lower()
        self.all_norm = NORM_DROP.sub("", self.all_low)
        self.all_terms = frozenset(t for c in self.cands for t in c.terms)
        self.all_stems = frozenset(s for c in self.cands for s in c.stems) | stems_of(whole)

    # ---- evidence side
    def tok(self, text: str) -> list[str]:
        """The tokenizer's terms of ``text`` (cached)."""
        got = self._term_cache.get(text)
        if got is None:
            got = self.terms(text)
            self._term_cache[text] = got
        return got

    def _candidate(self, pi: int, ptext: str, s: int, e: int) -> Candidate:
        text = ptext[s:e]
        low = unicodedata.normalize("NFKC", text).lower()
        return Candidate(
            pi,
            s,
            e,
            text,
            low,
            NORM_DROP.sub("", low),
            frozenset(t for t in self.tok(text) if CJK.search(t)),
            stems_of(text),
            number_keys(text) | list_length(ptext, s, e),
            zh_negations(text) if CJK.search(text) else [],
        )

    def _merge(self, ptext: str, a: Candidate, b: Candidate) -> Candidate:
        text = ptext[a.start : b.end]
        low = unicodedata.normalize("NFKC", text).lower()
        return Candidate(
            a.passage,
            a.start,
            b.end,
            text,
            low,
            NORM_DROP.sub("", low),
            a.terms | b.terms,
            a.stems | b.stems,
            a.numbers | b.numbers | number_keys(text),
            zh_negations(text) if CJK.search(text) else [],
        )

    # ---- clause side
    def question_renderings(self, question: str) -> frozenset[str]:
        """The Chinese renderings of an English question's words (empty for a Chinese one)."""
        if not question or question_language(question) == "zh" or self.glossary is None:
            return frozenset()
        by_en = self.glossary.zh_by_en
        return frozenset(z for w in english_terms(question) for z in by_en.get(w, ()))

    def clause_info(self, text: str, english: bool | None = None) -> ClauseInfo:
        """What a clause claims: figures, names, content units, polarity, comparison."""
        text = unicodedata.normalize("NFKC", text)
        if english is None:
            english = is_english(text)
        numbers = numbers_in(text, strict=True)
        # "It was founded by拔都率部…": an English lead-in of a Chinese clause, not a name
        prose = [] if english else english_prose(text)
        names = clause_names(text, english, {m.start() for m in prose})
        units = english_units(text, names) if english else []
        for m in prose:
            units += english_units(m.group(0), names, m.start())
        units += self._chinese_units(text)
        names, units = without_glossed(text, names, units, self.all_low)
        negated = False
        preds: list[str] = []
        scope: list[Unit] = []
        if english:
            for m in en_negations(text):
                negated = True
                after = sorted((u for u in units if u.pos >= m.end()), key=lambda u: u.pos)
                # its word, unless a stop word ("can't show the ad 10,000 times and count clicks")
                # left the first content word beyond a comma or an "and"
                if after and not _SCOPE_ENDS.search(text, m.end(), after[0].pos):
                    scope.append(after[0])
        else:
            for s, e in zh_negations(text):
                negated = True
                preds.append(negated_predicate(text, s, e, self.tok))
        comparative = bool((EN_CMP if english else ZH_CMP).search(text))
        return ClauseInfo(text, english, numbers, names, units, negated, preds, scope, comparative)

    def _chinese_units(self, text: str) -> list[Unit]:
        """The maximal jieba terms of ``text`` (the shorter terms inside each kept with it)."""
        units = []
        cjk_terms = [t for t in dict.fromkeys(self.tok(text)) if CJK.search(t)]
        cjk_terms = [
            t
            for t in cjk_terms
            if not is_zh_stop(t) and not is_numeral(t) and not is_negation_word(t)
        ]
        maximal = [t for t in cjk_terms if not any(t != o and t in o for o in cjk_terms)]
        low = text.lower()
        for t in maximal:
            # a degree adverb jieba joined to its word says nothing itself: 比较慢 is 慢 (缓慢)
            t = _DEGREE.sub("", t) or t
            subs = tuple(o for o in cjk_terms if o != t and o in t)
            pos = max(0, text.find(t))
            left = low[:pos].rstrip()[-1:]
            right = low[pos + len(t) :].lstrip()[:1]
            around = (_word_char(left), _word_char(right))
            units.append(Unit("zh", t, float(min(len(t), 4)), t, subs, pos, around, word_class(t)))
        return units

    # ---- matching
    def unit_score(self, u: Unit, c: Candidate | None) -> float:
        """1 when the unit is in the candidate (``None``: in any passage), partial for compounds."""
        if c is None:
            text, terms, stems = self.all_low, self.all_terms, self.all_stems
        else:
            text, terms, stems = c.low, c.terms, c.stems
        if u.kind == "zh":
            if u.key in terms or u.key in text:
                return 1.0
            if any(s in text for s in ZH_SYNONYMS.get(u.key, ())):
                return 1.0  # "用于提高搜索增长" over "目标提升渗透率"
            if stems:  # English words of the passage (of a mixed one too): the term's English
                parts = [p for p in u.subterms if len(p) >= 2] or [u.key]
                if any(s in stems for s in self.english_of(u.key)) or all(
                    any(s in stems for s in self.english_of(p)) for p in parts
                ):
                    return 1.0
            covered: set[int] = set()
            for st in u.subterms:
                if st in terms or st in text:
                    i = u.key.find(st)
                    covered.update(range(i, i + len(st)))
            for i in range(len(u.key) - 1):
                if u.key[i : i + 2] in text:
                    covered.update((i, i + 1))
            (left, right), norm = u.around, self.all_norm if c is None else c.norm
            pair = len(u.key) == 2 and left and right  # a word jieba cut across: 公式一|从 top
            if pair and left + u.key[0] in norm and u.key[1] + right in norm:
                return 0.9
            # a name's last character and the particle after it: 茨柏克沃斯|基于 2008 年
            if len(u.key) == 2 and left and u.key[1] in ZH_STOP and left + u.key[0] in norm:
                return 0.9
            return len(covered) / len(u.key) * 0.9
        # an English word (its variants)
        forms = u.subterms or (u.key,)
        if any(v in stems for v in forms):
            return 1.0
        if len(u.key) >= 5 and u.key in text:
            return 1.0
        if CJK.search(text):
            for z in self.renderings(u):
                if z in text:
                    return 1.0
            if u.surface[:1].isupper() and transliterated(u.surface, text):
                return 1.0  # a Western name the text writes by its sound: 罗森布拉特
        return 0.0

    def renderings(self, u: Unit) -> frozenset[str]:
        """Chinese renderings of an English unit (glossary plus one-character words)."""
        got = self._render_cache.get(u.key)
        if got is None:
            out: set[str] = set()
            for v in u.subterms or (u.key,):
                if self.glossary is not None:
                    out.update(self.glossary.zh_by_en.get(v, ()))
                out.update(EXTRA_TERMS.get(v, ()))
            if self.glossary is not None:
                for v in u.subterms or (u.key,):
                    if len(v) >= 6:
                        out.update(prefix_renderings(self.glossary, v))
            got = frozenset(out)
            self._render_cache[u.key] = got
        return got

    def english_of(self, zh: str) -> frozenset[str]:
        """English stems a Chinese term renders: the glossary and :data:`EXTRA_TERMS` read
        backwards ("最大" -> maximum, so "SPP 用的是最大池化" stands on "Then a maximum pool")."""
        if self._en_extra is None:
            table: dict[str, set[str]] = {}
            for en, zhs in EXTRA_TERMS.items():
                for z in zhs:
                    table.setdefault(z, set()).add(stem(en))
            self._en_extra = {z: frozenset(v) for z, v in table.items()}
        glossed = self.glossary.en_for(zh) if self.glossary is not None else frozenset()
        return glossed | self._en_extra.get(zh, frozenset())

    def word_renderings(self, word: str) -> frozenset[str]:
        """Chinese renderings of an English word (as :meth:`renderings` gives a unit's)."""
        lw = word.lower()
        return self.renderings(Unit("en", stem(lw), 1.0, word, tuple(sorted(variants(lw)))))

    def word_found(self, word: str, where: Candidate | None = None) -> bool:
        """An English word in some passage (or in ``where``), itself or through one of its
        renderings."""
        lw = word.lower()
        return (
            self.unit_score(Unit("en", stem(lw), 1.0, word, tuple(sorted(variants(lw)))), where)
            >= 0.5
        )

    def name_sounded(self, name: str, where: Candidate | None = None) -> bool:
        """A name in Latin letters (capitalised words) that the passages (or ``where``) write
        word by word by its sound: "Walter Pitts" ~ 沃尔特·皮茨 (:mod:`rag.text.transliteration`)."""
        low = self.all_low if where is None else where.low
        words = [w for w in re.split(r"[\s\-]+", name) if w]
        return (
            bool(words)
            and bool(CJK.search(low))
            and all(w[:1].isupper() and transliterated(w, low) for w in words)
        )

    def name_rendered(self, name: str, where: Candidate | None = None) -> bool:
        """A name written in Latin letters whose every word has a rendering in the passages (or
        in ``where``: ``US Navy`` ~ ``美国海军``, ``Multi-Token Prediction`` ~ ``多 token 预测``);
        acronyms and words with digits must be written as they are (``TensorFlow Platform`` ~
        ``Tensorflow平台``)."""
        words = [w for w in re.split(r"[\s\-]+", name) if w]
        low = self.all_low if where is None else where.low
        if not CJK.search(low):
            return False
        for w in words:
            lw = w.lower()
            if re.search(r"\d", w) or (
                sum(ch.isupper() for ch in w) >= 2 and lw not in EXTRA_TERMS
            ):
                # written as it is, in a name of several words ("TensorFlow Platform")
                if len(words) < 2 or not re.search(
                    rf"(?<![a-z0-9]){re.escape(lw)}(?![a-z0-9])", low
                ):
                    return False
            elif not self.word_found(w, where):
                return False
        return True

    def evidence_at(self, passage: int, start: int, end: int) -> Candidate | None:
        """The evidence candidate of ``[passage]`` (1-based, as a clause's evidence passage)
        spanning ``start:end``, or None."""
        if not 1 <= passage <= len(self.by_passage):
            return None
        ks = self.by_passage[passage - 1]
        return next(
            (self.cands[k] for k in ks if (self.cands[k].start, self.cands[k].end) == (start, end)),
            None,
        )

    def candidate_of(self, text: str) -> Candidate:
        """A text of the answer's (a quote) read like an evidence sentence."""
        return self._candidate(-1, text, 0, len(text))

    def prose_missing(self, info: ClauseInfo) -> list[str]:
        """The English words around what a clause copied that no passage has (rendered), checked
        like names (``info``: the words the question did not give): around a Chinese clause
        ("It was founded by拔都…"), or the ML terms of an English one that quotes the passage
        ('It is a regression problem ("分类问题的正确率和F1…")': no passage says 'regression')."""
        prose = [u for u in info.units if u.kind == "en"]
        if info.english:
            if not _CJK_QUOTE.search(info.text):
                return []
            # only its ML terms: a paraphrase's verbs ("pioneered" for 首创) have no rendering
            terms = ml_terms().words
            prose = [u for u in prose if u.surface.lower() in terms or u.key.lower() in terms]
        return [u.surface for u in prose if self.unit_score(u, None) < 0.5]

    def coverage(self, info: ClauseInfo, c: Candidate | None) -> float:
        total = sum(u.weight for u in info.units) + 1.5 * len(info.names)
        if total == 0:
            return 1.0
        got = sum(u.weight * self.unit_score(u, c) for u in info.units)
        norm = self.all_norm if c is None else c.norm
        got += 1.5 * sum(
            1 for m, n in info.names if n and (name_in(n, norm) or self.name_sounded(m, c))
        )
        return got / total

    def numbers_missing(self, info: ClauseInfo, c: Candidate) -> list[Number]:
        return [n for n in info.numbers if not number_found(n, c.numbers)]


_ENDS_SENTENCE = re.compile(r"[。！？!?.;；]\s*[”」』\"')）]*\s*$")
_CJK_QUOTE = re.compile(r"[\"“「][^\"”」]*[\u3400-\u9fff][^\"”」]*[\"”」]")


def _word_char(ch: str) -> str:
    """``ch`` if it is a character a normalised text keeps (a letter, digit or CJK), else ""."""
    return ch if ch and not NORM_DROP.match(ch) else ""
