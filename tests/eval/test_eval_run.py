"""`rag eval` end to end on the committed CMRC 2018 sample, with --no-llm / --retrieval-only.

One module-scoped run converts the sample, builds its own index and writes the report; the
other tests reuse that index (``--check`` reruns the committed expected scores against it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli.eval import main
from rag.config import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "tests" / "data" / "cmrc2018_sample.json"
EXPECTED = PROJECT_ROOT / "data" / "eval" / "expected.yaml"
MODES = ("bm25", "dense", "hybrid")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[int, Path, Path]:
    base = tmp_path_factory.mktemp("eval")
    out = base / "cmrc2018_sample"
    code = main(
        ["--format", "squad", str(SAMPLE), "--retrieval-only", "--out", str(out), "--quiet"],
        embedder=embedder,
    )
    return code, base, out


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def test_squad_file_becomes_its_own_index_and_question_set(sample_run, articles_settings) -> None:
    code, _, out = sample_run
    assert code == 0
    source = json.loads(SAMPLE.read_text(encoding="utf-8"))
    paragraphs = [(p, a["title"]) for a in source["data"] for p in a["paragraphs"]]
    corpus = [
        json.loads(line) for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [(d["id"], d["title"], d["text"]) for d in corpus] == [
        (p["id"], title, p["context"]) for p, title in paragraphs
    ]
    questions = [
        json.loads(line)
        for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    expected = [
        (qa["id"], [p["id"]], qa["answers"][0]["text"]) for p, _ in paragraphs for qa in p["qas"]
    ]
    assert [(q["id"], q["gold_doc_ids"], q["answers"][0]) for q in questions] == expected

    report = _report(out)
    manifest = report["index"]["manifest"]
    assert Path(report["index"]["dir"]) == out / "index"
    assert Path(report["index"]["dir"]) != Path(articles_settings.index_dir)
    assert sorted(manifest["documents"]) == sorted(d["id"] for d in corpus)  # JSONL ids kept
    assert report["questions"]["answerable"] == len(expected) == 33


def test_report_has_every_number_and_the_plots(sample_run) -> None:
    _, _, out = sample_run
    report = _report(out)
    assert report["config"]["modes"] == list(MODES) and report["config"]["depth"] == 30
    assert report["settings"]["llm_api_key"] in (None, "***")
    assert report["versions"]["python"] and report["versions"]["numpy"]
    assert report["index"]["manifest"]["embedder"]["name"]
    assert report["answers"] is None  # --retrieval-only
    for mode in MODES:
        block = report["retrieval"][mode]
        for key in ("hit@1", "hit@3", "hit@5", "hit@10", "recall@10", "mrr@10", "ndcg@10"):
            assert 0.0 <= block[key] <= 1.0, (mode, key)
        assert block["latency"]["p50"] > 0 and block["latency"]["p95"] >= block["latency"]["p50"]
        assert len(block["hit_curve"]) == 10
        # the aggregate agrees with the per-question gold ranks
        ranks = [q["gold_rank"][mode] for q in report["per_question"]]
        assert block["hit@5"] == pytest.approx(sum(1 for r in ranks if r and r <= 5) / len(ranks))
        assert block["mrr@10"] == pytest.approx(sum(1 / r for r in ranks if r) / len(ranks))
    for name in ("hit_at_k.png", "gold_rank.png", "latency.png"):
        assert name in report["plots"]
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| hybrid |" in md and "![hit_at_k.png](hit_at_k.png)" in md
    snippet = (out / "expected-scores.yaml").read_text(encoding="utf-8")
    assert "--format squad" in snippet and "hybrid: {hit@1:" in snippet
    assert len((out / "results.jsonl").read_text(encoding="utf-8").splitlines()) == 33


def test_malformed_lines_are_named_and_the_run_goes_on(
    sample_run,
    embedder,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, sample_out = sample_run
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-test-secret-4242")
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "question": "生命数耗完即算为什么？",
                        "gold_doc_ids": ["TRIAL_800"],
                        "answers": ["踢爆"],
                    },
                    ensure_ascii=False,
                ),
                '{"question": "broken line",',
                '{"gold_doc_ids": ["TRIAL_154"]}',
                json.dumps(
                    {
                        "question": "量子色动力学的渐近自由是哪一年被发现的？",
                        "gold_doc_ids": [],
                        "answers": [],
                    },
                    ensure_ascii=False,
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        [
            str(qfile),
            "--no-llm",
            "--index",
            str(sample_out / "index"),
            "--out",
            str(out),
            "--quiet",
        ],
        embedder=embedder,
    )
    err = capsys.readouterr().err
    assert code == 1  # lines were skipped...
    assert f"{qfile}:2: not valid JSON" in err and f'{qfile}:3: missing or empty "question"' in err
    report = _report(out)  # ...but the report of the other lines is complete
    errors = report["questions"]["input_errors"]
    assert (
        len(errors) == 2
        and errors[0].startswith(f"{qfile}:2:")
        and errors[1].startswith(f"{qfile}:3:")
    )
    assert [q["id"] for q in report["per_question"]] == ["L1", "L4"]
    ab = report["answers"]["abstention"]
    assert ab["answered_answerable"] + ab["abstained_answerable"] == 1
    assert ab["answered_unanswerable"] + ab["abstained_unanswerable"] == 1
    assert ab["accuracy"] == pytest.approx(
        (ab["answered_answerable"] + ab["abstained_unanswerable"]) / 2
    )
    by = report["answers"]["answered_by"]  # "none": abstained by the evidence check
    assert sum(by.values()) == 2 and set(by) <= {"extractive", "none"}
    for name in ("report.json", "report.md", "results.jsonl"):
        assert "sk-test-secret-4242" not in (out / name).read_text(encoding="utf-8")
    assert report["settings"]["llm_api_key"] == "***"

    # --resume keeps the finished questions (not asked again) and redoes a line cut short
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    kept = json.loads(lines[0])
    kept["answer"]["text"] = "KEPT FROM THE FIRST RUN"
    (out / "results.jsonl").write_text(
        json.dumps(kept, ensure_ascii=False) + "\n" + lines[1][:40] + "\n", encoding="utf-8"
    )
    args = [
        str(qfile),
        "--no-llm",
        "--index",
        str(sample_out / "index"),
        "--out",
        str(out),
        "--quiet",
    ]
    assert main([*args, "--resume"], embedder=embedder) == 1
    redone = [
        json.loads(line)
        for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["id"] for r in redone] == ["L1", "L4"]
    assert redone[0]["answer"]["text"] == "KEPT FROM THE FIRST RUN" and redone[1]["answer"]["text"]


def test_check_passes_on_the_committed_expected_scores(sample_run, embedder, capsys) -> None:
    _, base, _ = sample_run
    code = main(
        ["--check", str(EXPECTED), "--only", "cmrc2018_sample", "--out", str(base)],
        embedder=embedder,
    )
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(("OK", "FAIL"))
    ]
    assert code == 0, lines
    assert len(lines) >= 9 and all(line.startswith("OK  ") for line in lines)


def test_check_fails_and_exits_non_zero(sample_run, embedder, tmp_path: Path, capsys) -> None:
    _, base, out = sample_run
    first5 = _report(out)["per_question"][:5]
    mrr5 = sum(1 / q["gold_rank"]["hybrid"] for q in first5 if q["gold_rank"]["hybrid"]) / 5
    expected = tmp_path / "expected.yaml"
    expected.write_text(
        "tolerance: 0.01\nruns:\n"
        "  - name: cmrc2018_sample\n"
        "    command: rag eval --format squad tests/data/cmrc2018_sample.json --retrieval-only --limit 5\n"
        "    scores:\n"
        f"      hybrid: {{mrr@10: {mrr5}}}\n"
        "      bm25: {hit@1: 0.2}\n"
        "      dense: {hit@7: 1.0}\n",
        encoding="utf-8",
    )
    code = main(["--check", str(expected), "--out", str(base)], embedder=embedder)
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(("OK", "FAIL"))
    ]
    assert code == 1
    assert lines[0].startswith("OK  ") and "hybrid  mrr@10" in lines[0]
    assert (
        lines[1].startswith("FAIL") and "bm25  hit@1" in lines[1] and "expected 0.2000" in lines[1]
    )
    assert lines[2].startswith("FAIL") and "(not measured)" in lines[2]


def test_rag_cli_has_eval_and_convert_squad(tmp_path: Path, capsys) -> None:
    from rag import cli

    assert cli.main(["convert-squad", str(SAMPLE), "--out", str(tmp_path)]) == 0
    assert "8 documents from 8 articles and 33 questions" in capsys.readouterr().out
    assert len((tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines()) == 8
    with pytest.raises(SystemExit) as exc:
        cli.main(["eval", "--help"])
    assert exc.value.code == 0
    assert "--no-llm" in capsys.readouterr().out
    assert main(["convert-squad", str(tmp_path / "missing.json")]) == 1


def test_check_runs_prepare_then_a_jsonl_set_with_its_corpus(
    sample_run, embedder, tmp_path: Path, capsys
) -> None:
    _, base, out = sample_run
    conv = tmp_path / "conv"
    expected = tmp_path / "expected.yaml"
    expected.write_text(
        "runs:\n"
        "  - name: sample-jsonl\n"
        "    prepare: python -m rag.cli convert-squad tests/data/cmrc2018_sample.json"
        f" --out {conv}\n"
        f"    command: rag eval {conv}/questions.jsonl --retrieval-only --corpus"
        f" {conv}/corpus.jsonl --index {out}/index --limit 5\n"
        "    scores:\n"
        "      hybrid: {hit@5: 1.0}\n"
        "  - name: broken\n"
        "    prepare: python -c 'raise SystemExit(3)'\n"
        "    command: rag eval nowhere.jsonl\n"
        "    scores:\n"
        "      hybrid: {hit@5: 1.0}\n",
        encoding="utf-8",
    )
    code = main(["--check", str(expected), "--out", str(base)], embedder=embedder)
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(("OK", "FAIL"))
    ]
    assert code == 1
    assert lines[0].startswith("OK  ") and "sample-jsonl  hybrid  hit@5" in lines[0]
    assert lines[1].startswith("FAIL") and "broken" in lines[1] and "(not measured)" in lines[1]
    assert (conv / "questions.jsonl").is_file()


def test_prepare_must_be_a_python_command() -> None:
    from rag.eval.check import ExpectedError, ExpectedRun

    with pytest.raises(ExpectedError, match="prepare must start with `python`"):
        ExpectedRun("x", "rag eval q.jsonl", {}, 0.01, "rm -rf eval-out").prepare_args()


def test_llm_answers_report_the_models_own_citation_recall(
    articles_settings, articles_index, embedder, tmp_path: Path, monkeypatch
) -> None:
    """A model answer with an invented clause counts against the model's citation recall; the
    record keeps what the model wrote and every clause's verdict."""
    from tests.scripted_llm import Reply, ScriptedLLM

    supported = (
        "DDIM 是一种加速 DDPM 采样的方法，它可以在 20~100 步内达到和 DDPM 1000 步相近的效果 [1]。"
    )
    invented = "因此，DDIM 的采样过程比 DDPM 更快，但需要更多的计算资源 [1]。"
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        "\n".join(
            json.dumps({"id": i, "question": q, "gold_doc_ids": ["ddim"]}, ensure_ascii=False)
            for i, q in (("a", "DDIM 要采样多少步?"), ("b", "DDIM 和 DDPM 的采样过程有什么区别?"))
        )
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("RAG_LLM_API_KEY", raising=False)
    out = tmp_path / "out"
    with ScriptedLLM() as server:
        # the server says how much of each prompt it had cached (10 prompt tokens each)
        server.script(Reply(supported, cached=0), Reply(supported + invented, cached=6))
        code = main(
            [
                str(qfile),
                "--modes",
                "hybrid",
                "--index",
                str(articles_settings.index_dir),
                "--llm-base-url",
                server.base_url,
                "--llm-model",
                "scripted",
                "--out",
                str(out),
                "--quiet",
            ],
            embedder=embedder,
        )
    assert code == 0
    report = _report(out)
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = {r["id"]: r["answer"] for r in map(json.loads, lines)}
    assert records["b"]["model_text"] == supported + invented
    assert records["b"]["usage"]["cached_tokens"] == 6
    assert report["answers"]["prompt_tokens_read_p50"] == 7  # 10 and 4 read anew
    assert "read anew" in (out / "report.md").read_text(encoding="utf-8")
    assert "计算资源" not in records["b"]["text"]  # removed from what the user reads...
    verdicts = {c["text"]: c["status"] for c in records["b"]["claims"]}
    assert verdicts["但需要更多的计算资源"] == "unsupported"
    mc = report["answers"]["model_citations"]
    # ...and counted against the model: 3 sentences, the invented one's is not supported
    assert mc["answers"] == 2 and mc["citation_recall"] == pytest.approx(2 / 3)
    assert 0 < mc["unsupported_clause_rate"] < 0.5
    assert "model's citation recall / precision" in (out / "report.md").read_text("utf-8")
