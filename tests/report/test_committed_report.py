"""The committed offline study's report rebuilds from its committed, compressed results alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.report.build import build_report

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "docs" / "results" / "offline-study-v2"


def test_the_report_rebuilds_from_the_committed_results(tmp_path: Path) -> None:
    if not list(STUDY.glob("*/runs/*/result.json")):
        pytest.skip("no finished run committed yet")
    report = build_report(STUDY, tmp_path / "report", html=False, n_resamples=200)
    markdown = report.markdown.read_text(encoding="utf-8")
    assert "## Answer (computed from the tables below)" in markdown
    assert report.stats is not None and report.stats.cells
