"""The JSON cache of parsed tables: built once, read back, rebuilt when damaged, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.text.json_cache import cached_json


def _counting_build(calls: list[int]):
    def build() -> dict[str, list[str]]:
        calls.append(1)
        return {"sampling": ["采样"]}

    return build


def test_the_table_is_built_once_then_read_back(tmp_path: Path) -> None:
    calls: list[int] = []
    path = tmp_path / "sub" / "table.json"
    first = cached_json(path, _counting_build(calls), dict, dict)
    again = cached_json(path, _counting_build(calls), dict, dict)
    assert first == again == {"sampling": ["采样"]}
    assert calls == [1] and path.is_file()
    assert "采样" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    assert list(path.parent.glob("*.tmp")) == []  # written under a temporary name, then renamed


@pytest.mark.parametrize("content", ["not json", '{"wrong": "shape"}'])
def test_a_damaged_file_is_built_again_and_replaced(tmp_path: Path, content: str) -> None:
    calls: list[int] = []
    path = tmp_path / "table.json"
    path.write_text(content, encoding="utf-8")

    def from_json(data):
        return {"sampling": list(data["sampling"])}

    assert cached_json(path, _counting_build(calls), dict, from_json) == {"sampling": ["采样"]}
    assert calls == [1]
    assert cached_json(path, _counting_build(calls), dict, from_json) == {"sampling": ["采样"]}
    assert calls == [1]  # the rebuilt table replaced the damaged file


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    calls: list[int] = []
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")  # the cache's directory can't be made (even by root)
    table = cached_json(blocker / "table.json", _counting_build(calls), dict, dict)
    assert table == {"sampling": ["采样"]} and calls == [1]


def test_without_a_path_it_always_builds() -> None:
    calls: list[int] = []
    cached_json(None, _counting_build(calls), dict, dict)
    cached_json(None, _counting_build(calls), dict, dict)
    assert calls == [1, 1]
