"""Where a judged clause's support is settled: after every clause has its verdict, two rules
look at the answer as a whole (used by :func:`rag.answer.claims.check.check_answer`).

- An uncited clause that only restates the question cites what the rest of its sentence rests on
  (:func:`restatements_cite_their_sentence`).
- What a clause says of a name the question gave must rest on a passage naming it
  (:func:`given_names_in_support`).
"""

from __future__ import annotations

import unicodedata
from typing import Protocol

from rag.answer.claims.clauses import Parsed
from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.names import name_mentioned, question_names
from rag.answer.claims.remnants import pronoun_led
from rag.answer.claims.result import Clause
from rag.answer.claims.words import NORM_DROP

__all__ = ["given_names_in_support", "restatements_cite_their_sentence"]


class Judge(Protocol):
    """What these rules need of the check's judge (:class:`rag.answer.claims.check._Judge`)."""

    lex: Lexicon
    options: dict[int, dict[int, float]]  # clause -> the passages that support it, with p
    passing: dict[int, dict[int, float]]  # the same for every clause some passage supports

    def evidence_in(self, ci: int, clause: Clause, passage: int) -> None: ...


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
    Flow) and showed the user YOLO's "直接在输出层回归…" as the core idea of Rectified Flow.
    """
    lex = judge.lex
    names = [
        (name, norm)
        for name, norm in question_names(question)
        if name_mentioned(norm, lex.all_norm, lex.all_low)
    ]
    # the names of the latest clause that said one, when this step removed it for them
    unsupported_subject: list[tuple[str, str]] = []
    orphaned = False  # the latest subject is a name no passage has (the name rule removed it)
    for ci, clause in enumerate(clauses):
        low = unicodedata.normalize("NFKC", clause.text).lower()
        said = [(n, norm) for n, norm in names if name_mentioned(norm, NORM_DROP.sub("", low), low)]
        inherited = False
        opens = ci == 0 or clauses[ci - 1].sentence != clause.sentence
        # "It replaces…" speaks of the subject before it; so does a Chinese clause that goes on
        # with its sentence without a name of its own ("…是利用整张图作为输入,直接在输出层回归…")
        pointer = pronoun_led(clause.text) if clause.lang == "en" else not opens
        if said or (opens and not pointer):  # a new subject
            unsupported_subject = []
            orphaned = not clause.supported and clause.reason.endswith("not in the passages")
            orphaned = orphaned and clause.rule == "name"
        elif unsupported_subject and pointer:
            said, inherited = unsupported_subject, True  # "It replaces…": "it" is that name
        if orphaned and pointer and clause.supported:  # "It normalizes…" after "BatchNorm…"
            clause.status, clause.support = "unsupported", []
            clause.reason = "it depended on a removed clause"
            continue
        if not names or not clause.supported or not clause.support:
            continue

        def lacks(p: int, said: list[tuple[str, str]] = said) -> list[str]:
            c = lex.pass_cands[p]
            return [
                n
                for n, norm in said
                if not name_mentioned(norm, c.norm, c.low) and not lex.name_rendered(n, c)
            ]

        if not said or any(not lacks(x - 1) for x in clause.support):
            continue
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
