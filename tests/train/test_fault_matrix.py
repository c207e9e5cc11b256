"""The fault matrix of training: SIGKILL or SIGTERM while training, while a checkpoint is
written, while the final model is saved and before the record says finished; ``--resume``
then reaches exactly the weights of an uninterrupted run, and no partial file is left that
a later run would trust."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from xmir.cli import app
from xmir.train.checkpoints import list_checkpoints, verify_checkpoint

DRIVER = Path(__file__).with_name("fault_driver.py")
POINTS = ("training", "checkpoint", "final-save", "record")
SIGNALS = ("SIGKILL", "SIGTERM")


def _args(model: Path, data: Path, out: Path) -> list[str]:
    return [
        "train", "--model", str(model), "--train-data", str(data), "--train-format", "lareqa",
        "--batch-size", "4", "--steps", "6", "--save-every", "2", "--lr", "1e-3", "--seed", "7",
        "--log-every", "1", "--out", str(out),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    result = CliRunner().invoke(app, _args(tiny_model_dir, toy_data_dir, out))
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", SIGNALS)
@pytest.mark.parametrize("point", POINTS)
def test_a_killed_run_resumes_to_the_same_weights(
    point: str,
    signal_name: str,
    uninterrupted: Path,
    tiny_model_dir: Path,
    toy_data_dir: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    args = _args(tiny_model_dir, toy_data_dir, out)
    killed = subprocess.run(
        [sys.executable, str(DRIVER), point, signal_name, *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -getattr(signal, signal_name), killed.stderr[-2000:]
    record = json.loads((out / "xmir-train.json").read_text(encoding="utf-8"))
    assert record["status"] == "running"  # a later run does not take it for finished

    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    expected, got = (
        load_file(str(uninterrupted / "model.safetensors")),
        load_file(str(out / "model.safetensors")),
    )
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    record = json.loads((out / "xmir-train.json").read_text(encoding="utf-8"))
    assert record["status"] == "finished" and record["resumed_from"]
    assert (out / "batches.jsonl").read_bytes() == (uninterrupted / "batches.jsonl").read_bytes()
    checkpoints = list_checkpoints(out / "checkpoints")
    assert checkpoints and checkpoints[-1][0] == 6
    for _step, folder in checkpoints:
        verify_checkpoint(folder)  # every checkpoint a later run would use is whole
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == []
