"""Where a judged clause's support is settled: after every clause has its verdict, these rules
look at the answer as a whole (used by :func:`rag.answer.claims.check.check_answer`).

- A clause that only restates the question cites the passage that says its own words
  (:func:`cite_restatement`).
- An uncited clause that only restates the question cites what the rest of its sentence rests on
  (:func:`restatements_cite_their_sentence`).
- What a clause says of a name the question gave must rest on a passage naming it
  (:func:`given_names_in_support`).
- A clause the check found support for on its own words alone rests on a passage that has more
  of the question's words it repeats, when one supports it on all its words
  (:func:`anchored_support`).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from rag.answer.claims.clauses import Parsed
from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import is_strong_name, name_in, name_mentioned, question_names
from rag.answer.claims.remnants import IT_LED, pronoun_led, strip_lead
from rag.answer.claims.result import Clause
from rag.answer.claims.units import Candidate, ClauseInfo
from rag.answer.claims.words import NORM_DROP
from rag.text.glossary import acronym_renderings, acronyms_in

__all__ = [
    "anchored_support",
    "cite_restatement",
    "cite_restatements",
    "figures_about_the_question",
    "given_names_in_support",
    "given_words",
    "negated_yes",
    "quote_holds",
    "restatements_cite_their_sentence",
]


class Judge(Protocol):
    """What these rules need of the check's judge (:class:`rag.answer.claims.check._Judge`)."""

    lex: Lexicon
    options: dict[int, dict[int, float]]  # clause -> the passages that support it, with p
    passing: dict[int, dict[int, float]]  # the same for every clause some passage supports

    def evidence_in(self, ci: int, clause: Clause, passage: int) -> None: ...

    def clause(self, ci: int, clause: Clause, info: ClauseInfo, explain: bool = True) -> None: ...


# a bare yes/no stands on a passage that holds at least half of its question's words (weighted)
_BARE_MISSING = 0.5


def cite_restatements(
    judge: Judge,
    clauses: Sequence[Clause],
    full: Sequence[ClauseInfo],
    restated: Sequence[int],
    bare: Sequence[int],
    first_row: int,
) -> dict[int, Clause]:
    """:func:`cite_restatement` for every restated clause (the judge's rows from
    ``first_row``; ``bare``: the bare yes/no); the bare yeses their passage negates, by clause."""
    negated = {}
    for j, i in enumerate(restated):
        again = cite_restatement(judge, first_row + j, clauses[i], full[i], closest=i in bare)
        if again is not None:
            negated[i] = again
    return negated


def cite_restatement(
    judge: Judge, row: int, clause: Clause, own: ClauseInfo, closest: bool = False
) -> Clause | None:
    """Cite the passage that says what a clause restates from the question.

    A clause whose every word the question already has ("DPO 不需要单独训练奖励模型 [2]" after
    "DPO 为什么不需要单独训练奖励模型?") claims nothing, so any passage "supports" it and a wrong
    number would stand. Judged again on its own words (``row`` of the judge), it gets the
    passage that says it; it stays (a restatement is not an invented claim) with its number when
    none does. A bare yes/no (``closest``, judged on the question's words) cites the passage
    closest to the question even when none states the question's words outright (its paraphrase
    may: "不需要知道目标函数的表达式" for "必须事先掌握目标函数的具体形式吗?"), but only when that
    passage holds at least half of the question's words (weighted): "DDIM 需要重新训练模型吗?"
    answered "不是 [2]。" from a passage that names DDIM and 模型 but never retraining is no
    answer. So does a clause the model cited nothing for: judged
    on what it adds (nothing), every passage "supported" it and the first judgment's pick was
    arbitrary (an anchor-box restatement cited the reranking article).

    Returns:
        For a bare yes whose question the passage that speaks to it negates, that judgement
        (the clause is left as it was: see :func:`negated_yes`); otherwise None.
    """
    if not clause.supported:
        return None
    yes = closest and not own.denied
    again = _judged_again(judge, row, clause, own, explain=yes)
    if not again.supported:
        if yes and again.rule == "negation":
            return again
        if closest and again.features.get("miss_share", 0.0) > _BARE_MISSING:
            clause.status, clause.support, clause.rule = "unsupported", [], again.rule
            clause.reason = "no passage speaks to the question"
            return None
        if not ((closest or not clause.cited) and again.evidence_passage):
            return None
        again.support = [again.evidence_passage]
    clause.support = again.support
    clause.evidence_passage = again.evidence_passage
    clause.evidence_start, clause.evidence_end = again.evidence_start, again.evidence_end
    clause.evidence = again.evidence
    return None


