"""Replaying stored model answers through the claim check (``python -m rag.eval.replay``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval.faithfulness import open_checker
from rag.eval.replay import changed, main, replay

PASSAGE = (
    "为了加速 DDPM 的采样过程,DDIM 在不利用马尔可夫假设的情况下推导出了 diffusion 的反向过程,"
    "最终可以实现仅采样 20~100 步的情况下达到和 DDPM 采样 1000 步相近的生成效果,也就是提速 10~50 倍。"
)


def _row(rid: str, model: str | None) -> dict:
    answer = {"llm": "scripted", "model_text": model, "passages": []}
    if model is not None:
        answer["passages"] = [
            {"chunk_id": "ddim#0", "doc_id": "ddim", "title": "DDIM", "text": PASSAGE}
        ]
    return {"id": rid, "question": "DDIM 和 DDPM 的采样过程有什么区别?", "answer": answer}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "results.jsonl"
    rows = [
        _row("kept", "DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果 [1]。"),
        _row("invented", "DDIM 提速 10~50 倍，但需要更多的计算资源 [1]。"),
        _row("abstained", None),  # refused before the model: nothing to replay
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_stored_answers_are_checked_again(results, articles_settings, articles_index, embedder):
    _, checker = open_checker(articles_settings, embedder, lambda m: None)
    rows = {r["id"]: r for r in replay([results], checker)}
    assert sorted(rows) == ["invented", "kept"]
    assert "20~100" in rows["kept"]["checked"] and not rows["kept"]["removed"]
    assert "计算资源" not in rows["invented"]["checked"] and "10~50" in rows["invented"]["checked"]
    assert [c for c, _ in rows["invented"]["removed"]] == ["但需要更多的计算资源"]
    # a run whose check kept the invented clause differs from this one on that answer only
    before = [dict(r, checked=r["model"]) if r["id"] == "invented" else r for r in rows.values()]
    assert [b["id"] for b, _ in changed(rows.values(), before)] == ["invented"]


def test_a_missing_results_file_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in capsys.readouterr().err
