"""Nothing lost, clear errors: killed ingests, readers during ingest, damaged indexes, bad input,
LLM faults seen from the CLI, and secrets kept out of what users and logs see."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loaders.html import html_to_text
from ingest.loaders.jsonl import parse_jsonl
from ingest.loaders.markdown import parse_markdown
from ingest.pipeline import ingest
from rag.cli import main as rag_main
from rag.config import PROJECT_ROOT, Settings
from rag.errors import IndexCorrupt
from rag.store.local.layout import CURRENT
from rag.store.local.reader import LocalStore
from tests.conftest import ARTICLES

PICK = ["dpo.md", "ddim.md", "flashattention.md", "yolo.md"]


def quiet(msg: str) -> None:
    pass


def small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in PICK:
        shutil.copy(ARTICLES / name, folder / name)
    return folder


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(
        RAG_CACHE_DIR=str(settings.cache_dir),
        RAG_INDEX_DIR=str(settings.index_dir),
        RAG_THREADS="2",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


# ------------------------------------------------------------------------- data safety
@pytest.mark.slow
def test_sigkill_during_ingest_never_breaks_the_index(
    base_settings: Settings, embedder, tmp_path: Path
) -> None:
    settings = base_settings.replace(index_dir=tmp_path / "index")
    corpus = small_corpus(tmp_path / "corpus")
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    old_gen = (settings.index_dir / CURRENT).read_text().strip()
    # Grow the corpus so the next ingest has real work to be killed in.
    texts = [(ARTICLES / n).read_text(encoding="utf-8").split("---\n", 2)[2] for n in PICK]
    for i in range(48):
        (corpus / f"gen-{i:02d}.md").write_text(
            f"# 笔记 {i}\n\n第 {i} 篇笔记。" + texts[i % 4][: 120 + 7 * i], encoding="utf-8"
        )
    cmd = [sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--quiet"]
    rng = random.Random(7)
    for delay in (1.5, 4.0, 7.0, 10.0):
        proc = subprocess.Popen(
            cmd, env=env_for(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay + rng.uniform(0, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        store = LocalStore.open(settings.index_dir)  # always opens: old or new, never half
        try:
            docs = store.stats()["documents"]
            assert docs in (4, 52), docs
            assert store.dense_search(store.vectors[0], 1)[0][0] == 0
            if docs == 4:
                assert store.gen_dir.name == old_gen
        finally:
            store.close()
    done = subprocess.run(
        [*cmd, "--json"], env=env_for(settings), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["documents"] == 52
    store = LocalStore.open(settings.index_dir)
    assert store.stats()["documents"] == 52
    store.close()
    assert not list(settings.index_dir.glob(".gen-*.tmp"))


def test_readers_during_ingests_see_a_whole_index(
    base_settings: Settings, embedder, tmp_path: Path
) -> None:
    settings = base_settings.replace(index_dir=tmp_path / "index")
    corpus = small_corpus(tmp_path / "corpus")
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                store = LocalStore.open(settings.index_dir)
                stats = store.stats()
                ids = [i for i, _ in store.dense_search(store.vectors[0], 50)]
                assert len(store.chunks(ids)) == stats["chunks"] == len(ids)
                seen.add(stats["documents"])
                store.close()
            except BaseException as exc:  # collected and re-raised in the main thread
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(4):
            (corpus / f"extra-{i}.txt").write_text(
                f"第 {i} 个新增文档: Rectified Flow 与 ODE。", encoding="utf-8"
            )
            ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[0]
    assert len(seen) >= 2  # the reader saw old and new generations, each whole


def test_old_reader_keeps_working_after_a_new_generation(
    base_settings: Settings, embedder, tmp_path: Path
) -> None:
    settings = base_settings.replace(index_dir=tmp_path / "index")
    corpus = small_corpus(tmp_path / "corpus")
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    old = LocalStore.open(settings.index_dir)
    (corpus / "dpo.md").unlink()
    ingest([corpus], settings, progress=False, embedder=embedder, log=quiet)
    assert old.stats()["documents"] == 4 and len(old.chunks([0, 1])) == 2
    new = LocalStore.open(settings.index_dir)
    assert new.stats()["documents"] == 3
    old.close()
    new.close()


@pytest.fixture()
def built(base_settings: Settings, embedder, tmp_path: Path) -> Settings:
    settings = base_settings.replace(index_dir=tmp_path / "index")
    ingest(
        [small_corpus(tmp_path / "corpus")], settings, progress=False, embedder=embedder, log=quiet
    )
    return settings


def gen_dir(settings: Settings) -> Path:
    return settings.index_dir / (settings.index_dir / CURRENT).read_text().strip()


@pytest.mark.parametrize(
    ("damage", "file"),
    [
        ("truncate", "dense.faiss"),
        ("truncate", "chunks.sqlite"),
        ("truncate", "vectors.npy"),
        ("truncate", "sentences.npy"),
        ("delete", "sentence_spans.npy"),
        ("delete", "bm25"),
        ("delete", "manifest.json"),
        ("garble", "manifest.json"),
        ("pointer", CURRENT),
    ],
)
def test_damaged_index_gives_one_clear_error(
    built: Settings, damage: str, file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = settings_path = gen_dir(built) / file
    if file == CURRENT:
        settings_path = built.index_dir / CURRENT
        settings_path.write_text("gen-does-not-exist\n")
    elif damage == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 3])
    elif damage == "garble":
        target.write_text("{not json")
    elif target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    with pytest.raises(IndexCorrupt, match="rag ingest --rebuild"):
        LocalStore.open(built.index_dir)
    code = rag_main(["stats", "--index", str(built.index_dir)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and "rag ingest --rebuild" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_damaged_index_is_rebuilt_by_ingest(built: Settings, embedder, tmp_path: Path) -> None:
    (gen_dir(built) / "chunks.sqlite").write_bytes(b"garbage" * 10)
    report = ingest([tmp_path / "corpus"], built, progress=False, embedder=embedder, log=quiet)
    assert report.documents == 4
    store = LocalStore.open(built.index_dir)
    assert store.stats()["chunks"] == report.chunks
    store.close()


def _drop_sentence_vectors(settings: Settings) -> None:
    """Make the live generation look like an index written before sentence vectors existed."""
    gen = gen_dir(settings)
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    del manifest["sentences"]
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (gen / "sentences.npy").unlink()
    (gen / "sentence_spans.npy").unlink()


def test_index_without_sentence_vectors_still_answers_and_is_rebuilt_by_ingest(
    built: Settings, embedder, tmp_path: Path
) -> None:
    from rag.api import Assistant

    _drop_sentence_vectors(built)
    a = Assistant(built, LocalStore.open(built.index_dir), embedder, llm="none")
    passages = a.retrieve("DPO 为什么不需要奖励模型?", k=3)
    assert passages[0].doc_id == "dpo" and passages[0].sentence_score is None
    a.close()
    report = ingest([tmp_path / "corpus"], built, progress=False, embedder=embedder, log=quiet)
    assert report.rebuilt and "sentence vectors" in report.rebuild_reason
    assert report.embedded == 0  # every vector comes from the embedding cache
    store = LocalStore.open(built.index_dir)
    assert store.sentence_scores(store.vectors[0], [0])  # the new generation has them
    store.close()


def test_opening_the_default_corpus_index_adds_sentence_vectors(
    built: Settings, tmp_path: Path
) -> None:
    from rag.api import Assistant

    _drop_sentence_vectors(built)
    said: list[str] = []
    other = built.replace(corpus_dir=tmp_path / "elsewhere")  # not the corpus it was built from
    a = Assistant.open(settings=other, llm="none", progress=False, log=said.append)
    assert a.store.manifest.get("sentences") is None
    a.close()
    assert any("rag ingest" in m and "no sentence vectors" in m for m in said), said
    own = built.replace(corpus_dir=tmp_path / "corpus")
    from filelock import FileLock

    with FileLock(str(built.index_dir / ".lock")):  # another ingest holds the index
        a = Assistant.open(settings=own, llm="none", progress=False, log=said.append)
        assert a.retrieve("DPO 为什么不需要奖励模型?", k=1)[0].doc_id == "dpo"
        a.close()
    assert any("could not add sentence vectors" in m for m in said), said
    a = Assistant.open(settings=own, llm="none", progress=False, log=said.append)
    assert a.store.manifest["sentences"]["count"] > 0
    assert a.retrieve("DPO 为什么不需要奖励模型?", k=1)[0].sentence_score is not None
    a.close()
    assert any("adding sentence vectors" in m for m in said), said


def test_the_assistant_as_a_context_manager_lets_go_of_the_index(built: Settings) -> None:
    from rag.api import Assistant

    with Assistant.open(settings=built, llm="none", progress=False) as a:
        assert a.retrieve("DPO 为什么不需要奖励模型?", k=1)[0].doc_id == "dpo"
    assert a.store.vectors is None and a.store.dense is None  # closed: files released


def test_index_from_another_embedder_is_refused(built: Settings, embedder) -> None:
    from rag.api import Assistant, IndexMismatch

    manifest_path = gen_dir(built) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["embedder"]["fingerprint"] = "0123456789abcdef"
    manifest["embedder"]["name"] = "some/other-model"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match=r"some/other-model.*rag ingest --rebuild"):
        Assistant.open(settings=built, llm="none", auto_ingest=False, progress=False)


# ------------------------------------------------------------------------- bad input
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_markdown_loader_never_crashes(text: str) -> None:
    from ingest.read import LoadError

    try:
        doc = parse_markdown(text, "x.md", "x")
    except LoadError:
        return  # invalid front matter is reported, by name
    assert isinstance(doc.text, str) and doc.doc_id


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcdiv p h1 script 中文&;#x")), max_size=400))
def test_html_loader_never_crashes(html: str) -> None:
    title, text = html_to_text(html)
    assert isinstance(title, str) and isinstance(text, str)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=60), st.just('{"text": "段落", "id": "a"}')), max_size=8)
)
def test_jsonl_loader_keeps_good_lines_and_names_bad_ones(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ") for line in lines)
    docs, errors = parse_jsonl(text, "c.jsonl", "c")
    assert all(d.text for d in docs)
    assert all(e.startswith("c.jsonl:") for e in errors)


def test_whitespace_and_huge_questions_from_the_cli(
    built: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    for question, needle in (
        ("   \n\t ", "empty"),
        ("😀😀 ???", "no words"),
        ("字" * 100_000, "100,000 characters"),
    ):
        code = rag_main(["search", question, "--index", str(built.index_dir)])
        err = capsys.readouterr().err
        assert code == 1 and needle in err and "Traceback" not in err


# ------------------------------------------------------------------------- LLM faults, secrets
def test_llm_down_from_the_cli_falls_back_and_keeps_the_key_secret(
    built: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-live-SHOULD-NEVER-BE-PRINTED"
    monkeypatch.setenv("RAG_LLM_API_KEY", secret)
    monkeypatch.setenv("RAG_CACHE_DIR", str(built.cache_dir))
    code = rag_main(
        [
            "ask",
            "DDIM 采样需要多少步?",
            "--index",
            str(built.index_dir),
            "--llm-base-url",
            "http://127.0.0.1:9/v1",
            "--llm-model",
            "m",
            "--no-stream",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "cannot reach the LLM at http://127.0.0.1:9/v1" in out.err
    assert "[1]" in out.out and "Sources:" in out.out
    assert secret not in out.out + out.err
    manifest = (gen_dir(built) / "manifest.json").read_text()
    assert secret not in manifest
