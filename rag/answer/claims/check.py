"""The check: every clause of an answer against the passages, as a pipeline of small steps.

0. :func:`~rag.answer.claims.glosses.drop_invented_glosses`: a quoted gloss ``("…")`` the
   passages do not have is removed (named in the notice), and so is a quoted passage sentence
   that says nothing of its clause (:func:`~rag.answer.claims.glosses.drop_unrelated_quotes`);
1. :func:`~rag.answer.claims.clauses.parse_answer`: sentences, clauses, their citations;
2. :func:`_shortlist`: the evidence candidates of each passage ranked by lexical coverage, the
   best ``candidates_per_passage`` kept per clause;
3. :func:`_similarities`: ONE batched e5 call for every clause and shortlisted candidate;
4. :func:`_judge`: the rules (numbers, names, negation, comparison) and the calibrated model
   decide each clause; its citations are repaired to the passages that support it;
5. :func:`~rag.answer.claims.compose.compose`: the answer rebuilt from what is supported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from rag.answer.claims.absent import ml_terms
from rag.answer.claims.bound_figures import figures_of_their_statement
from rag.answer.claims.clauses import NO_ANSWER, Parsed, is_abstention, parse_answer
from rag.answer.claims.cohere import cohere
from rag.answer.claims.compose import compose, notice
from rag.answer.claims.given import fills_asked_figure, given_by_question, restates_question
from rag.answer.claims.glosses import (
    Gloss,
    attach_stray_quotes,
    close_open_quote,
    drop_invented_glosses,
    drop_unrelated_quotes,
    trim_long_quotes,
)
from rag.answer.claims.judged import filed_elsewhere
from rag.answer.claims.lexicon import Lexicon
from rag.answer.claims.listed import item_swapped
from rag.answer.claims.model import ClaimModel, default_model, features, model_reason
from rag.answer.claims.names import name_mentioned
from rag.answer.claims.negation import (
    asserted_but_negated,
    comparative_unsaid,
    comparison_unmade,
    neg_mismatch,
    negated_scope_asserted,
)
from rag.answer.claims.opposites import degree_said
from rag.answer.claims.polar import bare_yes_no, is_denial, is_polar, polar_answers
from rag.answer.claims.quote_negates import quote_says_not
from rag.answer.claims.rejected import rejections
from rag.answer.claims.remnants import strip_lead
from rag.answer.claims.result import CheckedAnswer, Clause
from rag.answer.claims.rules import names_lacking, rule_against
from rag.answer.claims.shown import show_sentences_that_say
from rag.answer.claims.support import (
    anchored_support,
    cite_restatements,
    figures_about_the_question,
    given_names_in_support,
    given_words,
    quote_holds,
    restatements_cite_their_sentence,
)
from rag.answer.claims.units import Candidate, ClauseInfo, Unit
from rag.answer.claims.words import CJK, EN_WORD, NORM_DROP
from rag.schema import Passage
from rag.text.glossary import Glossary
from rag.text.placeholders import restore_placeholders
from rag.text.sentences import evidence_spans

__all__ = ["check_answer"]

Similarity = Callable[[list[str], list[str]], np.ndarray]
# (probability, candidate index, features, reason, rule) of a clause's best candidate
_Best = tuple[float, int, dict[str, float], str, str]
# per passage: units missing from it, their share, names missing from it, (veto reason, rule)
_PassageContext = tuple[list[Unit], float, list[str], tuple[str, str]]
# how far below the best passage's probability a clause's own citation may be and still stand
_CITED_MARGIN = 0.1


def check_answer(
    answer: str,
    passages: Sequence[Passage],
    *,
    question: str = "",
    lang: str = "zh",
    terms: Callable[[str], list[str]],
    glossary: Glossary | None = None,
    similarity: Similarity | None = None,
    model: ClaimModel | None = None,
    sentence_spans: Callable[[str], list[tuple[int, int]]] | None = None,
    candidates_per_passage: int = 2,
) -> CheckedAnswer:
    """Verify every clause of ``answer`` against ``passages`` (``[n]`` is ``passages[n-1]``).

    Args:
        answer: The LLM's answer with ``[n]`` citations.
        passages: The numbered passages of the prompt.
        question: The user's question: words and names an answer repeats from it are given,
            not claims (a small model often restates the question around its answer).
        lang: Language of the reply (message of an abstention, notice wording).
        terms: Tokenizer giving jieba terms, lowercased Latin words and numbers.
        glossary: English<->Chinese renderings; needed for English clauses over Chinese text.
        similarity: ``(clauses, sentences) -> matrix`` of cosine similarities (one call per
            answer); without it the similarity features take a neutral value.
        model: The calibrated clause model (default: ``claims_model.json``).
        sentence_spans: Sentence splitter for passages (default:
            :func:`rag.text.sentences.evidence_spans` at 90 characters).
        candidates_per_passage: Evidence sentences per passage and clause scored with e5.

    Returns:
        The :class:`CheckedAnswer`.
    """
    model = model or default_model()
    sentence_spans = sentence_spans or _calibrated_spans
    text = answer.strip()
    if is_abstention(text):
        return CheckedAnswer(text=NO_ANSWER.get(lang, NO_ANSWER["en"]), abstained=True, support=1.0)
    lex = Lexicon(passages, terms, glossary, sentence_spans)
    text, glosses = _without_glosses(text, passages, lex)
    parsed = parse_answer(text, len(passages))
    clauses = parsed.clauses
    infos, full, restated, bare, anchored = _clause_infos(lex, parsed, question)
    rows = infos + [full[i] for i in restated + anchored]
    shortlist, coverage = _shortlist(lex, rows, candidates_per_passage)
    judge = _Judge(lex, model, shortlist, coverage, _similarities(similarity, lex, rows, shortlist))
    for ci, (clause, info) in enumerate(zip(clauses, infos, strict=True)):
        judge.clause(ci, clause, info)
    negated = cite_restatements(judge, clauses, full, restated, bare, len(infos))
    anchored_support(judge, clauses, infos, full, anchored, len(infos) + len(restated), question)
    figures_about_the_question(judge, clauses, infos, full)
    figures_of_their_statement(lex, clauses, full)
    chosen = {ci: o for ci, o in judge.options.items() if ci < len(infos) and ci not in restated}
    for ci, passage in cohere(clauses, chosen).items():
        judge.evidence_in(ci, clauses[ci], passage)
    restatements_cite_their_sentence(judge, parsed, restated)
    given_names_in_support(judge, clauses, question)
    rejections(lex, clauses, full, bare, question)
    quote_says_not(lex, clauses, full)
    polar_answers(lex, clauses, infos, full, negated, bare, question)
    show_sentences_that_say(lex, clauses, infos)
    filed_elsewhere(clauses, [p.text for p in passages], question)
    item_swapped(clauses)
    final, cited = compose(text, parsed, lang, question)
    removed = [c for c in clauses if not c.supported] + [
        Clause(g.text, g.start, g.end, -1, "unsupported", reason=g.reason) for g in glosses
    ]
    kept = [(i, c) for i, c in enumerate(clauses) if c.supported]
    return CheckedAnswer(
        text=restore_placeholders(final, [p.text for p in passages]),  # (the prompt had none)
        clauses=clauses,
        removed=removed,
        cited=cited,
        dropped_numbers=parsed.dropped,
        abstained=False,
        notice=notice(removed, parsed.dropped, lang),
        support=(sum(c.supported for c in clauses) / len(clauses)) if clauses else 0.0,
        restated=_only_restates(lex, kept, infos, question),
    )


# a Chinese quote in an English clause: the passage's words, not the clause's own
_ZH_QUOTE = re.compile(r"\s*\(\s*[\"“][^\"”()]*[\u4e00-\u9fff][^\"”()]*[\"”]\s*\)")


def _only_restates(
    lex: Lexicon, kept: list[tuple[int, Clause]], infos: list[ClauseInfo], question: str
) -> bool:
    """Every kept clause adds nothing to the question (the chain then shows the extract). An
    English clause's Chinese quote is the passage speaking, not the clause: "The image pyramid
    approach has limitations ("第一大类,…方法叫做image pyramid。") [1]" says only the question back."""
    if not kept or is_polar(question):
        return False
    if fills_asked_figure(question, " ".join(c.text for _, c in kept)):
        return False  # "有 N 张显卡时会启动多少个进程?" "…启动 N 个进程"
    for i, c in kept:
        info, bare = infos[i], _ZH_QUOTE.sub("", c.text)
        if bare != c.text and not CJK.search(bare) and not restates_question(c, info):
            own = lex.clause_info(strip_lead(bare, True), True)
            info = _given(lex, own, question, lex.question_renderings(question))
        if not restates_question(c, info):
            return False
    return True


