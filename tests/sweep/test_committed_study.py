"""The committed offline study resumes and re-reports from a fresh clone.

Its specs must still plan exactly the runs (ids and config fingerprints) recorded in the
committed sweep folders, or a resumed sweep would redo finished runs. The report's rebuild
has its own test in ``tests/report``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from committed_files import committed_copy
from xmir.commands.sweep import plan_study_sweep
from xmir.sweep.layout import FINISHED, SweepLayout, is_finished, read_status
from xmir.sweep.prepare import Sweep, plan_sweep
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


V3_SPECS = sorted((ROOT / "sweeps" / "offline-study-v3").glob("*.yaml"))
V3 = ROOT / "docs" / "results" / "offline-study-v3"


def test_v3_finished_runs_keep_their_fingerprints(tmp_path: Path) -> None:
    """Study v3 as a fresh clone has it: today's specs, planned in order (a tuned sweep takes
    its rates from the committed tuning runs, as `xmir sweep` does), find every committed
    finished run finished under its fingerprint, so a resume never redoes one."""
    study = committed_copy(V3, tmp_path / "v3")
    planned: list[Sweep] = []
    folders: list[Path] = []
    finished = 0
    for spec in [load_spec(path) for path in V3_SPECS]:
        folder = study / spec.name
        sweep = plan_study_sweep(spec, planned, folders)
        planned.append(sweep)
        folders.append(folder)
        layout = SweepLayout(folder)
        for status_file in sorted(folder.glob("runs/*/status.json")):
            run_id = status_file.parent.name
            status = read_status(layout, run_id) or {}
            if status.get("state") != FINISHED:
                continue
            assert is_finished(layout, run_id, sweep.fingerprints.get(run_id, "")), run_id
            finished += 1
    assert finished >= 69  # the tuning runs committed when this test was written
