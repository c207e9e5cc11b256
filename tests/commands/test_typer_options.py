"""The options of ``xmir train`` / ``xmir eval`` come from their configs: every field is an
option with its help and default, and a command line built from field values (as a sweep
builds it) parses back to exactly those values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from xmir.cli import app
from xmir.commands.eval import parse_eval_options
from xmir.commands.train import parse_train_options
from xmir.evaluate.config import EvalConfig
from xmir.options import cli_of, command_args, option_name
from xmir.train.config import TrainConfig, TrainRunOptions

COMMANDS: dict[str, tuple[type[BaseModel], ...]] = {
    "train": (TrainConfig, TrainRunOptions),
    "eval": (EvalConfig,),
}


def _parse(name: str, args: list[str]) -> dict[str, Any]:
    """The option values Typer passes to ``xmir NAME`` for ``args``."""
    command: Any = typer.main.get_command(app)
    return command.commands[name].make_context(f"xmir {name}", args).params


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_every_option_with_its_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for model in COMMANDS[name]:
        for field_name, field in model.model_fields.items():
            if not cli_of(field).exposed:
                assert f"--{field_name.replace('_', '-')}" not in text
                continue
            option = option_name(model, field_name)
            assert option.replace("/", " / ") in text or option in text, option
            assert " ".join(str(field.description).split()) in text, field_name


def test_train_defaults_are_the_config_defaults() -> None:
    required = {"model": "m", "train_data": "mlqa-r", "out": Path("o")}
    config, run = parse_train_options(_parse("train", command_args(required, TrainConfig)))
    assert config.to_record() == TrainConfig(**required).to_record()
    assert run == TrainRunOptions()
    # options that xmir train refuses when they would do nothing: not given unless typed
    assert not {"alpha", "warmup_ratio", "holdout_seed", "eval_subset_seed"} & (
        config.model_fields_set
    )


def test_eval_defaults_are_the_config_defaults() -> None:
    config = parse_eval_options(_parse("eval", ["--model", "m", "--dataset", "XQuAD-R"]))
    assert config == EvalConfig(model="m", dataset="xquad-r")


def test_a_train_command_line_parses_back_to_its_values() -> None:
    values: dict[str, Any] = {
        "model": "e5-small-q4:layers=1",
        "train_data": "mlqa-r",
        "out": Path("runs/a"),
        "strategy": "mixed",
        "alpha": 0.25,
        "batch_size": 8,
        "steps": 8,
        "lr": 1e-4,
        "fixed_warmup_steps": 3,
        "snapshot_at": (2, 4),
        "languages": ("ar", "de"),
        "positive_unit": "sentence",
        "hard_negatives": False,
        "eval_data": "xquad-r",
        "eval_every": 2,
        "eval_max_questions": 5,
        "eval_subset_seed": 3,
        "precision": "fp32",
        "resume": True,
    }
    args = command_args(values, TrainConfig, TrainRunOptions)
    assert args[args.index("--eval-seed") + 1] == "3" and "--no-hard-negatives" in args
    config, run = parse_train_options(_parse("train", args))
    for name, value in values.items():
        assert getattr(run if name == "resume" else config, name) == value, name


def test_an_eval_command_line_parses_back_to_its_values() -> None:
    values: dict[str, Any] = {
        "model": "m",
        "dataset": "miracl",
        "corpus": "hub",
        "languages": ("de", "sw"),
        "max_topics": 3,
        "seed": 1,
        "search": "exact",
        "bm25": False,
        "keep_embeddings": False,
        "out": Path("r.json"),
    }
    args = command_args(values, EvalConfig)
    assert "--no-bm25" in args and "--drop-embeddings" in args
    config = parse_eval_options(_parse("eval", args))
    for name, value in values.items():
        assert getattr(config, name) == value, name


def test_a_command_line_names_only_options() -> None:
    with pytest.raises(ValueError, match="'adam_beta1' is not an option"):
        command_args({"adam_beta1": 0.9}, TrainConfig)
    with pytest.raises(ValueError, match="'stepz' is not an option"):
        command_args({"stepz": 3}, TrainConfig, TrainRunOptions)
    assert command_args({"steps": None, "with_context": True}, TrainConfig) == ["--with-context"]
