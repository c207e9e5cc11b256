"""The committed offline study resumes and re-reports from a fresh clone.

Its specs must still plan exactly the runs (ids and config fingerprints) recorded in the
committed sweep folders, or a resumed sweep would redo finished runs. The report's rebuild
has its own test in ``tests/report``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xmir.sweep.layout import FINISHED, SweepLayout, is_finished, read_status
from xmir.sweep.prepare import plan_sweep
from xmir.sweep.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "sweeps" / "offline-study-v2").glob("*.yaml"))
STUDY = ROOT / "docs" / "results" / "offline-study-v2"


def test_the_study_has_its_four_specs() -> None:
    assert [p.name for p in SPECS] == [
        "1-ladder-seed1.yaml",
        "2-ladder.yaml",
        "3-alpha.yaml",
        "4-long.yaml",
    ]


@pytest.mark.parametrize("spec_file", SPECS, ids=lambda p: p.stem)
def test_committed_runs_keep_their_fingerprints(spec_file: Path) -> None:
    spec = load_spec(spec_file)
    folder = STUDY / spec.name
    if not (folder / "sweep.json").is_file():
        pytest.skip(f"{spec.name} has not started yet")
    recorded = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    sweep = plan_sweep(spec)
    assert [r["run_id"] for r in recorded["runs"]] == [r.run_id for r in sweep.runs]
    assert {r["run_id"]: r["config_sha"] for r in recorded["runs"]} == sweep.fingerprints
    layout = SweepLayout(folder)
    for run in sweep.runs:
        status = read_status(layout, run.run_id)
        if status is not None and status.get("state") == FINISHED:
            assert is_finished(layout, run.run_id, sweep.fingerprints[run.run_id]), run.run_id
            run_dir = layout.run_dir(run.run_id)
            assert not (run_dir / "model").exists()  # no weights are committed
            assert not list(run_dir.glob("eval-*.json"))  # evaluations are compressed
