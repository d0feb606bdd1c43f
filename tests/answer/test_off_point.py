"""An answer beside the point: copied from the right passage, but from a sentence that does not
speak of what the question asks."""

from __future__ import annotations

from rag.answer.claims import CheckedAnswer, Clause
from rag.answer.evidence import Evidence, EvidenceSet
from rag.answer.extractive import Extract
from rag.answer.off_point import OFF_POINT, off_point
from rag.answer.question_terms import QuestionTerms
from rag.schema import Passage
from tests.answer.test_chain import make_chain, run
from tests.scripted_llm import Reply

QUESTION = "DDPM 原始论文使用了多少个时间步?"


def test_an_answer_from_the_wrong_sentence_gives_way_to_the_one_that_answers(
    assistant, server, llm
) -> None:
    """The model copies the DDIM article's "20~100 步 … 1000 步" sentence: a figure, supported by
    the passage it cites, so the claim check keeps it; but it is not what the question asks
    (原始论文, 时间步), and the sentence of the same passage that says it is shown instead."""
    server.script(Reply("DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果 [1]。"))
    _, answer = run(make_chain(assistant, llm), QUESTION)
    assert not answer.abstained
    assert answer.text.startswith("原始论文使用了 1000 个时间步")
    assert "20~100" not in answer.text and answer.citations[0].doc_id == "ddim"
    assert OFF_POINT in (answer.notice or "")
    assert "模型的回答依据的句子没有谈到所问的内容" in answer.text
    assert answer.model_text and answer.model_text.startswith("DDIM 仅采样 20~100 步")


def test_an_answer_on_the_point_is_kept(assistant, server, llm) -> None:
    server.script(Reply("原始论文使用了 1000 个时间步 [1]。"))
    _, answer = run(make_chain(assistant, llm), QUESTION)
    assert answer.text.startswith("原始论文使用了 1000 个时间步 [1]。")
    assert answer.llm == "scripted" and OFF_POINT not in (answer.notice or "")


PASSAGE = Passage(
    "计算神经科学是一种跨领域科学。有关此领域的研究最早可追溯自霍奇金与赫胥黎。",
    "cn",
    "计算神经科学",
    "cn.md",
    "cn#0",
    1.0,
)
OTHER = Passage("霍奇金研究了计算神经科学的起源。", "h", "霍奇金", "h.md", "h#0", 1.0)


def _case(
    tools: dict,
    question: str,
    clause_at: str,
    best_at: str,
    best_in: int = 0,
    passages: tuple[Passage, ...] = (PASSAGE, OTHER),
    answer: str | None = None,
) -> list[str]:
    """``off_point`` of an answer (``answer``, default ``clause_at`` cited [1]) resting on the
    words ``clause_at`` of ``passages[0]``, and the draft's best sentence ``best_at`` of
    ``passages[best_in]``."""
    start = passages[0].text.index(clause_at)
    clause = Clause(
        clause_at,
        0,
        len(clause_at),
        0,
        cited=[1],
        support=[1],
        evidence_passage=1,
        evidence_start=start,
        evidence_end=start + len(clause_at),
        evidence=clause_at,
    )
    checked = CheckedAnswer(answer or f"{clause_at} [1]。", [clause], cited=[1])
    text = passages[best_in].text
    best = Evidence(best_in, text.index(best_at), text.index(best_at) + len(best_at), best_at)
    terms = QuestionTerms(question, tools["terms"], tools["glossary"])
    draft = Extract(f"{best_at}[{best_in + 1}]", [best_in + 1], [best])
    return off_point(EvidenceSet([best], [best], terms), checked, draft, passages, passages)


def test_the_subject_named_in_the_title_is_not_the_point(tools) -> None:
    """ "有关此领域的研究最早可追溯自…" answers "最早研究计算神经科学的科学家有哪些?" in the article
    计算神经科学: the sentence says 此领域, the title says the rest."""
    question = "最早研究计算神经科学的科学家有哪些?"
    assert _case(tools, question, "霍奇金与赫胥黎", "计算神经科学是一种跨领域科学") == []


