"""Saved prompt starts: the next process finds the rules and example already read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.llm.prompt_state import PromptStateStore, state_key

MESSAGES = [{"role": "system", "content": "只根据资料回答。"}]


def _saved(store: PromptStateStore, label: str, key: str, data: bytes) -> None:
    tmp = store.temporary(label, key)
    (store.folder / tmp).write_bytes(data)
    assert store.commit(label, key, tmp)


def test_a_committed_state_is_verified_and_replaces_the_label_s_older_one(tmp_path: Path) -> None:
    store = PromptStateStore(tmp_path / "state")
    old, new = state_key(MESSAGES, tmp_path / "a.gguf", 4096), state_key(MESSAGES, tmp_path, 512)
    _saved(store, "zh", old, b"old state")
    _saved(store, "en", old, b"other language")
    assert store.verified("zh", old) == f"zh-{old}.bin"
    _saved(store, "zh", new, b"new state")
    assert store.verified("zh", old) is None and store.verified("zh", new) == f"zh-{new}.bin"
    assert store.verified("en", old) == f"en-{old}.bin"  # another label is left alone
    assert sorted(p.name for p in store.folder.iterdir()) == sorted(
        [f"zh-{new}.bin", f"zh-{new}.json", f"en-{old}.bin", f"en-{old}.json"]
    )


def test_a_state_shorter_than_llama_cpp_wrote_is_not_kept(tmp_path: Path) -> None:
    store = PromptStateStore(tmp_path)
    key = state_key(MESSAGES, tmp_path / "m.gguf", 4096)
    tmp = store.temporary("zh", key)
    (tmp_path / tmp).write_bytes(b"x" * 900)  # the disk filled up at 900 of 1,000 bytes
    assert not store.commit("zh", key, tmp, written=1000)
    assert store.verified("zh", key) is None and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "no sidecar", "bad sidecar"])
def test_a_damaged_state_is_never_offered_for_restoring(tmp_path: Path, damage: str) -> None:
    """llama.cpp aborts the whole process on a truncated state file: only intact ones pass."""
    store = PromptStateStore(tmp_path)
    key = state_key(MESSAGES, tmp_path / "m.gguf", 4096)
    _saved(store, "zh", key, b"0123456789" * 100)
    path = tmp_path / f"zh-{key}.bin"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:500])
    elif damage == "flip":
        path.write_bytes(b"x" + path.read_bytes()[1:])
    elif damage == "no sidecar":
        path.with_suffix(".json").unlink()
    else:
        path.with_suffix(".json").write_text("{not json", encoding="utf-8")
    assert store.verified("zh", key) is None


def test_a_cache_where_no_state_can_be_saved_only_turns_saving_off(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    assert PromptStateStore.open(blocked) is None
    assert PromptStateStore.open(tmp_path / "fine").folder == tmp_path / "fine" / "llm-state"


# --------------------------------------------------------------------------- real model

_PROCESS = """
import json, sys
from rag.answer.prompt import PromptBuilder
from rag.config import Settings
from rag.llm.client import StreamState
from rag.llm.local import EmbeddedLLM

settings = Settings.load(env={}, cache_dir=sys.argv[1])
llm = EmbeddedLLM(settings)
start = PromptBuilder(settings.context_tokens, settings.history_tokens).warm_up_messages("zh")
how = llm.prime(start, "zh")
state = StreamState()
question = start[:-1] + [{"role": "user", "content": start[-1]["content"] + "DDIM 很快。</资料>"}]
"".join(llm.stream(question, max_tokens=2, temperature=0.0, state=state))
llm.close()
print(json.dumps({"how": how, "usage": state.usage}))
"""


def _one_process(cache: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _PROCESS, str(cache)],
        capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_second_process_restores_the_shared_start_instead_of_reading_it(
    tmp_path: Path, cache_dir: Path
) -> None:
    """What `rag ask` gains: its first request finds the rules and example already in the KV
    cache, although the process never read them (3-5 s of prefill on 2 cores)."""
    from rag.llm.gguf import ensure_gguf

    ensure_gguf(cache_dir, progress=False)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(cache_dir / "models")  # the 1.1 GB weights, joined once

    first = _one_process(cache)
    assert first["how"] == "read"
    saved = list((cache / "llm-state").glob("zh-*.bin"))
    assert len(saved) == 1

    second = _one_process(cache)
    assert second["how"] == "restored"
    usage = second["usage"]
    assert usage["prompt_tokens"] - usage["cached_tokens"] < 30  # only the new words were read
    assert usage["cached_tokens"] > 150

    saved[0].write_bytes(saved[0].read_bytes()[:100_000])  # a crash mid-copy, a full disk…
    third = _one_process(cache)
    assert third["how"] == "read"  # read again, not restored (llama.cpp would abort)
    assert _one_process(cache)["how"] == "restored"  # and saved whole again