def _calibrated_spans(text: str) -> list[tuple[int, int]]:
    """The sentences the claim model was calibrated on: cut at 90 characters."""
    return evidence_spans(text, 90)


def _without_glosses(
    text: str, passages: Sequence[Passage], lex: Lexicon
) -> tuple[str, list[Gloss]]:
    """The answer without the quotes that are no quotes, out before the check: a gloss of the
    model's own ("点击率×广告ID"), a passage sentence that says nothing of its clause."""
    text = attach_stray_quotes(close_open_quote(text))
    text, glosses = drop_invented_glosses(text, [f"{p.title}\n{p.text}" for p in passages])
    held = partial(quote_holds, lex)
    text, unrelated = drop_unrelated_quotes(text, held)
    return trim_long_quotes(text, held), glosses + unrelated


def _given(
    lex: Lexicon, info: ClauseInfo, question: str, question_zh: Collection[str]
) -> ClauseInfo:
    """What ``info`` claims beyond the question (:func:`given_by_question` over these passages)."""
    return given_by_question(
        info, question, lambda norm: name_mentioned(norm, lex.all_norm, lex.all_low), question_zh
    )


def _clause_infos(
    lex: Lexicon, parsed: Parsed, question: str
) -> tuple[list[ClauseInfo], list[ClauseInfo], list[int], list[int], list[int]]:
    """What each clause claims beyond the question (``infos``) and on its own words (``full``);
    the clauses to judge a second time on their own words (``restated``), among them the bare
    yes/no answers (``bare``), judged on the question's words; and the clauses that repeat some
    of the question's words (``anchored``: see :func:`anchored_support`)."""
    infos, full = [], []
    terms = ml_terms()
    absent = terms.absent(question, lex.all_low, lex.word_found) if question else []
    question_zh = lex.question_renderings(question)
    for c in parsed.clauses:
        # an English lead-in of a Chinese sentence ("The three stages of RLHF are: 有监督微调…")
        # is read as English, not as one Latin name
        english = parsed.sentences[c.sentence].english or (
            not CJK.search(c.text) and len(EN_WORD.findall(c.text)) >= 3
        )
        info = lex.clause_info(strip_lead(c.text, english), english)
        given = _given(lex, info, question, question_zh)
        # a term the question names and no passage mentions is a claim, checked as a name; so
        # is an English ML term of the clause's own that no passage mentions in any form
        own = [
            t
            for t in terms.unmentioned(c.text, lex.all_low, lex.word_found)
            if t not in question.lower()
        ]
        named = [
            t
            for t in dict.fromkeys(terms.named_in(c.text, absent) + own)
            if all(t != n for n, _ in given.names)
        ]
        if named:
            given = dataclasses.replace(
                given, names=given.names + [(t, NORM_DROP.sub("", t)) for t in named]
            )
        infos.append(given)
        full.append(info)
    # a clause that only restates the question is judged a second time on its own words (to
    # cite the passage that says it): those rows go into the same single similarity call
    restated = [
        i
        for i, (given, own) in enumerate(zip(infos, full, strict=True))
        if not given.units and not given.names and (own.units or own.names)
    ]
    # a bare yes/no ("不是 [1]。") says the question's proposition: its passage is the one that
    # speaks to the question, judged on the question's words
    bare = [i for i in bare_yes_no(parsed, question) if i not in restated]
    for i in bare:  # ("不是" itself is no claim: the passages need not write it)
        infos[i] = dataclasses.replace(infos[i], units=[], names=[], numbers=[])
        # (a "no" is judged on them too, but a passage that negates them says it)
        own = lex.clause_info(question.rstrip("?？ "))
        full[i] = dataclasses.replace(own, denied=is_denial(parsed.clauses[i].text))
        if full[i].units or full[i].names:
            restated.append(i)
    # the others that repeat some of the question's words are judged on all their words too
    anchored = [i for i, g in enumerate(infos) if i not in restated and given_words(g, full[i])]
    return infos, full, restated, bare, anchored


