"""Generations of the local store: the newest two are kept, whatever the clock's resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.store.local.layout import current_generation
from tests.store.test_index_types import unit, write_index


def test_three_ingests_in_one_second_keep_the_newest_two(tmp_path: Path, monkeypatch) -> None:
    # the clock stands still but for microseconds: names used to tie on the second and sort by
    # their random suffix, so the collector could delete the generation readers had just opened
    ticks = iter(1_764_633_600.0 + i * 1e-5 for i in range(1000))
    monkeypatch.setattr("rag.store.local.writer.time.time", lambda: next(ticks))
    rng = np.random.default_rng(0)
    made = []
    for _ in range(3):
        write_index(tmp_path, unit(rng, 8), "Flat")
        made.append(current_generation(tmp_path).name)
    left = sorted(p.name for p in tmp_path.glob("gen-*"))
    assert left == sorted(made[1:]), (made, left)
    assert current_generation(tmp_path).name == made[-1]
