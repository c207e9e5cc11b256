"""--resume continues only the same run: changed settings are refused whether the run
finished or not, nothing to resume is an error, and a sweep run saves often enough to
resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app
from xmir.errors import XmirError
from xmir.paths import TRAIN_RECORD_FILE
from xmir.sweep.commands import SWEEP_SAVE_EVERY, train_args
from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import parse_spec
from xmir.train.config import TrainConfig
from xmir.train.trainer import train


def _config(model_dir: Path, train_dir: Path, out: Path, **changes: object) -> TrainConfig:
    settings = {
        "model": str(model_dir),
        "train_data": str(train_dir),
        "train_format": "lareqa",
        "out": out,
        "batch_size": 4,
        "steps": 2,
        "lr": 1e-4,
        "save_every": 1,
        "seed": 3,
    }
    return TrainConfig(**{**settings, **changes})  # type: ignore[arg-type]


@pytest.mark.slow
def test_resume_of_a_finished_run_refuses_changed_settings(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    config = _config(tiny_model_dir, toy_data_dir, out)
    finished = train(config)
    with pytest.raises(XmirError, match=r"--resume with different settings .*: lr;"):
        train(config.replace(lr=2e-4), resume=True)
    record = json.loads((out / TRAIN_RECORD_FILE).read_text(encoding="utf-8"))
    assert record["config"]["lr"] == 1e-4 and record["finished"] == finished["finished"]
    # how often checkpoints are saved does not shape the weights: free to change
    assert train(config.replace(save_every=16), resume=True)["finished"] == finished["finished"]


def test_resume_with_nothing_to_resume_is_an_error(toy_data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (empty, tmp_path / "new"):
        args = ["train", "--model", "e5-small-q4:layers=1", "--train-data", str(toy_data_dir)]
        args += ["--train-format", "lareqa", "--steps", "2", "--out", str(out), "--resume"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "holds no training run to continue; drop --resume" in " ".join(result.output.split())
    assert list(empty.iterdir()) == [] and not (tmp_path / "new").exists()


def test_a_sweep_run_saves_checkpoints_often_enough_to_resume() -> None:
    run = PlannedRun("m-mono-b4-s0", "e5-small-q4:layers=1", "m", "mono", None, 4, 0)
    for steps, expected in ((64, SWEEP_SAVE_EVERY), (3, 3)):
        spec = parse_spec(
            {
                "name": "tiny",
                "models": ["e5-small-q4:layers=1"],
                "strategies": ["mono"],
                "batch_sizes": [4],
                "seeds": [0],
                "train_data": "mlqa-r",
                "eval": [{"dataset": "xquad-r"}],
                "budget": {"steps": steps},
            }
        )
        args = train_args(spec, run, Path("model"))
        assert int(args[args.index("--save-every") + 1]) == expected
    assert SWEEP_SAVE_EVERY <= 16
