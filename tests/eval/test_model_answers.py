"""`rag eval --format model-answers`: the claim check scored against hand labels of answers.

A tiny labelled file is made the way the committed one was (``export`` from an eval run's
records, then each clause labelled), with the README's invented clause as the one unsupported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli.eval import main
from rag.eval.faithfulness import open_checker
from rag.eval.model_answers import export_template, load_rows

PASSAGE = (
    "为了加速 DDPM 的采样过程,DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程,"
    "最终可以实现仅采样 20~100 步的情况下达到和 DDPM 采样 1000 步相近的生成效果,也就是提速 10~50 倍。"
)
ANSWER = (
    "DDIM 可以在 20~100 步内达到和 DDPM 1000 步相近的效果，但需要更多的计算资源 [1]。"
    "DDIM 提速 10~50 倍。"
)


@pytest.fixture(scope="module")
def labelled(articles_settings, articles_index, embedder, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("model-answers")
    record = {
        "id": "r1",
        "question": "DDIM 和 DDPM 的采样过程有什么区别?",
        "lang": "zh",
        "gold_doc_ids": ["ddim"],
        "answer": {
            "llm": "scripted",
            "model_text": ANSWER,
            "passages": [
                {"chunk_id": "ddim#0", "doc_id": "ddim", "title": "DDIM", "text": PASSAGE}
            ],
        },
    }
    (base / "results.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    assistant, checker = open_checker(articles_settings, embedder, lambda m: None)
    try:
        assert export_template(base / "results.jsonl", base / "template.jsonl", checker) == 1
    finally:
        assistant.close()
    row = json.loads((base / "template.jsonl").read_text("utf-8"))
    assert all(c["support"] is None for c in row["clauses"])  # nothing pre-filled
    for c in row["clauses"]:  # the labeller's verdicts
        c["support"] = [] if "计算资源" in c["text"] else [1]
    row["split"] = "test"
    (base / "labelled.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    return base


def test_the_check_is_scored_against_the_labels(
    labelled: Path, articles_settings, embedder, capsys
) -> None:
    out = labelled / "out"
    args = [str(labelled / "labelled.jsonl"), "--format", "model-answers", "--split", "test"]
    args += ["--index", str(articles_settings.index_dir), "--out", str(out), "--quiet"]
    assert main(args, embedder=embedder) == 0
    report = json.loads((out / "report.json").read_text("utf-8"))
    s = report["faithfulness"]["all"]
    assert s["labelled_unsupported"] == 1 and s["unsupported_removed"] == 1.0
    assert s["false_removal_rate"] == 0.0
    # as written, no sentence holds: the first has the invented clause, the second no citation;
    # the checked answer drops the clause and cites [1] for the second sentence
    assert s["model_citation_recall"] == 0.0 and s["model_citation_precision"] == 1.0
    assert s["checked_citation_recall"] == 1.0 and s["checked_citation_precision"] == 1.0
    assert report["faithfulness"]["zh"]["answers"] == 1 and "en" not in report["faithfulness"]
    block = (out / "expected-scores.yaml").read_text("utf-8")
    assert "checked_citation_recall: 1.0" in block
    assert "unsupported removed 1.000 (of 1)" in capsys.readouterr().out


def test_a_clause_without_a_label_is_named(labelled: Path, tmp_path: Path) -> None:
    row = json.loads((labelled / "template.jsonl").read_text("utf-8"))
    bad = tmp_path / "half.jsonl"
    bad.write_text("\n" + json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(ValueError, match=r"half\.jsonl:2: a clause has no \"support\" label"):
        load_rows(bad)
