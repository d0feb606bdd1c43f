"""The chat page: pure rendering and upload helpers, then the launched app via gradio_client.

The served app answers with the scripted OpenAI-compatible server (deterministic) or in
extractive mode; it runs on a copy of the session's articles index so uploads stay local.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.errors import BindError, UploadError
from rag.schema import Answer, Passage
from rag.ui.launch import check_bind, parse_auth
from rag.ui.model import OneAtATime
from rag.ui.render import (
    cited_numbers,
    highlight,
    linkify_citations,
    parse_ref,
    render_answer,
    render_model_status,
    render_passage,
    render_sources,
)
from rag.ui.uploads import (
    ALLOWED_EXTENSIONS,
    default_upload_dir,
    safe_filename,
    save_upload,
    save_uploads,
    validate_upload,
)
from tests.scripted_llm import Reply, ScriptedLLM


def _p(text: str, doc_id: str = "d", title: str = "Title", start: int = 0, **kw: Any) -> Passage:
    return Passage(
        text,
        doc_id,
        title,
        f"{doc_id}.md",
        f"{doc_id}#0",
        kw.pop("score", 0.03),
        start=start,
        end=start + len(text),
        **kw,
    )


# ---------------------------------------------------------------------------- highlighting
def test_highlight_marks_terms_case_insensitively_and_escapes_html() -> None:
    out = highlight("Dpo <script>alert(1)</script> 用奖励模型, DPO!", ["dpo", "奖励"])
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert out.count("<mark>") == 3
    assert "<mark>Dpo</mark>" in out and "<mark>DPO</mark>" in out and "<mark>奖励</mark>" in out


def test_highlight_does_not_light_up_inside_other_latin_words() -> None:
    assert "<mark>" not in highlight("ddpo adpo", ["dpo"])
    assert highlight("DPO的损失", ["dpo"]) == "<mark>DPO</mark>的损失"  # next to Chinese is fine
    assert "<mark>" not in highlight("a b c", ["a", "b"])  # one-letter Latin terms are noise


def test_highlight_prefers_the_longest_term() -> None:
    assert highlight("奖励模型", ["奖励", "奖励模型", "模型"]) == "<mark>奖励模型</mark>"


# ---------------------------------------------------------------------------- citations
def test_citations_become_links_to_their_passage_and_bad_numbers_stay_text() -> None:
    ps = [_p("a", "x", "X"), _p("b", "y", "Y")]
    out = linkify_citations("one [1] two [1, 2] three 【2】 four [3]", 4, ps)
    assert re.findall(r'href="#cite-4-(\d)"', out) == ["1", "1", "2", "2"]
    assert "[3]" in out and 'href="#cite-4-3"' not in out
    assert 'title="Y — y.md"' in out


def test_cited_numbers_in_order_of_first_use() -> None:
    assert cited_numbers("x [3] y [1][3] z 【2】 [9]", 3) == [3, 1, 2]


def test_parse_ref() -> None:
    assert parse_ref("12:3") == (12, 3)
    assert parse_ref(" 0 : 1 ") == (0, 1)
    assert parse_ref("") is None and parse_ref("1:0") is None and parse_ref("1:x") is None


# ---------------------------------------------------------------------------- answers
def test_answer_has_links_notice_and_timing() -> None:
    ps = [_p("DDIM 只需 20 步", "ddim", "DDIM")]
    ans = Answer(
        "DDIM 只需 20 步 [1]。",
        ps,
        ps,
        False,
        "scripted",
        timings={"first_token": 1.25, "total": 3.5},
        notice="removed citation [7]",
    )
    out = render_answer(ans, 2)
    assert '<a class="cite" href="#cite-2-1"' in out
    assert "rag-abstain" not in out
    assert 'class="rag-notice"' in out and "removed citation [7]" in out
    assert "first token 1.2 s" in out and "total 3.5 s" in out


def test_abstention_is_a_distinct_box_and_says_why() -> None:
    ans = Answer(
        "文章中没有涉及这个问题。", [], [_p("x")], True, "none", notice="not covered: weak match"
    )
    out = render_answer(ans, 0)
    assert '<div class="rag-abstain">' in out and "Not covered by the articles" in out
    assert "not covered: weak match" in out and "rag-notice" not in out
    # the model found no direct answer but quoted sentences: still a distinct box, other title
    ps = [_p("相关句子")]
    quoted = Answer("文章没有直接回答这个问题。最相关的原文：相关句子 [1]", ps, ps, True, "m")
    out = render_answer(quoted, 0)
    assert "rag-abstain" in out and "No direct answer" in out and 'href="#cite-0-1"' in out


def test_answer_text_cannot_inject_html_or_headings() -> None:
    ans = Answer("# 标题\n<img src=x onerror=alert(1)> [1]", [], [_p("x")], False, "m")
    out = render_answer(ans, 0)
    assert "<img" not in out and "&lt;img" in out
    assert "\\# 标题" in out  # a quoted Markdown heading stays text


# ---------------------------------------------------------------------------- sources + passage
def test_sources_show_cited_open_and_the_rest_collapsed_with_highlights() -> None:
    ps = [
        _p("DPO 直接优化偏好", "dpo", "DPO", score=0.0328, dense_score=0.91, bm25_score=7.5),
        _p("RLHF 需要奖励模型", "rlhf", "RLHF"),
        _p("其他内容", "o", "Other"),
    ]
    out = render_sources(ps, 1, ["dpo", "奖励"], cited=[2])
    assert out.count("<details") == 2  # passages 1 and 3 were not cited
    assert re.search(r'<div class="rag-src" id="src-1-2">.*RLHF', out)
    assert "<mark>奖励</mark>" in out and "<mark>DPO</mark>" in out
    assert "score 0.0328 · cosine 0.910 · BM25 7.50" in out and "dpo.md" in out
    assert "1 cited · 2 more retrieved" in out
    streaming = render_sources(ps, 1, [], cited=None)
    assert "<details" not in streaming and "3 passages retrieved" in streaming
    nearest = render_sources(ps, 1, [], cited=[], abstained=True)
    assert "Nearest passages" in nearest and nearest.count("<details") == 3


def test_passage_is_highlighted_inside_its_document() -> None:
    doc = "第一段。\n\nDDIM 不需要重新训练模型，只改采样。\n\n第三段。"
    text = "DDIM 不需要重新训练模型，只改采样。"
    start = doc.index(text)
    p = _p(text, "ddim", "DDIM 采样", start=start)
    out = render_passage(doc, p, 3, ["ddim", "训练"])
    focus = re.search(r'<span class="rag-passage" id="rag-focus">(.*?)</span>', out, re.S)
    assert focus and html.unescape(re.sub(r"</?mark>", "", focus.group(1))) == text
    assert "<mark>DDIM</mark>" in focus.group(1) and "<mark>训练</mark>" in focus.group(1)
    assert "第一段" in out and "第三段" in out  # surrounding article text
    assert "[3]" in out and "DDIM 采样" in out and "ddim.md" in out
    gone = render_passage(None, p, 3, [])
    assert "no longer in the index" in gone and "DDIM 不需要" in gone


def test_long_documents_show_a_window_around_the_passage() -> None:
    doc = "前" * 5000 + "PASSAGE" + "后" * 5000
    p = _p("PASSAGE", start=5000)
    out = render_passage(doc, p, 1, [], context_chars=100)
    assert out.count("前") == 100 and out.count("后") == 100 and out.count("…") == 2


def test_model_status_badge() -> None:
    assert "loading" in render_model_status("embedded", "qwen", "loading")
    assert "ready" in render_model_status("embedded", "qwen", "ready")
    assert "starts with the first question" in render_model_status("embedded", "q", "not started")
    assert "failed: boom" in render_model_status("embedded", "q", "failed: boom")
    assert "extractive" in render_model_status("none", "", None)


# ---------------------------------------------------------------------------- uploads
@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/path.md", "path.md"),
        ("a b?.md", "a_b.md"),
        ("..\\..\\win.txt", "win.txt"),
        (".bashrc.md", "bashrc.md"),
        ("笔记 (1).html", "笔记_1.html"),
        ("x" * 300 + ".md", "x" * 97 + ".md"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


@pytest.mark.parametrize("name", ["", "..", "/", "../", "???"])
def test_unusable_names_are_refused(name: str) -> None:
    with pytest.raises(UploadError):
        safe_filename(name)


def _file(tmp: Path, size: int = 20, name: str = "src.bin") -> Path:
    path = tmp / name
    path.write_bytes((b"# t\n\n" + b"x" * max(0, size - 5)) if size else b"")
    return path


def test_validate_upload_refuses_wrong_type_empty_and_oversize(tmp_path: Path) -> None:
    ok = _file(tmp_path)
    assert validate_upload(ok, "../../notes.MD", 1.0) == "notes.MD"
    for bad in ("../../etc/passwd", "run.exe", "doc.docx", "a.md.sh"):
        with pytest.raises(UploadError, match=r"only \.md"):
            validate_upload(ok, bad, 1.0)
    with pytest.raises(UploadError, match="empty"):
        validate_upload(_file(tmp_path, 0, "empty"), "e.md", 1.0)
    with pytest.raises(UploadError, match=r"over the 0\.001 MB limit"):
        validate_upload(_file(tmp_path, 1001, "big"), "big.md", 0.001)
    assert validate_upload(_file(tmp_path, 1000, "edge"), "edge.md", 0.001) == "edge.md"


def test_uploads_never_leave_the_upload_dir(tmp_path: Path) -> None:
    src_dir = tmp_path / "incoming"
    src_dir.mkdir()
    up = tmp_path / "data" / "uploads"
    outside = tmp_path / "data" / "victim.md"
    outside.parent.mkdir()
    outside.write_text("keep me", encoding="utf-8")
    files = [
        (_file(src_dir, 30, "1"), "../victim.md"),
        (_file(src_dir, 30, "2"), "/abs/path.md"),
        (_file(src_dir, 30, "3"), "a b?.md"),
        (_file(src_dir, 30, "4"), "../../etc/passwd"),
        (_file(src_dir, 30, "5"), "evil.exe"),
    ]
    saved, errors = save_uploads(files, up, max_mb=1.0)
    assert sorted(p.name for p in saved) == ["a_b.md", "path.md", "victim.md"]
    assert all(p.parent == up.resolve() for p in saved)
    assert (
        len(errors) == 2
        and any("passwd" in e for e in errors)
        and any("evil.exe" in e for e in errors)
    )
    assert outside.read_text(encoding="utf-8") == "keep me"
    every = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert every == {
        "data/victim.md",
        "data/uploads/a_b.md",
        "data/uploads/path.md",
        "data/uploads/victim.md",
        *(f"incoming/{i}" for i in "12345"),
    }


def test_saving_over_a_symlink_replaces_the_link_not_its_target(tmp_path: Path) -> None:
    up = tmp_path / "uploads"
    up.mkdir()
    target = tmp_path / "secret.md"
    target.write_text("secret", encoding="utf-8")
    (up / "x.md").symlink_to(target)
    saved = save_upload(_file(tmp_path, 30), "x.md", up)
    assert not saved.is_symlink() and saved.read_bytes().startswith(b"# t")
    assert target.read_text(encoding="utf-8") == "secret"
    with pytest.raises(UploadError):
        save_upload(_file(tmp_path, 30), "../y.md", up)


def test_default_upload_dir_is_beside_the_index() -> None:
    s = Settings.load(env={}, index_dir=Path("/srv/rag/data/index"))
    assert default_upload_dir(s) == Path("/srv/rag/data/uploads")


# ---------------------------------------------------------------------------- serving rules
def test_binding_beyond_loopback_needs_auth_or_insecure() -> None:
    assert check_bind("127.0.0.1", None, False) is None
    assert check_bind("::1", None, False) is None
    with pytest.raises(BindError, match="--auth"):
        check_bind("0.0.0.0", None, False)
    assert "WITHOUT authentication" in (check_bind("0.0.0.0", None, True) or "")
    assert "plain HTTP" in (check_bind("192.0.2.1", ("u", "p"), False) or "")
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss") and parse_auth(None) is None
    for bad in ("ann", ":x", "ann:"):
        with pytest.raises(BindError):
            parse_auth(bad)


def test_rag_ui_and_app_py_refuse_a_public_host_without_auth(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    from rag.cli import main

    assert main(["ui", "--host", "0.0.0.0"]) == 2
    assert "--auth" in capsys.readouterr().err
    spec = importlib.util.spec_from_file_location("rag_app", PROJECT_ROOT / "app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    assert app.main(["--host", "10.1.2.3", "--auth", "nopassword"]) == 2
    assert "user:password" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        app.main(["--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--host", "--port", "--auth", "--insecure", "--index"))


def test_one_at_a_time_serializes_streams() -> None:
    active, overlaps = [0], [0]

    class Slow:
        name = "slow"

        def stream(self, messages: list[dict[str, str]], **kw: Any) -> Iterator[str]:
            active[0] += 1
            overlaps[0] = max(overlaps[0], active[0])
            for piece in "abc":
                time.sleep(0.02)
                yield piece
            active[0] -= 1

    one = OneAtATime(Slow(), threading.Lock())  # type: ignore[arg-type]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append("".join(one.stream([])))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["abc"] * 3 and overlaps[0] == 1 and not one.busy


def test_preloading_the_embedded_model_shows_loading_then_ready() -> None:
    from rag.llm.local import EmbeddedLLM
    from rag.ui.chat import ChatUI
    from rag.ui.model import start_llm_in_background

    settings = Settings.load(env={})
    llm = EmbeddedLLM(settings)  # not started: the real start is replaced below
    gate = threading.Event()

    def fake_start() -> None:
        llm.status = "loading"
        gate.wait(10)
        llm.status = "ready"

    warmed = threading.Event()
    warming: list[list[dict[str, str]]] = []

    def fake_complete(messages, **kwargs):  # the warm-up's prefill of the prompts' start
        warming.append(messages)
        warmed.wait(10)

    llm.start = fake_start  # type: ignore[method-assign]
    llm.complete = fake_complete  # type: ignore[method-assign]
    assistant = SimpleNamespace(llm=llm, settings=settings)
    ui = ChatUI(assistant)  # type: ignore[arg-type]
    badge, polling = ui.model_status()
    assert "starts with the first question" in badge and not polling
    ui.preload = start_llm_in_background(assistant)  # type: ignore[arg-type]
    assert ui.preload is not None
    badge, polling = ui.model_status()
    assert "loading" in badge and polling
    gate.set()
    for _ in range(100):  # started; now warming: still "loading" until the prefill is done
        if warming:
            break
        time.sleep(0.05)
    assert llm.status == "ready" and warming
    badge, polling = ui.model_status()
    assert "loading" in badge and polling
    warmed.set()
    ui.preload.join(10)
    badge, polling = ui.model_status()
    assert "ready" in badge and not polling
    assert len(warming) == 2  # the zh and en prompts' start
    assert start_llm_in_background(assistant) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the served app
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module")
def served(
    articles_settings: Settings,
    articles_index,
    embedder,
    scripted: ScriptedLLM,
    tmp_path_factory: pytest.TempPathFactory,
):
    """The page on a free loopback port, over a private copy of the articles index."""
    from rag.api import Assistant
    from rag.llm.client import LLM
    from rag.store.factory import open_store
    from rag.ui import build_app, launch

    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(articles_settings.index_dir, root / "index")
    settings = articles_settings.replace(index_dir=root / "index")
    llm = LLM(scripted.base_url, "scripted", timeout=5.0, retries=0)
    assistant = Assistant(settings, open_store(settings), embedder, llm=llm)
    app = build_app(assistant)
    url = launch(app, settings, port=_free_port(), prevent_thread_lock=True, quiet=True)
    yield SimpleNamespace(url=url, assistant=assistant, upload_dir=root / "uploads", root=root)
    app.close()
    assistant.close()


def _client(served: SimpleNamespace) -> Any:
    from gradio_client import Client

    return Client(served.url, verbose=False)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _ask(client: Any, question: str, llm: str = "default", **kw: Any) -> Any:
    args = dict(
        chat=kw.pop("chat", []),
        mode=kw.pop("mode", "hybrid"),
        k=kw.pop("k", 5),
        llm_kind=llm,
        base_url="",
        model="",
        api_key="",
        temperature=0.1,
    )
    return client.submit(question, *args.values(), api_name="/ask")


DDIM_ANSWER = "DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果 [1]。"


def test_ask_streams_passages_then_a_cited_answer(served, scripted: ScriptedLLM) -> None:
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER))
    client = _client(served)
    job = _ask(client, "DDIM 采样需要多少步?")
    chat, sources, status, _box, badge = job.result(timeout=120)
    updates = job.outputs()
    # passages were on screen while the answer was still being written
    early = [u for u in updates if "rag-src" in u[1] and "rag-meta" not in _text(u[0][-1])]
    assert early, "sources should appear before the final answer"
    partial = [_text(u[0][-1]) for u in updates if "rag-cursor" in _text(u[0][-1])]
    assert partial and len(partial[0]) < len(_text(chat[-1])) + 40  # tokens streamed in
    final = _text(chat[-1])
    assert "DDIM 仅采样" in final and '<a class="cite" href="#cite-0-1"' in final
    assert "scripted" in final and "rag-abstain" not in final
    assert re.search(r'id="src-0-1"><div class="rag-src-head">.*DDIM', sources)
    assert "<mark>DDIM</mark>" in sources and "answered" in status
    assert "scripted (endpoint)" in badge
    assert "DDIM 采样需要多少步?" in scripted.requests[-1]["messages"][-1]["content"]

    # clicking [1] shows that passage inside its article
    shown = client.predict("0:1", api_name="/show_passage")
    passage = served.assistant.retrieve("DDIM 采样需要多少步?")[0]
    doc = served.assistant.store.document_text(passage.doc_id)
    focus = re.search(r'id="rag-focus">(.*?)</span>', shown, re.S)
    assert focus and html.unescape(re.sub(r"</?mark>", "", focus.group(1))) == passage.text
    assert doc and passage.text in doc and html.escape(passage.title, quote=False) in shown
    assert "cleared" in client.predict("7:1", api_name="/show_passage")


def test_follow_up_sends_the_conversation_and_clear_forgets_it(
    served, scripted: ScriptedLLM
) -> None:
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER))
    client = _client(served)
    chat, *_ = _ask(client, "DDIM 采样需要多少步?").result(timeout=120)
    scripted.reset()
    scripted.script(Reply("DDIM 采样需要多少步?"), Reply(DDIM_ANSWER))  # rewrite, then answer
    chat, *_ = _ask(client, "那它需要重新训练吗?", chat=chat).result(timeout=120)
    sent = " ".join(m["content"] for r in scripted.requests for m in r["messages"])
    assert "DDIM 采样需要多少步?" in sent and "DDIM 仅采样" in sent  # earlier turn went along
    assert len(chat) == 4 and 'href="#cite-1-1"' in _text(chat[-1])  # second answer is turn 1
    assert "rag-passage" in client.predict("1:1", api_name="/show_passage")

    client.predict(api_name="/clear")
    assert "cleared" in client.predict("1:1", api_name="/show_passage")
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER))
    _ask(client, "DDIM 采样需要多少步?").result(timeout=120)
    sent = [m["content"] for r in scripted.requests for m in r["messages"]]
    assert not any("那它需要重新训练吗" in m for m in sent)


def test_uncovered_question_is_an_honest_abstention(served, scripted: ScriptedLLM) -> None:
    scripted.reset()
    chat, sources, status, *_ = _ask(_client(served), "LoRA 的秩一般取多少?").result(timeout=120)
    final = _text(chat[-1])
    assert '<div class="rag-abstain">' in final and "Not covered by the articles" in final
    assert "Nearest passages" in sources and "not covered" in status
    assert scripted.requests == []


def test_llm_failure_falls_back_with_a_visible_notice(served, scripted: ScriptedLLM) -> None:
    scripted.reset()
    scripted.script(Reply(kind="status", status=500))
    chat, *_ = _ask(_client(served), "DDIM 采样需要多少步?").result(timeout=120)
    final = _text(chat[-1])
    assert 'class="rag-notice"' in final and "HTTP 500" in final
    assert "extractive" in final and 'class="cite"' in final


def test_endpoint_entered_in_the_page_is_used(served, scripted: ScriptedLLM) -> None:
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER))
    client = _client(served)
    chat, *_ = client.predict(
        "DDIM 采样需要多少步?",
        [],
        "hybrid",
        5,
        "endpoint",
        scripted.base_url,
        "my-model",
        "sk-ui-secret",
        0.3,
        api_name="/ask",
    )
    assert scripted.requests[-1]["model"] == "my-model"
    assert scripted.requests[-1]["temperature"] == pytest.approx(0.3)
    assert scripted.headers[-1]["authorization"] == "Bearer sk-ui-secret"
    assert "sk-ui-secret" not in _text(chat[-1])
    chat, *_ = client.predict(
        "DDIM 采样需要多少步?", [], "hybrid", 5, "endpoint", "", "", "", 0.3, api_name="/ask"
    )
    assert "base URL" in _text(chat[-1])


def test_two_readers_at_once_get_their_own_answers(served) -> None:
    a, b = _client(served), _client(served)
    ja = _ask(a, "FlashAttention 为什么能加速注意力计算?", llm="extractive")
    jb = _ask(
        b,
        "How many parameters does DeepSeek-V3 activate for each token?",
        llm="extractive",
        mode="bm25",
        k=3,
    )
    chat_a, src_a, *_ = ja.result(timeout=120)
    chat_b, src_b, *_ = jb.result(timeout=120)
    assert len(chat_a) == 2 and len(chat_b) == 2
    assert "FlashAttention" in src_a and "DeepSeek-V3" in src_b
    assert src_b.count('class="cite"') == 3  # top-k from the settings panel


def test_upload_then_search_finds_the_new_document(served) -> None:
    client = _client(served)
    from gradio_client import handle_file

    src = served.root / "incoming"
    src.mkdir(exist_ok=True)
    doc = src / "a b?.md"
    doc.write_text(
        "# Zorblax 量子猫\n\nZorblax 量子猫模型是一种虚构的生成模型，它用七条尾巴来采样。\n",
        encoding="utf-8",
    )
    before = served.assistant.stats()["documents"]
    report, index_html, files = client.predict([handle_file(str(doc))], api_name="/upload")
    assert "added Zorblax 量子猫" in report and not files
    assert f"<b>{before + 1}</b> documents" in index_html
    assert sorted(p.name for p in served.upload_dir.iterdir()) == ["a_b.md"]
    assert served.assistant.retrieve("Zorblax 量子猫有几条尾巴?", k=1)[0].title == "Zorblax 量子猫"
    chat, sources, *_ = _ask(client, "Zorblax 量子猫用几条尾巴采样?", llm="extractive").result(
        timeout=120
    )
    assert "Zorblax 量子猫" in sources and "七条尾巴" in _text(chat[-1])

    with pytest.raises(Exception, match="Invalid file type"):  # refused by Gradio before us
        bad = src / "evil.exe"
        bad.write_bytes(b"MZ")
        client.predict([handle_file(str(bad))], api_name="/upload")
    assert sorted(p.name for p in served.upload_dir.iterdir()) == ["a_b.md"]

    # an upload whose id collides with an article replaces it, and the page says so
    clash = src / "dpo.md"
    clash.write_text("# 我的 DPO 笔记\n\n自己写的 DPO 笔记。\n", encoding="utf-8")
    report, *_ = client.predict([handle_file(str(clash))], api_name="/upload")
    assert "replaced it" in report and "articles/dpo.md" in report


def test_allowed_extensions_match_the_loaders() -> None:
    from ingest.loaders import EXTENSIONS

    assert set(ALLOWED_EXTENSIONS) <= set(EXTENSIONS)


def test_auth_protects_the_page_and_the_api(served) -> None:
    import httpx
    from gradio_client import Client

    from rag.ui import build_app, launch

    app = build_app(served.assistant, upload_dir=served.upload_dir)
    url = launch(
        app,
        served.assistant.settings,
        port=_free_port(),
        auth=("ann", "s3cret"),
        prevent_thread_lock=True,
        quiet=True,
    )
    try:
        assert httpx.get(url + "config", timeout=10).status_code in (401, 403)
        assert httpx.post(url + "gradio_api/upload", timeout=10).status_code in (401, 403)
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            Client(url, auth=("ann", "wrong"), verbose=False)
        client = Client(url, auth=("ann", "s3cret"), verbose=False)
        shown = client.predict("0:1", api_name="/show_passage")
        assert "cleared" in shown  # reached the app: a fresh session has no citations yet
    finally:
        app.close()


def test_add_url_api_takes_only_web_addresses(served) -> None:
    """The index panel's URL box is wired (``/add_url``); the crawl itself: test_ui_web.py."""
    client = _client(served)
    report, panel = client.predict("file:///etc/passwd", api_name="/add_url")
    assert "enter an http(s):// address" in report and "documents" in panel


def test_search_api_returns_passages_without_an_answer(served, scripted: ScriptedLLM) -> None:
    scripted.reset()
    client = _client(served)
    passages = client.predict("DPO 为什么不需要奖励模型", "bm25", 3, api_name="/search")
    assert [p["doc_id"] for p in passages][:1] == ["dpo"]
    assert {"text", "title", "source", "score", "chunk_id"} <= set(passages[0])
    assert scripted.requests == []  # retrieval only: the LLM was not asked


def test_search_api_caps_k_and_refuses_k_below_one(served) -> None:
    """Issue 18: /search accepted k=1e9 (every chunk) and k=-3."""
    client = _client(served)
    assert len(client.predict("DPO 奖励模型", "bm25", 1e9, api_name="/search")) == 20
    with pytest.raises(Exception, match="k must be a number of passages from 1 to 20"):
        client.predict("DPO 奖励模型", "bm25", -3, api_name="/search")
