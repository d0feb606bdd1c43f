"""Replaying stored model answers through the whole chain (``python -m rag.eval.replay_chain``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval.replay import changed
from rag.eval.replay_chain import main, replay_chain

QUESTION = "DDPM 原始论文使用了多少个时间步?"


def _row(rid: str, model: str | None, stored: str = "") -> dict:
    answer = {"llm": "qwen", "model_text": model, "text": stored or (model or "")}
    return {"id": rid, "question": QUESTION, "answers": ["1000 个时间步"], "answer": answer}


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    rows = [
        _row("on-point", "原始论文使用了 1000 个时间步 [1]。"),
        # what a model wrote beside the point, shown as it was before the chain fell back on it
        _row("beside", "DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果 [1]。"),
        _row("near~loo", "原始论文使用了 1000 个时间步 [1]。"),  # its gold document was hidden
        _row("refused", None, "文章中没有涉及这个问题。"),  # refused before the model
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_stored_answers_go_through_the_chain_again(results, assistant) -> None:
    rows = {r["id"]: r for r in replay_chain([results], assistant)}
    assert sorted(rows) == ["beside", "on-point"]
    kept = rows["on-point"]
    assert kept["text"].startswith("原始论文使用了 1000 个时间步 [1]。") and kept["contains"]
    beside = rows["beside"]  # the chain now shows the draft's sentence that answers
    assert beside["text"].startswith("原始论文使用了 1000 个时间步") and beside["contains"]
    assert beside["text"] != beside["stored"] and not beside["abstained"]
    assert "a sentence without the question's words" in beside["notice"]
    # compared with an earlier replay where the stored text stood, only that answer changed
    before = [dict(r, text=r["stored"]) if r["id"] == "beside" else r for r in rows.values()]
    fields = ("text", "abstained")
    assert [now["id"] for _, now in changed(rows.values(), before, fields)] == ["beside"]


def test_a_missing_results_file_is_named(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in capsys.readouterr().err