def _judged_again(
    judge: Judge, row: int, clause: Clause, own: ClauseInfo, explain: bool = False
) -> Clause:
    """A copy of ``clause`` judged on ``own`` (the judge's ``row``); the clause is untouched.
    (``explain``: unsupported, it carries the rule that rejects the sentence with most of its
    words.)"""
    again = copy.copy(clause)
    again.features = dict(clause.features)
    judge.clause(row, again, own, explain=explain)
    return again


def negated_yes(clause: Clause, again: Clause) -> None:
    """A bare "是 [1]。" whose question the passage that speaks to it negates ("随机逼近需要知道
    目标函数的表达式吗?" over "…不需要知道目标函数…的表达式": ``again``, from
    :func:`cite_restatement`) is no answer any passage supports: the rule is ``without``, so the
    chain shows that sentence instead. (After the rules of :mod:`.rejected`, which say more when
    the subject is a name; a clause they removed is left to them.)"""
    if not clause.supported:
        return
    clause.status, clause.support, clause.rule = "unsupported", [], "without"
    clause.reason = f"a yes, where [{again.evidence_passage}] says not"
    clause.evidence_passage = again.evidence_passage
    clause.evidence_start, clause.evidence_end = again.evidence_start, again.evidence_end
    clause.evidence, clause.score = again.evidence, again.score


def _held(lex: Lexicon, own: ClauseInfo, words: list[str], p: int) -> int:
    """How many of ``words`` (unit keys and names of ``own``) passage ``p`` has."""
    pc = lex.pass_cands[p]
    units = sum(lex.unit_score(u, pc) >= 0.5 for u in own.units if u.key in words)
    return units + sum(name_mentioned(n, pc.norm, pc.low) for _, n in own.names if n in words)


def _names_subject(lex: Lexicon, names: Sequence[str], p: int) -> bool:
    """Passage ``p`` mentions one of the question's strong ``names`` (normalised)."""
    pc = lex.pass_cands[p]
    return any(name_mentioned(n, pc.norm, pc.low) for n in names)


def given_words(given: ClauseInfo, own: ClauseInfo) -> list[str]:
    """The unit keys and names of a clause (``own``) that its question gave (not in ``given``)."""
    kept = {u.key for u in given.units} | {n for _, n in given.names}
    return [u.key for u in own.units if u.key not in kept] + [
        n for _, n in own.names if n and n not in kept
    ]


