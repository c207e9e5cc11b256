"""The command line as a newcomer sees it in an 80-column terminal: whole option names, a
version, short command summaries."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import xmir
from xmir.cli import app

COMMAND: Any = typer.main.get_command(app)  # a group: .commands maps names to commands
NARROW = {"COLUMNS": "80", "TERMINAL_WIDTH": "80"}


def _help(*names: str) -> str:
    result = CliRunner().invoke(app, [*names, "--help"], env=NARROW)
    assert result.exit_code == 0, result.output
    return result.output


def _option_names(command: Any) -> list[str]:
    return [
        name
        for param in command.params
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    ]


def _assert_fits(text: str) -> None:
    assert "…" not in text
    for line in text.splitlines():
        assert len(line) <= 80, line
        assert not re.search(r"--[a-z0-9-]*-$", line), f"an option name is cut: {line!r}"


@pytest.mark.parametrize("name", sorted(COMMAND.commands))
def test_every_option_name_is_whole_at_80_columns(name: str) -> None:
    text = _help(name)
    _assert_fits(text)
    for option in _option_names(COMMAND.commands[name]):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), option


def test_the_top_level_help_lists_every_command_in_full_at_80_columns() -> None:
    text = _help()
    _assert_fits(text)
    for name in COMMAND.commands:
        summary = re.search(rf"^  {name}\s+(.*)$", text, re.MULTILINE)
        assert summary and not summary.group(1).endswith("..."), name  # not cut short


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"xmir {xmir.__version__}"


@pytest.mark.parametrize("names", [(), ("eval",), ("train",), ("sweep",), ("report",)])
def test_dash_h_is_help(names: tuple[str, ...]) -> None:
    short = CliRunner().invoke(app, [*names, "-h"], env=NARROW)
    assert short.exit_code == 0, short.output
    assert short.output == _help(*names)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trian"], "No such command 'trian'. Did you mean 'train'?"),
        (["eval", "--model", "x"], "Missing option '--dataset'"),
        (["eval", "--model", "x", "--dataset", "xquad-r", "--lerning", "1"], "No such option"),
        (["train", "--model", "x", "--train-data", "y", "--out", "o", "--strategy", "z"], "'z'"),
        (["eval", "--model", "x", "--dataset", "xquad-r", "--batch-size", "two"], "'--batch-size'"),
    ],
)
def test_a_usage_error_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert message in result.output
