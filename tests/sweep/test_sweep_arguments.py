"""A spec's extra command-line arguments are parsed by the real commands before any run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sweep_helpers import small_spec
from typer.testing import CliRunner

from xmir.cli import app
from xmir.commands.run_arguments import check_run_arguments
from xmir.errors import XmirError
from xmir.sweep.prepare import plan_sweep
from xmir.sweep.spec import parse_spec


def _check(**changes: object) -> None:
    check_run_arguments(plan_sweep(parse_spec(small_spec(**changes))))


def test_valid_extra_arguments_pass() -> None:
    _check(
        budget={"steps": 3, "extra_train_args": ["--precision", "FP32", "--max-seq-length", "64"]},
        extra_eval_args=["--batch-size", "16", "--no-cache"],
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"budget": {"steps": 3, "extra_train_args": ["--lerning-rate", "1e-3"]}},
            r"budget\.extra_train_args: `xmir train` rejects .*No such option: --lerning-rate",
        ),
        (
            {"budget": {"steps": 3, "extra_train_args": ["--mini-batch-size", "two"]}},
            r"extra_train_args: .*Invalid value for '--mini-batch-size'",
        ),
        (
            {"extra_eval_args": ["--search", "annoy"]},
            r"extra_eval_args: `xmir eval` rejects .*'annoy' is not one of",
        ),
        ({"extra_eval_args": ["--help"]}, r"extra_eval_args: .*--help is not a run argument"),
        (
            {"extra_eval_args": ["--batch-size", "0"]},
            r"extra_eval_args: `xmir eval` rejects .*--batch-size must be >= 1, got 0",
        ),
        (
            {"budget": {"steps": 3, "extra_train_args": ["--epochs", "2"]}},
            r"budget\.extra_train_args: .*give --steps or --epochs, not both",
        ),
    ],
)
def test_a_rejected_argument_names_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(XmirError, match=message):
        _check(**changes)


def test_the_dry_run_refuses_a_typo_before_printing_a_plan(tmp_path: Path) -> None:
    spec = small_spec(budget={"steps": 3, "extra_train_args": ["--tempreature", "0.1"]})
    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(app, ["sweep", str(spec_file), "--dry-run"])
    assert result.exit_code == 2
    assert "No such option: --tempreature" in " ".join(result.output.split())
    assert "plan" not in result.output