def anchored_support(
    judge: Judge,
    clauses: Sequence[Clause],
    infos: Sequence[ClauseInfo],
    full: Sequence[ClauseInfo],
    anchored: Sequence[int],
    first_row: int,
    question: str = "",
) -> None:
    """A clause whose support the check chose on the words it adds to the question rests on a
    passage that lacks question words it repeats: judged on all its words, it cites a passage
    that has more of them, when one supports it. "…because it is a classic example of a
    binomial distribution" (to "Why does the random walk problem relate to the binomial
    distribution?") was judged on "classic" alone and cited the differentiable-metrics article
    (经典); "someone proposed using deterministic policies" (to "Why does DDPG use a
    deterministic policy…") rested on a passage without 确定性策略.

    A clause (cited by the model or not) resting on a passage that has *none* of the question
    words it repeats, when another passage has one, is unsupported where no such passage
    supports it: what it says of the question's subject does not come from a passage that never
    speaks of it. "It is a way to make functions available for use in TensorFlow's API" (to
    "What does the @tf_export decorator do for a function?") rested on the FeatureColumn
    passage; "Yang Hao currently plays for Beijing国安队" cited a sentence on his youth team.
    A passage naming the question's subject (an acronym, CamelCase or a name with digits) does
    speak of it: "It solves the problem of detecting objects of different scales…" (to "What
    does SPP stand for and what problem does it solve?") rests on the SPP passage, though the
    random-walk passage has 问题 ("problem").

    Args:
        judge: The check's judge.
        clauses: Every clause of the answer, as judged.
        infos: What each clause adds to the question.
        full: Each clause on all its words.
        anchored: The clauses to look at (those that repeat some of the question's words).
        first_row: The judge's row of the first of them on all its words (the others follow).
        question: The question (its strong names).
    """
    lex = judge.lex
    subject = [n for s, n in question_names(question) if is_strong_name(s)]
    for j, ci in enumerate(anchored):
        row, given, own = first_row + j, infos[ci], full[ci]
        clause = clauses[ci]
        words = given_words(given, own)
        if not clause.supported or not words:
            continue
        now = max(_held(lex, own, words, s - 1) for s in clause.support)
        if now == len(words):
            continue
        if ci in judge.options:  # the check chose its support: another passage may hold more
            again = _judged_again(judge, row, clause, own)
            passing = judge.passing.get(row, {})
            held = {p: _held(lex, own, words, p) for p in passing}
            better = {p: v for p, v in passing.items() if held[p] > now}
            if again.supported and better:
                best = max(better, key=lambda p: (held[p], better[p]))
                clause.support = [best + 1]
                judge.options[ci] = better
                judge.evidence_in(ci, clause, best)
                continue
        if now == 0 and any(_held(lex, own, words, p) for p in range(len(lex.pass_cands))):
            if any(_names_subject(lex, subject, s - 1) for s in clause.support):
                continue
            # what it says of the question's subject, from a passage that never speaks of it
            marks = "".join(f"[{x}]" for x in clause.support)
            shown = next((u.surface for u in own.units if u.key in words), words[0])
            clause.status, clause.support = "unsupported", []
            clause.reason = f"'{shown}' not in {marks}, the passage it rests on"


def restatements_cite_their_sentence(judge: Judge, parsed: Parsed, restated: list[int]) -> None:
    """An uncited clause that only restates the question cites what the rest of its sentence
    rests on: "It allows inputs of any size [4] because it divides the feature maps into m×m
    bins [1]" (to "Why does SPP allow inputs of any size?") cited YOLO's "整张图作为网络的输入",
    the passage closest to its own words, for a sentence the SPP passage says. A cited one keeps
    its own number when the rest of its sentence rests on that passage: "It doesn't need a
    reward model because DPO discovers a mathematical shortcut… [1]" had moved to [5], a
    reinforcement-learning passage that mentions reward models."""
    clauses = parsed.clauses
    for i in restated:
        clause = clauses[i]
        if not clause.supported:
            continue
        mates = [
            clauses[j]
            for j in parsed.sentences[clause.sentence].clauses
            if j != i and j not in restated and clauses[j].supported
        ]
        common = set.intersection(*(set(m.support) for m in mates)) if mates else set()
        if clause.cited:  # its own number, where the rest of its sentence rests on it too
            common &= set(clause.cited)
        if common and not common.intersection(clause.support):
            clause.support = [min(common)]
            judge.evidence_in(i, clause, clause.support[0] - 1)


