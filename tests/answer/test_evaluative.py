"""Judging questions (advantages, drawbacks) against the passages an answer would rest on."""

from __future__ import annotations

from rag.answer.evaluative import unmet_judgement
from tests.conftest import ARTICLES


def _body(doc_id: str) -> str:
    return (ARTICLES / f"{doc_id}.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]


def test_an_article_that_names_no_drawback_leaves_the_question_unmet() -> None:
    assert unmet_judgement("YOLO 的缺点是什么?", [_body("yolo")]) == "缺点"
    assert unmet_judgement("What are the drawbacks of SPP?", [_body("spp")]) == "drawbacks"


def test_an_article_that_speaks_of_drawbacks_in_other_words_meets_it() -> None:
    # the image-pyramid article: "然而其缺点也是很明显的，测试时间大幅度提高"
    assert unmet_judgement("image pyramid 有什么不足?", [_body("image-feature-pyramid")]) is None
    assert unmet_judgement("What are the drawbacks of image pyramids?", ["其局限在于速度"]) is None


def test_a_question_that_judges_nothing_is_never_unmet() -> None:
    assert unmet_judgement("YOLO 的核心思想是什么?", [_body("yolo")]) is None
    assert unmet_judgement("What is SPP?", []) is None
