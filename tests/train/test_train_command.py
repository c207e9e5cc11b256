"""``xmir train`` on the command line: the dry run and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app

runner = CliRunner()


def _args(toy_data_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train", "--model", "unused-in-a-dry-run", "--train-data", str(toy_data_dir),
        "--train-format", "lareqa", "--batch-size", "2", "--steps", "40", "--out", str(out),
        *extra,
    ]  # fmt: skip


def test_dry_run_writes_the_plan_and_prints_the_mix(toy_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(
        app, _args(toy_data_dir, out, "--dry-run", "--world-size", "2", "--alpha", "0.25")
    )
    assert result.exit_code == 0, result.output
    assert "realised batch mix" in result.output and "per language" in result.output
    assert "zero-shot check: not run" in result.output
    lines = [json.loads(line) for line in (out / "batches.jsonl").read_text().splitlines()]
    assert len(lines) == 40 * 2
    assert set(lines[0]) == {"step", "rank", "type", "query_langs", "passage_langs", "item_ids"}
    assert all(len(line["item_ids"]) == 2 for line in lines)
    mono = sum(line["type"] == "mono" for line in lines if line["rank"] == 0)
    row = rf"\b40\W+{mono}\W+{40 - mono}\W+{mono / 40:.3f}\W+4\W+2\b"  # the box style varies
    assert re.search(row, result.output), result.output
    assert not (out / "xmir-train.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--strategy", "random", "--dry-run"], "unknown strategy 'random'"),
        (["--alpha", "1.5", "--dry-run"], "--alpha must lie in [0, 1]"),
        (["--languages", "de,fr", "--dry-run"], "unknown language code(s) fr"),
        (["--languages", "de,", "--dry-run"], "has an empty entry"),
        (["--strategy", "mono", "--batch-size", "20", "--dry-run"], "language es has only 16"),
        (["--world-size", "2"], "--world-size is for --dry-run"),
        (["--epochs", "1", "--dry-run"], "--steps or --epochs, not both"),
        (["--snapshot-at", "2,x", "--dry-run"], "--snapshot-at '2,x': expected step numbers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    toy_data_dir: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    args = _args(toy_data_dir, tmp_path / "out", *extra)
    if "--batch-size" in extra:  # a later option wins
        args.remove("2")
        args.remove("--batch-size")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