def given_names_in_support(judge: Judge, clauses: list[Clause], question: str) -> None:
    """A name of the question that a clause repeats must be in a passage the clause rests on.

    The question's names are not the clause's claims (:func:`given_by_question`), but what the
    clause says about one must come from a passage that speaks of it: after "How does Mamba's
    selective scan work?", "Mamba's selective scan works by dividing the image into m×m bins
    [1]" rested on the SPP passage, while only another passage names Mamba. A name no passage
    has is left to the other rules (it may be written another way: 蒙特卡洛 for Monte Carlo).
    Where another passage that supports the clause names it, the clause cites that one ("FM 可以
    给出合理的估计 [2]" to "FM … 还能给出合理的估计吗?" cited a passage on feature engineering).
    A name the passage writes in Chinese word for word is there (Monte Carlo ~ 蒙特卡洛). An
    English clause led by a pronoun speaks of the name the clause before it said: "It replaces
    the last pooling layer… [1]" after "Mamba's selective scan works by…" (removed: the SPP
    passage does not name Mamba) was kept, telling the user Mamba does what SPP does. So does
    one after a sentence removed for a name no passage has ("It normalizes the activations…"
    after "BatchNorm behaves differently…"). A Chinese clause that goes on with its sentence has
    that sentence's subject: "Rectified Flow 的核心思想是利用整张图作为网络的输入,直接在输出层回归
    bounding box 的位置 [2]" lost its first clause (YOLO's passage [2] does not name Rectified
    Flow) and showed the user YOLO's "直接在输出层回归…" as the core idea of Rectified Flow. An
    English "It"/"Its" clause speaks of a name of the clause before it even when that clause
    stands: "It uses a reward model… [3]" after "No, DDIM doesn't need to retrain the model [1]"
    rested on the DPO passage, which never names DDIM (removed; not moved to another passage).
    So does "because it …", "and it …": "YOLO is bad at detecting small objects [3] because it
    uses a simple strategy of detecting objects of different scales [2]" told SPP's strategy of
    YOLO.
    """
    lex = judge.lex
    names = _names_the_passages_have(lex, question)
    # the names of the latest clause that said one, when this step removed it for them
    unsupported_subject: list[tuple[str, str]] = []
    subject: list[tuple[str, str]] = []  # the names of the latest clause that said one
    orphaned = False  # the latest subject is a name no passage has (the name rule removed it)
    for ci, clause in enumerate(clauses):
        low = unicodedata.normalize("NFKC", clause.text).lower()
        said = [(n, norm) for n, norm in names if name_mentioned(norm, NORM_DROP.sub("", low), low)]
        inherited = it = False
        opens = ci == 0 or clauses[ci - 1].sentence != clause.sentence
        # "It replaces…" speaks of the subject before it; so does a Chinese clause that goes on
        # with its sentence without a name of its own ("…是利用整张图作为输入,直接在输出层回归…")
        pointer = pronoun_led(clause.text) if clause.lang == "en" else not opens
        # "…达到和 DDPM 采样 1000 步相近的效果" names DDPM only as what the subject is compared with
        own = [x for x in said if not (pointer and _compared_with(x[0], clause.text))]
        if own or (opens and not pointer):  # a new subject
            unsupported_subject, subject = [], own
            orphaned = not clause.supported and clause.reason.endswith("not in the passages")
            orphaned = orphaned and clause.rule == "name"
        elif unsupported_subject and pointer:
            said, inherited = unsupported_subject, True  # "It replaces…": "it" is that name
        elif subject and clause.lang == "en" and IT_LED.match(strip_lead(clause.text, True)):
            # "It uses a reward model… [3]" after "No, DDIM doesn't… [2]": no passage naming
            # DDIM is looked for (the rest of the clause may pass anywhere: "to determine" ~ 行列式)
            said, inherited, it = subject, True, True
        if orphaned and pointer and clause.supported:  # "It normalizes…" after "BatchNorm…"
            clause.status, clause.support = "unsupported", []
            clause.reason = "it depended on a removed clause"
            continue
        if not names or not clause.supported or not clause.support:
            continue

        def lacks(p: int, said: list[tuple[str, str]] = said) -> list[str]:
            return _lacking(lex, said, lex.pass_cands[p])

        if not said or any(len(lacks(x - 1)) < (len(said) if it else 1) for x in clause.support):
            continue  # ("it" may be any name its clause said: one of them is enough)
        passing = {**judge.passing.get(ci, {}), **judge.options.get(ci, {})}
        others = {p: v for p, v in passing.items() if not lacks(p)}
        if others and not inherited:
            best = max(others, key=lambda p: others[p])
            clause.support = [best + 1]
            judge.evidence_in(ci, clause, best)
            continue
        marks = "".join(f"[{x}]" for x in clause.support)
        clause.status = "unsupported"
        clause.reason = (
            f"'{lacks(clause.support[0] - 1)[0]}' not in {marks}, the passage it rests on"
        )
        clause.support = []
        if not inherited:
            unsupported_subject = said


