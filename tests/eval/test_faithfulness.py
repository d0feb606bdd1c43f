"""`rag eval --format faithfulness`: the metrics' definitions, a small real run, --check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.claims import CheckedAnswer, Clause
from rag.answer.claims.model import default_model
from rag.cli.eval import main
from rag.config import PROJECT_ROOT
from rag.eval.check import dump_block, expected_block
from rag.eval.faithfulness import Case, Checked, load_cases, score

FAITHFULNESS = PROJECT_ROOT / "data" / "eval" / "faithfulness.jsonl"


def _clause(start: int, end: int, sentence: int, supported: bool, cited, support) -> Clause:
    return Clause(
        "c",
        start,
        end,
        sentence,
        status="supported" if supported else "unsupported",
        cited=list(cited),
        support=list(support),
    )


def test_metrics_follow_their_definitions() -> None:
    # answer_bad = "AAAA，BBBB，CCCC。": the injected ",BBBB" overlaps the second clause
    case = Case("f1", "d", "zh", "AAAA，CCCC。", "AAAA，BBBB，CCCC。", "，BBBB", "entity", "test")
    ok_clauses = [
        _clause(0, 4, 0, True, [1], [1]),  # supported by the passage it cites
        _clause(4, 9, 0, False, [1], []),  # wrongly removed
        _clause(10, 14, 1, True, [1, 2], [2]),  # supported, but [1] is superfluous
    ]
    ok = CheckedAnswer("x", clauses=ok_clauses, removed=[ok_clauses[1]])
    bad_clauses = [
        _clause(0, 4, 0, False, [1], []),  # a clause outside the injected span, removed
        _clause(4, 9, 0, False, [1], []),  # the injected one, removed
        _clause(9, 14, 0, True, [1], [1]),
    ]
    bad = CheckedAnswer("x", clauses=bad_clauses, removed=bad_clauses[:2])
    m = score([Checked(case, ok, bad, (2.0, 4.0), (1.0, 3.0), (1, 1))])
    assert set(m) == {"all", "zh", "zh/entity"}
    zh = m["zh"]
    assert zh["cases"] == 1 and zh["injected_recall"] == 1.0
    assert zh["false_removal_rate"] == 0.3333
    assert zh["false_alarm_rate"] == 1.0
    assert zh["bad_other_clause_removal"] == 0.5
    # sentence 0: one clause unsupported -> not counted; sentence 1: supported by a cited one
    assert zh["citation_recall"] == 0.5
    # cited per sentence: {1} and {1, 2}; needed: {1} & {1} = 1, {1, 2} & {2} = 1 -> 2 of 3
    assert zh["citation_precision"] == pytest.approx(0.6667, abs=1e-4)
    assert zh["ms_per_answer"] == 3.0 and zh["cpu_ms_per_answer"] == 2.0
    assert zh["similarity_calls_max"] == 1 and zh["ms_max"] == 4.0


def test_cases_are_validated_with_line_numbers(tmp_path: Path) -> None:
    good = {
        "id": "a",
        "doc_id": "ddim",
        "lang": "zh",
        "answer_ok": "x",
        "answer_bad": "xy",
        "injected": "y",
        "kind": "number",
        "split": "dev",
    }
    path = tmp_path / "f.jsonl"
    lines = [good, {**good, "injected": "z"}, {**good, "lang": "fr"}, {**good, "kind": ""}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    cases, errors = load_cases(path)
    assert [c.cid for c in cases] == ["a"] and cases[0].injected_span == (1, 2)
    assert [e.split(": ", 1)[0][-2:] for e in errors] == [":2", ":3", ":4"]
    assert load_cases(path, "test")[0] == []
    all_cases, _ = load_cases(FAITHFULNESS)
    assert len(all_cases) == 273 and {c.split for c in all_cases} == {"dev", "test"}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, articles_settings, articles_index, embedder):
    out = tmp_path_factory.mktemp("faith") / "faithfulness-small"
    args = ["--format", "faithfulness", str(FAITHFULNESS), "--split", "test", "--limit", "6"]
    args += ["--index", str(articles_settings.index_dir), "--out", str(out), "--quiet"]
    return main(args, embedder=embedder), out, args


def test_a_real_run_writes_its_report(small_run) -> None:
    code, out, _ = small_run
    assert code == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["format"] == "faithfulness" and report["cases"]["evaluated"] == 6
    block = report["faithfulness"]["all"]
    assert block["cases"] == 6 and block["similarity_calls_max"] == 1
    for key in ("injected_recall", "false_removal_rate", "citation_recall", "citation_precision"):
        assert 0.0 <= block[key] <= 1.0
    assert report["model"]["threshold"] == default_model().threshold  # the packaged model's
    results = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(results) == 6 and "bad_removed" in json.loads(results[0])
    assert "## Per language" in (out / "report.md").read_text(encoding="utf-8")
    snippet = (out / "expected-scores.yaml").read_text(encoding="utf-8")
    assert "--format faithfulness" in snippet and "injected_recall" in snippet


def test_check_reruns_a_faithfulness_run(small_run, embedder, tmp_path: Path, capsys) -> None:
    _, out, args = small_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    entry = expected_block(report)
    entry["command"] = "rag eval " + " ".join(args[:7] + args[7:9])  # with its --index
    entry["name"] = "small"
    expected = tmp_path / "expected.yaml"
    expected.write_text("tolerance: 0.01\nruns:\n" + dump_block(entry), encoding="utf-8")
    code = main(["--check", str(expected), "--out", str(tmp_path / "check")], embedder=embedder)
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith(("OK", "FAIL"))]
    assert code == 0, lines
    n_scores = sum(len(v) for v in entry["scores"].values())
    assert n_scores >= 10 and len(lines) == n_scores
    assert all(x.split()[:2] == ["OK", "small"] for x in lines)
