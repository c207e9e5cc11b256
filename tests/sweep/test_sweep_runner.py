"""The runner with a fake, fast ``xmir``: layout, skip/redo, failures, kills, shards, locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from sweep_helpers import FAKE_CLI, small_spec

from xmir.errors import XmirError
from xmir.sweep.layout import SweepLayout, read_status, write_status
from xmir.sweep.prepare import Sweep, plan_sweep, prepare_output
from xmir.sweep.runner import RunnerOptions, _run_lock, run_sweep
from xmir.sweep.spec import parse_spec

HERE = Path(__file__).parent
EXPECTED_IDS = [
    "e5-small-q4-L1-none",
    "e5-small-q4-L1-mono-b4-s0",
    "e5-small-q4-L1-hybrid0.5-b4-s0",
    "e5-small-q4-L2-none",
    "e5-small-q4-L2-mono-b4-s0",
    "e5-small-q4-L2-hybrid0.5-b4-s0",
]


@pytest.fixture
def fake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Log every fake call to a file; returns the log path."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_XMIR_LOG", str(log))
    for name in (
        "FAKE_XMIR_SLEEP",
        "FAKE_XMIR_FAIL",
        "FAKE_XMIR_BOX",
        "FAKE_XMIR_PIDS",
        "FAKE_XMIR_HANG",
        "FAKE_XMIR_CORRUPT",
        "FAKE_XMIR_HANG_AFTER",
    ):
        monkeypatch.delenv(name, raising=False)
    return log


def _calls(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines()) if log.exists() else Counter()


def _run(
    spec: dict[str, Any], out: Path, **options: Any
) -> tuple[Sweep, SweepLayout, dict[str, str]]:
    sweep = plan_sweep(parse_spec(spec))
    layout = prepare_output(sweep, out)
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI, **options))
    return sweep, layout, {o.run_id: o.state for o in outcomes}


def test_a_sweep_runs_every_run_once_and_writes_the_layout(tmp_path: Path, fake_env: Path) -> None:
    _, layout, states = _run(small_spec(), tmp_path / "out")
    assert list(states) == EXPECTED_IDS
    assert set(states.values()) == {"finished"}
    recorded = json.loads(layout.sweep_file.read_text())
    assert [r["run_id"] for r in recorded["runs"]] == EXPECTED_IDS
    hybrid = layout.run_dir("e5-small-q4-L2-hybrid0.5-b4-s0")
    assert sorted(p.name for p in hybrid.iterdir()) == [
        "eval-xquad-r.json.gz",
        "eval-xquad-r.log.gz",
        "result.json",
        "status.json",
        "train",
        "train.log.gz",
    ]
    assert sorted(p.name for p in (hybrid / "train").iterdir()) == [
        "batches.jsonl.gz",
        "xmir-train.json.gz",
    ]
    result = json.loads((hybrid / "result.json").read_text())
    assert result["config"]["alpha"] == 0.5
    assert result["strategy_label"] == "hybrid0.5"
    assert result["model"]["non_embedding_params"] == 200
    assert result["model"]["spec"] == "e5-small-q4:layers=2"  # not the deleted weights folder
    assert result["model"]["evaluated_path"] == str(hybrid / "model")
    assert result["model"]["description"].endswith("fine-tuned (hybrid0.5)")
    assert result["train"]["batch_mix"]["steps"] == 3
    assert result["train"]["batch_mix"]["mono_share"] == pytest.approx(2 / 3)
    status = read_status(layout, "e5-small-q4-L2-hybrid0.5-b4-s0")
    assert status is not None and status["state"] == "finished"
    assert status["commands"][0].startswith("xmir train --model e5-small-q4:layers=2 ")
    assert status["commands"][1].startswith("xmir eval --model ")
    baseline = layout.run_dir("e5-small-q4-L1-none")
    assert not (baseline / "train").exists()
    calls = _calls(fake_env)
    assert calls["train e5-small-q4-L1-mono-b4-s0"] == 1
    assert calls["eval e5-small-q4-L1-none"] == 1
    assert "train e5-small-q4-L1-none" not in calls
    assert sum(calls.values()) == 4 * 2 + 2


def test_rerunning_skips_finished_runs(tmp_path: Path, fake_env: Path) -> None:
    _run(small_spec(), tmp_path / "out")
    before = _calls(fake_env)
    _, _, states = _run(small_spec(), tmp_path / "out")
    assert set(states.values()) == {"skipped"}
    assert _calls(fake_env) == before


def test_unfinished_runs_are_redone_and_finished_ones_kept(tmp_path: Path, fake_env: Path) -> None:
    _, layout, _ = _run(small_spec(), tmp_path / "out")
    interrupted, torn, running = EXPECTED_IDS[1], EXPECTED_IDS[2], EXPECTED_IDS[4]
    status = read_status(layout, interrupted)
    write_status(layout, interrupted, {**status, "state": "interrupted"})  # type: ignore[dict-item]
    layout.result_file(torn).write_text('{"half": ')  # a torn result never counts
    write_status(layout, running, {**read_status(layout, running), "state": "running"})  # type: ignore[dict-item]
    stale = layout.run_dir(interrupted) / "stale-file"
    stale.write_text("from the cut-off attempt")
    before = _calls(fake_env)
    _, _, states = _run(small_spec(), tmp_path / "out")
    redone = {interrupted, torn, running}
    assert {rid for rid, state in states.items() if state == "finished"} == redone
    assert {rid for rid, state in states.items() if state == "skipped"} == set(
        EXPECTED_IDS
    ) - redone
    assert not stale.exists()  # a redo starts from an empty run folder
    new_calls = _calls(fake_env) - before
    assert set(new_calls) == {f"{c} {rid}" for rid in redone for c in ("train", "eval")}


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "e5-small-q4-L1-hybrid0.5-b4-s0"
    monkeypatch.setenv("FAKE_XMIR_FAIL", broken)
    _, layout, states = _run(small_spec(), tmp_path / "out")
    assert states[broken] == "failed"
    assert [s for r, s in states.items() if r != broken] == ["finished"] * 5
    status = read_status(layout, broken)
    assert status is not None and status["state"] == "failed"
    assert status["step"] == "train"
    assert status["error"] == f"train exited with 2: error: train failed on purpose for {broken}"
    monkeypatch.delenv("FAKE_XMIR_FAIL")
    _, _, states = _run(small_spec(), tmp_path / "out")
    assert states[broken] == "finished"
    assert [s for r, s in states.items() if r != broken] == ["skipped"] * 5


def test_a_failed_run_records_the_message_inside_an_error_box(
    tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "e5-small-q4-L2-mono-b4-s0"
    monkeypatch.setenv("FAKE_XMIR_BOX", broken)
    _, layout, states = _run(small_spec(), tmp_path / "out")
    assert states[broken] == "failed"
    status = read_status(layout, broken)
    assert status is not None
    assert status["error"] == (
        "train exited with 2: No such option: --lerning-rate Did you mean --learning-rate?"
    )


def test_unreadable_training_records_fail_only_that_run(
    tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "e5-small-q4-L2-mono-b4-s0"
    monkeypatch.setenv("FAKE_XMIR_CORRUPT", broken)
    _, layout, states = _run(small_spec(), tmp_path / "out")
    assert states[broken] == "failed"
    assert list(states.values()).count("finished") == 5
    status = read_status(layout, broken)
    assert status is not None and status["step"] == "collect"
    assert "batches.jsonl:4: not a batches.jsonl record" in status["error"]
    assert not (layout.run_dir(broken) / "model").exists()


def test_model_weights_are_deleted_unless_kept(tmp_path: Path, fake_env: Path) -> None:
    _, layout, _ = _run(small_spec(), tmp_path / "dropped")
    assert not (layout.run_dir(EXPECTED_IDS[1]) / "model").exists()
    _, layout, _ = _run(small_spec(), tmp_path / "kept", keep_models=True)
    assert (layout.run_dir(EXPECTED_IDS[1]) / "model" / "model.safetensors").is_file()


def test_a_changed_spec_is_refused_in_an_old_folder(tmp_path: Path, fake_env: Path) -> None:
    _run(small_spec(), tmp_path / "out")
    changed = plan_sweep(parse_spec(small_spec(budget={"steps": 5})))
    with pytest.raises(XmirError, match="finished with a different budget; use a new --out"):
        prepare_output(changed, tmp_path / "out")
    renamed = plan_sweep(
        parse_spec(
            small_spec(name="other", include_untrained=False, models=["e5-small-q4:layers=4"])
        )
    )
    with pytest.raises(XmirError, match="holds sweep 'tiny', not 'other'"):
        prepare_output(renamed, tmp_path / "out")


def test_a_run_locked_by_another_process_is_left_alone(tmp_path: Path, fake_env: Path) -> None:
    sweep = plan_sweep(parse_spec(small_spec()))
    layout = prepare_output(sweep, tmp_path / "out")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(layout.lock_file(EXPECTED_IDS[0])),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
        assert outcomes[0].state == "busy"
        assert all(o.state == "finished" for o in outcomes[1:])
    finally:
        holder.kill()
        holder.wait()
    with _run_lock(layout.lock_file(EXPECTED_IDS[0])) as locked:  # the kernel released it
        assert locked


def _write_spec(tmp_path: Path, spec: dict[str, Any]) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _driver(
    spec_file: Path, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "drive_sweep.py"), str(spec_file), str(out), *extra],
        env={**os.environ, **(env or {}), "PYTHONPATH": _with_here(os.environ.get("PYTHONPATH"))},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _with_here(pythonpath: str | None) -> str:
    """This folder (for sweep_helpers) ahead of any path that selects the xmir under test."""
    return os.pathsep.join([str(HERE), *([pythonpath] if pythonpath else [])])


def _wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only"
)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_the_sweep_loses_at_most_the_run_in_progress(
    tmp_path: Path, fake_env: Path, how: signal.Signals
) -> None:
    spec_file, out, pids = _write_spec(tmp_path, small_spec()), tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    layout = SweepLayout(out)
    victim = EXPECTED_IDS[2]
    sweep = _driver(spec_file, out, env={"FAKE_XMIR_HANG": victim, "FAKE_XMIR_PIDS": str(pids)})
    _wait_for(lambda: (read_status(layout, victim) or {}).get("state") == "running")
    _wait_for(lambda: any(p.read_text() == victim for p in pids.glob("*.pid")))
    child = next(int(p.stem) for p in pids.glob("*.pid") if p.read_text() == victim)
    sweep.send_signal(how)
    sweep.wait(timeout=30)
    _wait_for(lambda: not _alive(child), timeout=10)  # it hangs for 60 s unless it is stopped
    assert sweep.returncode != 0
    states = {rid: (read_status(layout, rid) or {}).get("state") for rid in EXPECTED_IDS}
    assert states[EXPECTED_IDS[0]] == states[EXPECTED_IDS[1]] == "finished"
    assert states[victim] == ("running" if how == signal.SIGKILL else "interrupted")
    assert all(states[rid] is None for rid in EXPECTED_IDS[3:])
    before = _calls(fake_env)
    rerun = _driver(spec_file, out)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"{EXPECTED_IDS[0]}=skipped {EXPECTED_IDS[1]}=skipped {victim}=finished" in stdout
    new_calls = _calls(fake_env) - before
    assert not any(call.endswith((EXPECTED_IDS[0], EXPECTED_IDS[1])) for call in new_calls)
    assert all((read_status(layout, rid) or {}).get("state") == "finished" for rid in EXPECTED_IDS)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only"
)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_while_training_resumes_from_its_last_checkpoint(
    tmp_path: Path, fake_env: Path, how: signal.Signals
) -> None:
    spec_file, out, pids = _write_spec(tmp_path, small_spec()), tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    layout = SweepLayout(out)
    victim = EXPECTED_IDS[2]  # 3 steps: killed after writing checkpoint-2
    checkpoints = layout.run_dir(victim) / "model" / "checkpoints"
    env = {"FAKE_XMIR_HANG_AFTER": f"{victim}@2", "FAKE_XMIR_PIDS": str(pids)}
    sweep = _driver(spec_file, out, env=env)
    _wait_for(lambda: (checkpoints / "checkpoint-2" / "xmir-checkpoint.json").is_file())
    sweep.send_signal(how)
    sweep.wait(timeout=30)
    assert (read_status(layout, victim) or {}).get("state") in ("running", "interrupted")
    before = _calls(fake_env)
    rerun = _driver(spec_file, out)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"{victim}=finished" in stdout
    new_calls = _calls(fake_env) - before
    assert new_calls[f"resume {victim} from 2"] == 1  # continued, not restarted from step 0
    assert new_calls[f"train {victim}"] == 1
    status = read_status(layout, victim)
    assert status is not None and status["state"] == "finished"
    assert status["resumed_from"] == "checkpoint-2"
    assert " --resume" in status["commands"][0]
    assert (layout.run_dir(victim) / "train.log.gz").is_file()  # both attempts' log kept
    assert all((read_status(layout, rid) or {}).get("state") == "finished" for rid in EXPECTED_IDS)


def test_a_failed_or_changed_run_is_not_resumed(tmp_path: Path, fake_env: Path) -> None:
    _, layout, _ = _run(small_spec(), tmp_path / "out", keep_models=True)
    failed, changed = EXPECTED_IDS[1], EXPECTED_IDS[2]
    write_status(layout, failed, {**read_status(layout, failed), "state": "failed"})  # type: ignore[dict-item]
    write_status(
        layout,
        changed,
        {**read_status(layout, changed), "state": "interrupted", "config_sha": "x"},  # type: ignore[dict-item]
    )
    before = _calls(fake_env)
    _, _, states = _run(small_spec(), tmp_path / "out")
    assert states[failed] == states[changed] == "finished"
    assert not any(call.startswith("resume") for call in _calls(fake_env) - before)
    for run_id in (failed, changed):
        assert "resumed_from" not in (read_status(layout, run_id) or {})


def test_shards_run_in_parallel_cover_the_sweep_once(tmp_path: Path, fake_env: Path) -> None:
    spec_file, out = _write_spec(tmp_path, small_spec()), tmp_path / "out"
    drivers = [_driver(spec_file, out, f"{i}/3") for i in range(3)]
    outputs = [d.communicate(timeout=120) for d in drivers]
    assert all(d.returncode == 0 for d in drivers), [o[1] for o in outputs]
    calls = _calls(fake_env)
    for run_id in EXPECTED_IDS:
        assert calls[f"eval {run_id}"] == 1
    finished = [item for stdout, _ in outputs for item in stdout.split()]
    assert sorted(finished) == sorted(f"{rid}=finished" for rid in EXPECTED_IDS)


def test_budgets_are_evaluated_from_snapshots_of_one_run(tmp_path: Path, fake_env: Path) -> None:
    spec = small_spec(
        budget={"steps": 4, "eval_at": [2], "lr_schedule": "constant", "warmup_steps": 1}
    )
    _, layout, states = _run(spec, tmp_path / "out")
    assert set(states.values()) == {"finished"}
    run_id = "e5-small-q4-L2-hybrid0.5-b4-s0"
    result = json.loads(layout.result_file(run_id).read_text())
    assert result["budgets"] == {
        "2": {"xquad-r": "eval-xquad-r@2.json"},
        "4": {"xquad-r": "eval-xquad-r.json"},
    }
    status = read_status(layout, run_id)
    assert status is not None
    train_command = status["commands"][0]
    assert "--snapshot-at 2" in train_command and "--lr-schedule constant" in train_command
    assert "--warmup-steps 1" in train_command
    assert any("snapshots/step-2" in c for c in status["commands"][1:])
    # Two different evaluations: the snapshot and the final model are not the same weights.
    from xmir.records import read_json_object

    short = read_json_object(layout.run_dir(run_id) / "eval-xquad-r@2.json")
    final = read_json_object(layout.run_dir(run_id) / "eval-xquad-r.json")
    assert short is not None and final is not None
    assert short["settings"]["mono"]["map"] != final["settings"]["mono"]["map"]
    baseline = json.loads(layout.result_file("e5-small-q4-L2-none").read_text())
    assert baseline["budgets"] == {}
    assert _calls(fake_env)[f"eval {run_id}"] == 2


def test_eval_at_needs_a_constant_rate_and_earlier_steps() -> None:
    with pytest.raises(XmirError, match="eval_at needs lr_schedule: constant"):
        parse_spec(small_spec(budget={"steps": 4, "eval_at": [2]}))
    with pytest.raises(XmirError, match="is not below steps"):
        parse_spec(small_spec(budget={"steps": 4, "eval_at": [4], "lr_schedule": "constant"}))