def _shortlist(
    lex: Lexicon, infos: list[ClauseInfo], per_passage: int
) -> tuple[list[list[int]], dict[tuple[int, int], float]]:
    """Per clause, the best candidates of each passage by lexical coverage (a candidate missing
    a figure of the clause ranks last); and the coverage of every (clause, candidate)."""
    shortlist: list[list[int]] = []
    coverage: dict[tuple[int, int], float] = {}
    for ci, info in enumerate(infos):
        chosen: list[int] = []
        for ks in lex.by_passage:
            scored = []
            for k in ks:
                c = lex.cands[k]
                cov = lex.coverage(info, c)
                coverage[(ci, k)] = cov
                miss_num = len(lex.numbers_missing(info, c))
                scored.append((-(miss_num > 0), cov, -(c.end - c.start), k))
            scored.sort(reverse=True)
            chosen.extend(k for *_, k in scored[:per_passage])
        shortlist.append(chosen)
    return shortlist, coverage


def _similarities(
    similarity: Similarity | None,
    lex: Lexicon,
    infos: list[ClauseInfo],
    shortlist: list[list[int]],
) -> dict[tuple[int, int], float]:
    """e5 similarity of every (clause, shortlisted candidate), in one batched call."""
    sim_of: dict[tuple[int, int], float] = {}
    if similarity is None or not infos:
        return sim_of
    union = sorted({k for ks in shortlist for k in ks})
    if not union:
        return sim_of
    # a clause judged on several rows (restated, anchored) is embedded once
    texts = list(dict.fromkeys(i.text for i in infos))
    matrix = np.asarray(similarity(texts, [lex.cands[k].text for k in union]), dtype=np.float32)
    row = {t: r for r, t in enumerate(texts)}
    col = {k: j for j, k in enumerate(union)}
    for ci, ks in enumerate(shortlist):
        for k in ks:
            sim_of[(ci, k)] = float(matrix[row[infos[ci].text], col[k]])
    return sim_of


