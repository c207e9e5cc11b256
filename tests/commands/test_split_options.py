"""``--split``/``--holdout`` on ``xmir eval`` and ``xmir train``: the dev split end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--dataset", "mlqa-r", "--holdout", "0.2"], "define a --split"),
        (["eval", "--dataset", "mlqa-r", "--holdout-seed", "1"], "define a --split"),
        (["eval", "--dataset", "miracl", "--split", "dev", "--corpus", "hub"], "--split"),
        (["train", "--train-data", "mlqa-r", "--holdout-seed", "1", "--dry-run"], "--holdout"),
        (["train", "--train-data", "mlqa-r", "--holdout", "1.5", "--dry-run"], "(0, 1)"),
    ],
)
def test_split_options_out_of_place_are_refused(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, [*args, "--model", "e5-small-q4", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_eval_on_the_dev_split_records_it(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dev.json"
    args = ["eval", "--model", str(tiny_model_dir), "--dataset", "mlqa-r", "--split", "dev"]
    args += ["--holdout", "0.15", "--languages", "en,de", "--data-dir", str(data_dir)]
    result = runner.invoke(app, [*args, "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    split = json.loads(out.read_text())["dataset"]["split"]
    assert split["split"] == "dev" and split["fraction"] == 0.15 and split["seed"] == 0
    assert split["question_ids"] == split["dev_question_ids"] > 0


def test_train_dry_run_leaves_out_the_dev_split(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    args = ["train", "--model", "e5-small-q4", "--train-data", "mlqa-r", "--dry-run"]
    args += ["--holdout", "0.15", "--data-dir", str(data_dir), "--steps", "2", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    ids = {
        item
        for line in (out / "batches.jsonl").read_text().splitlines()
        for item in json.loads(line)["item_ids"]
    }
    from xmir.data.holdout import Holdout
    from xmir.data.lareqa import load_lareqa

    dev = load_lareqa("mlqa-r", data_dir, split="dev", holdout=Holdout(0.15, 0))
    assert ids and not ids & set(dev.query_ids)