def test_the_words_are_read_in_the_whole_sentence_of_the_evidence(tools) -> None:
    """The check matched a piece of the sentence; the rest of it has the question's words."""
    question = "有关此领域的研究最早可追溯自谁?"
    assert _case(tools, question, "霍奇金与赫胥黎", "有关此领域的研究最早可追溯自霍奇金") == []


def test_a_better_sentence_in_another_passage_is_not_evidence(tools) -> None:
    question = "霍奇金研究了什么的起源?"
    assert _case(tools, question, "霍奇金与赫胥黎", "霍奇金研究了计算神经科学的起源", 1) == []
    # the same sentence in the passage the answer rests on would be
    lone = Passage(
        "霍奇金研究了起源。有关此领域的研究可追溯自赫胥黎。", "x", "X", "x.md", "x#0", 1.0
    )
    assert _case(tools, question, "赫胥黎", "霍奇金研究了起源。", passages=(lone,))


def test_an_english_question_is_not_judged(tools) -> None:
    """An English question's words are found through renderings, generic ones too: "What else
    is Drosera burmannii called?" (CMRC-en TRIAL_236), rightly answered with the alias, would
    have given way to the sentence that says 其他 ("else")."""
    text = "锦地罗又称作宽叶毛毡苔，是茅膏菜属的植物。该种是一个小小的毛毡苔，相较于其他毛毡苔，它捕虫更快。"
    passage = Passage(text, "d", "锦地罗", "d.md", "d#0", 1.0)
    question = "What else is the sundew called?"
    said = "该种是一个小小的毛毡苔，相较于其他毛毡苔，它捕虫更快。"
    terms = QuestionTerms(question, tools["terms"], tools["glossary"])
    assert terms.found(said) == ["else"]  # what the rule would have read
    answer = "It is also known as 宽叶毛毡苔 [1]."
    assert _case(tools, question, "宽叶毛毡苔", said, passages=(passage,), answer=answer) == []


def test_an_answer_resting_on_the_other_half_of_a_semicolon_misses_the_point(tools) -> None:
    """CMRC trial TRIAL_583_4, "乌尔巴克齿龙与拜伦龙的差异在哪儿?", was answered "乌尔巴克齿龙的体型较大":
    the difference from 寐龙, the other half of the sentence."""
    text = "乌尔巴克齿龙与拜伦龙的差异在于，血管沟较少；与寐龙的差异在于，乌尔巴克齿龙的体型较大。"
    passage = Passage(text, "u", "乌尔巴克齿龙", "u.md", "u#0", 1.0)
    question = "乌尔巴克齿龙与拜伦龙的差异在哪儿?"
    said = text[: text.index("；") + 1]
    assert "拜伦" in _case(tools, question, "乌尔巴克齿龙的体型较大", said, passages=(passage,))


def test_a_compound_counts_once_and_how_many_words_not_at_all(tools) -> None:
    """ "感知机是谁构思的?" answered from "它由…皮茨构思" speaks of 构思; the draft's sentence names
    感知机 but not 构思: one question word each (感知机 is not also 感知 and 知机), so the answer
    stands. A "how many" word (几座 of "有哪几座") found in an answer's "几座城市…" is no word of
    the point: the draft's sentence naming 卫星城 still wins."""
    text = (
        "1957 年,罗森布拉特建造了“感知机”。"
        "它由芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思,后来由罗森布拉特实现了。"
    )
    passage = Passage(text, "a", "激活函数", "a.md", "a#0", 1.0)
    question = "感知机是谁构思的?"
    said = "它由芝加哥大学的爱德华·麦克洛奇和沃尔特·皮茨构思"
    best = "1957 年,罗森布拉特建造了“感知机”。"
    assert len(QuestionTerms(question, tools["terms"]).found(best)) > 1  # 感知, 知机, 感知机
    assert _case(tools, question, said, best, passages=(passage,)) == []

    text = "达曼的卫星城有Khobar和札哈兰。几座城市（达曼、寇巴和札哈兰）共有200万人口。"
    passage = Passage(text, "d", "达曼", "d.md", "d#0", 1.0)
    question = "达曼的卫星城有哪几座?"
    said = "几座城市（达曼、寇巴和札哈兰）共有200万人口"
    missed = _case(tools, question, said, "达曼的卫星城有Khobar和札哈兰。", passages=(passage,))
    assert missed == ["卫星城"]