@dataclass
class _Judge:
    """Decides each clause from its shortlisted candidates (rules first, then the model)."""

    lex: Lexicon
    model: ClaimModel
    shortlist: list[list[int]]
    coverage: dict[tuple[int, int], float]
    sim_of: dict[tuple[int, int], float]
    # the clauses whose support the check chose: every passage that supports them
    options: dict[int, dict[int, float]] = dataclasses.field(default_factory=dict)
    # every judged row (clause) that some passage supports: those passages, with p
    passing: dict[int, dict[int, float]] = dataclasses.field(default_factory=dict)

    def clause(self, ci: int, clause: Clause, info: ClauseInfo, explain: bool = True) -> None:
        """Set the clause's verdict, evidence, score, support and reason (``explain``: an
        unsupported clause that a rule rejects on the sentence with most of its words gets
        that rule's reason and sentence; a second judgement only picks a passage to cite)."""
        lex = self.lex
        lang = "en" if info.english else "zh"
        clause.lang = lang
        # (the order of these look-ups is kept: the lexicon caches renderings by stem)
        miss_all_units = [u for u in info.units if lex.unit_score(u, None) < 0.5]
        missing_names = names_lacking(lex, info, lex.all_norm, lex.all_low)
        best: _Best | None = None
        vetoed: _Best | None = None  # the rule-rejected candidate that covers the clause best
        per_passage: dict[int, float] = {}
        local: dict[int, _PassageContext] = {}
        for k in self.shortlist[ci]:
            c = lex.cands[k]
            if c.passage not in local:  # first candidate of a passage = its best by coverage
                ks = [j for j in self.shortlist[ci] if lex.cands[j].passage == c.passage]
                mine = [lex.cands[j] for j in ks]
                ties = [
                    lex.cands[j] for j in ks[1:] if self.coverage[(ci, j)] >= self.coverage[(ci, k)]
                ]
                local[c.passage] = self._passage_context(info, mine, self.coverage[(ci, k)], ties)
            miss_units, share, names_here, veto = local[c.passage]
            feats = features(
                lex, info, c, self.coverage[(ci, k)], share, miss_units, self.sim_of.get((ci, k))
            )
            reason, rule = rule_against(lex, info, c, missing_names, names_here, veto)
            # a Chinese clause over English evidence is judged like the reverse: cross-lingual
            # (e5 scores such pairs lower; the Chinese model never saw one)
            judged = "en" if lang == "en" or not CJK.search(c.text) else "zh"
            prob = 0.0 if reason else self.model.prob(judged, feats)
            if prob >= self.model.threshold[judged]:
                per_passage[c.passage] = max(per_passage.get(c.passage, 0.0), prob)
            key = (prob, feats["cov"])
            if (
                best is None
                or key > (best[0], best[2]["cov"])
                or (best[3] and not reason and prob == best[0] and feats["cov"] > best[2]["cov"])
            ):
                best = (prob, k, feats, reason, rule)
            if reason and (vetoed is None or feats["cov"] > vetoed[2]["cov"]):
                vetoed = (prob, k, feats, reason, rule)
        if explain and not per_passage and vetoed and best and vetoed[2]["cov"] >= best[2]["cov"]:
            best = vetoed  # unsupported: say why the sentence that has its words rejects it
        if best is None:  # no passage at all
            clause.status = "unsupported"
            clause.reason = "no passages"
            return
        self._settle(ci, clause, info, best, per_passage, miss_all_units)

    def _passage_context(
        self,
        info: ClauseInfo,
        mine: list[Candidate],
        cov: float,
        ties: Sequence[Candidate] = (),
    ) -> _PassageContext:
        """What the clause's shortlisted candidates of a passage (``mine``, best first) say about
        the whole passage: the units and names missing from it, and a veto: a negation the best
        candidate contradicts, or a comparison none of them makes."""
        lex = self.lex
        c = mine[0]
        pc = lex.pass_cands[c.passage]
        miss_units = [u for u in info.units if lex.unit_score(u, pc) < 0.5]
        share = sum(u.weight for u in miss_units) / max(1.0, sum(u.weight for u in info.units))
        names_here = names_lacking(lex, info, pc.norm, pc.low)
        veto = ("", "")
        top = features(lex, info, c, cov, share, miss_units, None)
        if (
            top["neg"] > 0
            and (
                not info.english
                or negated_scope_asserted(info, c, lex.renderings)
                or all(asserted_but_negated(info, o, lex.renderings) for o in (c, *ties))
            )
            # (Chinese) a sentence of the passage that matches the clause as well may say it
            # ("如果没有模型" beside "如果没有数据", both with the same words); English negation
            # has its own scope test, and there the rule lost an injected negation on dev
            and (info.english or all(neg_mismatch(info, o, lex.renderings, lex.tok) for o in ties))
        ):
            veto = (f"negation not in the source [{c.passage + 1}]", "negation")
        elif (top["cmp"] > 0 and all(comparison_unmade(info, o) for o in mine[1:])) or (
            comparative_unsaid(info, c) and all(comparative_unsaid(info, o) for o in mine[1:])
        ):
            veto = (f"comparison not made by [{c.passage + 1}]", "comparison")
            gone = [u.surface for u in sorted(miss_units, key=lambda u: -u.weight)[:2]]
            if gone:
                veto = ("'" + "', '".join(gone) + "' not in the passages", "comparison")
        elif (degree := degree_said(info, c, lex.renderings)) and all(
            degree_said(info, o, lex.renderings) for o in ties
        ):
            veto = (f"'{degree[0]}' where [{c.passage + 1}] says '{degree[1]}'", "antonym")
        return miss_units, share, names_here, veto

    def _settle(
        self,
        ci: int,
        clause: Clause,
        info: ClauseInfo,
        best: _Best,
        per_passage: dict[int, float],
        miss_all_units: list[Unit],
    ) -> None:
        """Record the best candidate; support and repaired citations, or the reason."""
        lex = self.lex
        prob, k, feats, reason, rule = best
        c = lex.cands[k]
        clause.score = prob
        clause.features.update(feats)
        clause.similarity = feats.get("sim_raw")
        clause.evidence_passage = c.passage + 1
        clause.evidence_start, clause.evidence_end = c.start, c.end
        clause.evidence = c.text
        if per_passage:
            self.passing[ci] = per_passage
            # a cited passage that barely passes where another one clearly says it is a wrong
            # number ("blurry images [2]" over a heat-map sentence when [1] lists 图像模糊)
            best_p = max(per_passage.values())
            cited_ok = [
                x
                for x in clause.cited
                if (x - 1) in per_passage and per_passage[x - 1] >= best_p - _CITED_MARGIN
            ]
            if cited_ok:
                clause.support = cited_ok
                if clause.evidence_passage not in cited_ok:  # the evidence of what it cites
                    self.evidence_in(ci, clause, cited_ok[0] - 1)
            else:
                top = max(per_passage, key=lambda p: per_passage[p])
                clause.support = [top + 1]
                self.options[ci] = per_passage
                if clause.evidence_passage != top + 1:
                    self.evidence_in(ci, clause, top)
            clause.status = "supported"
        else:
            clause.status = "unsupported"
            clause.rule = rule
            clause.reason = reason or model_reason(
                lex, self.model, clause.lang, info, feats, c, miss_all_units, clause.cited
            )
        clause.features.pop("sim_raw", None)

    def evidence_in(self, ci: int, clause: Clause, passage: int) -> None:
        """Point the clause's evidence at its best candidate in ``passage`` (citation moved)."""
        ks = [k for k in self.shortlist[ci] if self.lex.cands[k].passage == passage]
        if not ks:
            return
        k = max(ks, key=lambda k: self.coverage[(ci, k)])
        c = self.lex.cands[k]
        clause.evidence_passage = passage + 1
        clause.evidence_start, clause.evidence_end, clause.evidence = c.start, c.end, c.text
