"""The committed offline study's report rebuilds, byte for byte, from its committed results."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.paths import DATA_DIR_ENV
from xmir.report.build import build_report

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "docs" / "results" / "offline-study-v2"


def test_the_report_rebuilds_from_the_committed_results(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paragraphs of the evaluated question ids come from the dataset files (the committed
    evaluations predate recording them), so the data must be at hand."""
    if not list(STUDY.glob("*/runs/*/result.json")):
        pytest.skip("no finished run committed yet")
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    report = build_report(STUDY, tmp_path / "report", html=False)
    committed = (STUDY / "report" / "report.md").read_text(encoding="utf-8")
    assert report.markdown.read_text(encoding="utf-8") == committed
    assert report.stats is not None and report.stats.cluster_kind == "paragraphs"
