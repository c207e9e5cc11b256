"""The fault matrix of a sweep: SIGKILL or SIGTERM to the `xmir sweep` process while a run
trains, while it is evaluated and while the report is written; running the same command
again ends with the results and report of an uninterrupted sweep, and no partial file is
left that it would trust."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

RUN = "model-hybrid0.5-b4-s0"


def _spec(model: Path) -> dict[str, object]:
    return {
        "name": "faults",
        "models": [str(model)],
        "strategies": ["hybrid"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 5}],
        "budget": {"steps": 48},
        "include_untrained": False,
    }


def _command(spec: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "xmir", "sweep", str(spec), "--out", str(out)]


def _env(data_dir: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "XMIR_DATA_DIR": str(data_dir), "XMIR_CACHE_DIR": str(cache)}


def _outcome(out: Path) -> dict[str, object]:
    """What a finished sweep produced, less what differs between any two sweeps (folders,
    times, cache hits): the trained weights, the scores and the report table."""
    from xmir.records import read_json_object

    run = out / "runs" / RUN
    result, evaluation = (
        read_json_object(run / "result.json"),
        read_json_object(run / "eval-xquad-r.json"),
    )
    assert result is not None and evaluation is not None
    return {
        "config": result["config"],
        "weights": result["model"]["weights_sha256"],
        "batch_mix": result["train"]["batch_mix"],
        "scores": {k: evaluation[k] for k in ("settings", "bias", "variants", "prefixes")},
        "csv": (out / "report" / "results.csv").read_text(encoding="utf-8"),
    }


@pytest.fixture(scope="module")
def workspace(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    data = os.environ.get("XMIR_DATA_DIR")
    if not data:
        pytest.skip("XMIR_DATA_DIR is not set")
    folder = tmp_path_factory.mktemp("sweep-faults")
    spec = folder / "faults.yaml"
    spec.write_text(yaml.safe_dump(_spec(tiny_model_dir)))
    return spec, _env(Path(data).resolve(), folder / "cache")


@pytest.fixture(scope="module")
def uninterrupted(workspace: tuple[Path, dict[str, str]]) -> dict[str, object]:
    spec, env = workspace
    out = spec.parent / "uninterrupted"
    done = subprocess.run(_command(spec, out), capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return _outcome(out)


def _training(out: Path) -> bool:
    return any((out / "runs" / RUN / "model" / "checkpoints").glob("checkpoint-16/*"))


def _evaluating(out: Path) -> bool:
    log = out / "runs" / RUN / "eval-xquad-r.log"
    return log.is_file() and log.stat().st_size > 0


def _reporting(out: Path) -> bool:
    return (out / "report").is_dir()


POINTS: dict[str, Callable[[Path], bool]] = {
    "training": _training,
    "evaluation": _evaluating,
    "report": _reporting,
}


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("point", sorted(POINTS))
def test_an_interrupted_sweep_ends_as_an_uninterrupted_one(
    point: str,
    signal_name: str,
    workspace: tuple[Path, dict[str, str]],
    uninterrupted: dict[str, object],
    tmp_path: Path,
) -> None:
    spec, env = workspace
    out = tmp_path / "sweep"
    process = subprocess.Popen(
        _command(spec, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        reached = False
        while process.poll() is None:
            if POINTS[point](out):
                process.send_signal(getattr(signal, signal_name))
                reached = True
                break
            time.sleep(0.02)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert reached, f"the sweep ended before reaching {point}"
    assert process.returncode != 0
    time.sleep(0.5)  # the killed sweep's children end with it (they die with their parent)

    again = subprocess.run(
        _command(spec, out), capture_output=True, text=True, env=env, timeout=900
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert _outcome(out) == uninterrupted
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
