"""Coverage of the report's intervals on simulated studies with a known truth, and the
committed table in docs/coverage.md is what the simulation gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.report.stats.coverage import SETTINGS, coverage, table

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("seeds", [2, 3, 5])
def test_intervals_cover_the_truth(seeds: int) -> None:
    found = coverage(seeds)
    assert found.studies >= 1000
    for setting in SETTINGS:
        assert 0.93 <= found.differences[setting] <= 0.975, (setting, found)
    assert found.standing >= 0.90
    assert 0.7 <= found.seed_share <= 0.9  # training noise dominates, as in the study


def test_the_committed_table_is_reproduced() -> None:
    assert (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8") == table()