def _lacking(lex: Lexicon, said: list[tuple[str, str]], c: Candidate) -> list[str]:
    """The names of ``said`` that passage ``c`` neither mentions nor renders (特征金字塔网络)."""
    return [
        n
        for n, norm in said
        if not name_mentioned(norm, c.norm, c.low)
        and not lex.name_rendered(n, c)
        and not any(z in c.norm for z in acronym_renderings(norm))
    ]


def _names_the_passages_have(lex: Lexicon, question: str) -> list[tuple[str, str]]:
    """(surface, normalised) names of the question that a passage mentions, and the acronyms of
    the terms it spells out ("How does a feature pyramid network combine features?" was answered
    with SPP's m×m bins: FPN is a name too)."""
    names = [
        (name, norm)
        for name, norm in question_names(question)
        if name_mentioned(norm, lex.all_norm, lex.all_low)
    ]
    given = {norm for _, norm in names}
    return names + [
        (a.upper(), a)
        for a in acronyms_in(question)
        if a not in given and name_mentioned(a, lex.all_norm, lex.all_low)
    ]


_COMPARED_WITH = r"(?:和|与|跟|同|比|较|相比|对比|than|with|to)\s*"


def _compared_with(name: str, text: str) -> bool:
    """``name`` appears in ``text`` only after a word of comparison (和, 与, 比, than …).

    >>> _compared_with("DDPM", "最终达到和 DDPM 采样 1000 步相近的效果")
    True
    >>> _compared_with("DDPM", "DDPM 需要 1000 步"), _compared_with("DDIM", "DDPM 比 DDIM 慢")
    (False, True)
    """
    hits = list(re.finditer(re.escape(name), text, re.IGNORECASE))
    return bool(hits) and all(
        re.search(_COMPARED_WITH + "$", text[: m.start()], re.IGNORECASE) for m in hits
    )


def quote_holds(lex: Lexicon, english: str, quote: str) -> tuple[int, int]:
    """How many of the content words and names of ``english`` the ``quote`` has (rendered:
    "perceptron" in 感知器), of how many: the ``held`` of :func:`drop_unrelated_quotes`."""
    info = lex.clause_info(english, True)
    c = lex.candidate_of(quote)
    found = sum(lex.unit_score(u, c) >= 0.5 for u in info.units)
    found += sum(1 for _, n in info.names if n and name_in(n, c.norm))
    return found, len(info.units) + len(info.names)


def figures_about_the_question(
    judge: Judge, clauses: Sequence[Clause], infos: Sequence[ClauseInfo], full: Sequence[ClauseInfo]
) -> None:
    """A clause that adds only a figure to the question must find it in a sentence about the
    question: "搜索引擎的索引一般分为两个部分" (to "…分为哪几个部分?") rested on a recommendation
    article's "…反馈到2,形成一个增强回路", the only 2 the passages had. Its evidence sentence must
    hold one of the question's words the clause repeats (搜索引擎, 索引, 部分 …), else it goes."""
    lex = judge.lex
    for ci, clause in enumerate(clauses):
        given, own = infos[ci], full[ci]
        if not clause.supported or not given.numbers or given.units or given.names:
            continue
        words = given_words(given, own)
        cand = lex.evidence_at(clause.evidence_passage, clause.evidence_start, clause.evidence_end)
        if not words or cand is None:
            continue
        held = sum(lex.unit_score(u, cand) >= 0.5 for u in own.units if u.key in words)
        held += sum(1 for _, n in own.names if n in words and name_in(n, cand.norm))
        if not held:
            clause.status, clause.support = "unsupported", []
            clause.reason = (
                f"'{given.numbers[0].surface}' in [{cand.passage + 1}] is not said of '{words[0]}'"
            )
