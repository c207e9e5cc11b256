"""``xmir train`` on the command line: the dry run and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app
from xmir.train.strategies import names

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
    row = rf"\b40\W+{mono}\W+{40 - mono}\W+0\W+{mono / 40:.3f}\W+4\W+2\b"  # box style varies
    assert re.search(row, result.output), result.output
    assert not (out / "xmir-train.json").exists()


def test_a_mixed_dry_run_prints_the_share_of_monolingual_pairs(
    toy_data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    extra = ("--strategy", "mixed", "--alpha", "0.5", "--dry-run", "--world-size", "2")
    result = runner.invoke(app, _args(toy_data_dir, out, *extra))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "batches.jsonl").read_text().splitlines()]
    assert {line["type"] for line in lines} == {"mixed"}
    queries = [lang for line in lines for lang in line["query_langs"]]
    passages = [lang for line in lines for lang in line["passage_langs"]]
    pairs = list(zip(queries, passages, strict=True))
    mono = sum(q == p for q, p in pairs)
    assert 0 < mono < len(pairs) == 40 * 4
    # steps, mono, cross and mixed batches, realised alpha (the monolingual pair share), sizes
    row = rf"\b40\W+0\W+0\W+40\W+{mono / len(pairs):.3f}\W+4\W+2\b"
    assert re.search(row, result.output), result.output
    assert f"{mono} of {len(pairs)} pairs monolingual" in result.output
    alpha_only = runner.invoke(app, _args(toy_data_dir, out, "--strategy", "mono", "--alpha", "1"))
    assert alpha_only.exit_code == 2
    assert "--alpha applies to --strategy hybrid or mixed only" in " ".join(
        alpha_only.output.split()
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--strategy", "random", "--dry-run"],
            "'random' is not one of " + ", ".join(f"'{name}'" for name in names()),
        ),
        (["--alpha", "1.5", "--dry-run"], "--alpha must lie in [0, 1]"),
        (["--languages", "de,fr", "--dry-run"], "unknown language code(s) fr"),
        (["--languages", "de,", "--dry-run"], "has an empty entry"),
        (["--strategy", "mono", "--batch-size", "20", "--dry-run"], "language es has only 16"),
        (["--world-size", "2"], "--world-size is for --dry-run"),
        (["--epochs", "1", "--dry-run"], "--steps or --epochs, not both"),
        (["--snapshot-at", "2,x", "--dry-run"], "--snapshot-at '2,x': expected step numbers"),
        # options that would be silently ignored
        (["--strategy", "mono", "--alpha", "0.3", "--dry-run"], "--alpha applies to --strategy"),
        (["--strategy", "cross", "--alpha", "0.5", "--dry-run"], "every cross batch is cross-"),
        (["--positive", "sentence", "--dry-run"], "--positive applies to a --train-format squad"),
        (["--max-questions", "5", "--dry-run"], "--max-questions applies to mlqa-r / xquad-r"),
        (["--warmup-steps", "1", "--warmup-ratio", "0.2"], "--warmup-steps or --warmup-ratio, not"),
        (["--eval-max-questions", "5", "--dry-run"], "sizes the --eval-every evaluation"),
        (["--eval-seed", "3", "--dry-run"], "--eval-seed draws the --eval-max-questions sample"),
        (["--resume", "--dry-run"], "--resume applies to training; a --dry-run only plans"),
        (["--report-to", "tensorboard", "--dry-run"], "--report-to applies to training"),
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
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_choices_are_case_insensitive_and_alpha_defaults_for_hybrid(
    toy_data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, _args(toy_data_dir, out, "--strategy", "MONO", "--dry-run"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (out / "batches.jsonl").read_text().splitlines()]
    assert {line["type"] for line in lines} == {"mono"}
    help_text = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "80"}).output
    assert f"<{'|'.join(names())}>" in help_text and "<auto|fp32|bf16|fp16>" in help_text


@pytest.mark.usefixtures("forbid_model_loading")
def test_an_impossible_precision_fails_before_any_model_loads(
    toy_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for precision in ("fp16", "bf16", "BF16"):
        args = _args(toy_data_dir, tmp_path / precision, "--precision", precision)
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"--precision {precision.lower()} needs a" in result.output
        assert not (tmp_path / precision).exists()  # nothing was written either


@pytest.mark.usefixtures("forbid_model_loading")
def test_a_missing_reporting_package_fails_before_any_model_loads(
    toy_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers.integrations

    monkeypatch.setattr(transformers.integrations, "is_wandb_available", lambda: False)
    result = runner.invoke(app, _args(toy_data_dir, tmp_path / "out", "--report-to", "WandB"))
    assert result.exit_code == 2, result.output
    assert "--report-to wandb needs the wandb package" in result.output


def test_dry_run_reports_the_zero_shot_guard_per_eval_set(data_dir: Path, tmp_path: Path) -> None:
    """MLQA-R against XQuAD-R: no whole-text match, but shared long runs and two shared
    Wikipedia articles, whose items are dropped and counted."""
    args = ["train", "--model", "unused", "--train-data", "mlqa-r", "--data-dir", str(data_dir)]
    args += ["--eval-data", "xquad-r", "--steps", "3", "--out", str(tmp_path / "p"), "--dry-run"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "zero-shot check against xquad-r: clean (0 exact, 0 normalised matches;" in text
    assert "shared runs of 8+ words; 2 shared article titles)" in text
    assert re.search(r"dropped \d+ training item id\(s\)", text)
