"""Each committed offline study's report rebuilds, byte for byte, from its committed results."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from xmir.paths import DATA_DIR_ENV
from xmir.report.build import build_report

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ("offline-study-v2", "offline-study-v3")


def _committed_copy(study: Path, into: Path) -> Path:
    """The study as committed: a sweep may be adding runs to the working copy (v3 runs in the
    background across sessions), so rebuild from the files git tracks, when git is at hand."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", str(study.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0 or not listed.stdout:
        return study  # not a git checkout: the folder is what was shipped
    for name in filter(None, listed.stdout.decode().split("\0")):
        target = into / Path(name).relative_to(study.relative_to(ROOT))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return into


@pytest.mark.parametrize("name", STUDIES)
def test_the_report_rebuilds_from_the_committed_results(
    name: str, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paragraphs of the evaluated question ids come from the dataset files (the committed
    evaluations predate recording them), so the data must be at hand."""
    study = ROOT / "docs" / "results" / name
    if not list(study.glob("*/runs/*/result.json")):
        pytest.skip("no finished run committed yet")
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    source = _committed_copy(study, tmp_path / name)
    report = build_report(source, tmp_path / "report", html=False)
    committed = (study / "report" / "report.md").read_text(encoding="utf-8")
    assert report.markdown.read_text(encoding="utf-8") == committed
    if report.stats is not None:  # a tuning-only report has no test-run statistics
        assert report.stats.cluster_kind == "paragraphs"
