"""An answer that drifted off the question: it rests on passages that do not speak of it."""

from __future__ import annotations

from rag.answer.drift import drifted_from
from rag.answer.question_terms import QuestionTerms
from rag.schema import Passage
from tests.conftest import ARTICLES


def _article(doc_id: str) -> Passage:
    head, body = (ARTICLES / f"{doc_id}.md").read_text(encoding="utf-8").split("\n---\n", 1)
    title = next(line[7:] for line in head.splitlines() if line.startswith("title: "))
    return Passage(body, doc_id, title, f"{doc_id}.md", f"{doc_id}#0", 1.0)


def test_an_answer_from_another_article_than_the_hyphenated_name_s_drifted(tools) -> None:
    """Asked as a user: "How does Kimi-VL handle images of different resolutions?" was answered
    "It uses an image pyramid and multi-scale sliding window detection …" [2], a sentence of
    the small-object-detection article, which never names Kimi-VL; the first passage, the
    Kimi-VL article, writes the name run together ("KimiVL"), so the question's name was not
    counted as found there and the drift went unseen."""
    passages = [_article("kimi-vl"), _article("small-object-detection")]
    question = "How does Kimi-VL handle images of different resolutions?"
    terms = QuestionTerms(question, tools["terms"], tools["glossary"])
    assert drifted_from(terms, passages, [2]) == "kimi-vl"
    assert drifted_from(terms, passages, [1]) is None  # cites the article about it
    assert drifted_from(terms, passages, [1, 2]) is None
    # a question about what the other article is about: nothing to drift from
    other = QuestionTerms("How are small objects detected?", tools["terms"], tools["glossary"])
    assert drifted_from(other, passages[::-1], [1]) is None


def test_a_name_is_not_found_inside_another_word(tools) -> None:
    """Run together, "Kimi-VL" is "kimivl": a passage that only has "kimi" or "vl" apart in
    other words does not have it."""
    passages = [
        Passage("Kimi 是一个聊天助手。VL 模型很多。", "a", "Kimi", "a.md", "a#0", 1.0),
        Passage("图像金字塔处理不同分辨率的图像。", "b", "金字塔", "b.md", "b#0", 1.0),
    ]
    terms = QuestionTerms("How does Kimi-VL handle resolutions?", tools["terms"], tools["glossary"])
    assert drifted_from(terms, passages, [2]) != "kimi-vl"
