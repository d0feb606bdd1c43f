"""Leave-one-out near misses (`rag eval --near-misses`): the gold article is out of reach."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from rag.cli.eval import main
from rag.eval.near_miss import HidingRetriever


def test_a_hidden_document_is_never_retrieved_and_the_rest_keep_their_order(assistant) -> None:
    question = "DDIM 相比 DDPM 采样快多少倍?"
    with assistant.reading() as retriever:
        everything = retriever.retrieve(question, k=40)
        hidden = HidingRetriever(retriever, frozenset({"ddim"})).run(question, k=5)
    assert everything[0].doc_id == "ddim"  # the article that answers it ranks first...
    assert len(hidden.passages) == 5 and all(p.doc_id != "ddim" for p in hidden.passages)
    others = [p.chunk_id for p in everything if p.doc_id != "ddim"]
    assert [p.chunk_id for p in hidden.passages] == others[:5]  # ...the others keep their ranks
    assert len(hidden.ids) == 5  # the chunk ids still line up with the passages


def test_near_misses_are_asked_without_their_gold_and_reported_per_language(
    articles_settings, articles_index, embedder, tmp_path: Path
) -> None:
    qfile = tmp_path / "q.jsonl"
    rows = [
        {"id": "fast", "question": "DDIM 相比 DDPM 采样快多少倍?", "gold_doc_ids": ["ddim"]},
        {"id": "none", "question": "量子色动力学的渐近自由是哪一年发现的?", "gold_doc_ids": []},
    ]
    qfile.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = tmp_path / "out"
    args = [str(qfile), "--no-llm", "--near-misses", "--modes", "hybrid"]
    args += ["--index", str(articles_settings.index_dir), "--out", str(out), "--quiet"]
    assert main(args, embedder=embedder) == 0

    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = {r["id"]: r for r in map(json.loads, lines)}
    assert sorted(records) == ["fast", "fast~loo", "none"]  # only answerable ones get a twin
    asked, near = records["fast"], records["fast~loo"]
    assert "ddim" in asked["retrieval"]["hybrid"]["docs"]
    assert asked["answer"]["cited_doc_ids"][:1] == ["ddim"] and not asked["answer"]["abstained"]
    assert near["gold_doc_ids"] == [] and near["meta"]["variant"] == "near miss"
    assert "ddim" not in near["retrieval"]["hybrid"]["docs"]
    assert near["retrieval"]["hybrid"]["docs"]  # other articles are still retrieved...
    assert "ddim" not in near["answer"]["passage_doc_ids"] + near["answer"]["cited_doc_ids"]

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    zh = report["answers"]["abstention_by_language"]["zh"]
    assert (zh["n_answerable"], zh["n_unanswerable"], zh["n_near_miss"]) == (1, 1, 1)
    assert zh["answerable_refused"] == 0.0
    assert zh["near_miss_abstained"] == (1.0 if near["answer"]["abstained"] else 0.0)
    assert zh["unanswerable_abstained"] == (1.0 if records["none"]["answer"]["abstained"] else 0.0)
    expected = yaml.safe_load((out / "expected-scores.yaml").read_text(encoding="utf-8"))
    entry = expected[0] if isinstance(expected, list) else expected
    assert "--near-misses" in entry["command"]
    assert entry["scores"]["abstention/zh"]["near_miss_abstained"] == zh["near_miss_abstained"]
    assert "Abstention by question language" in (out / "report.md").read_text("utf-8")
