"""Shared CLI pieces: the --languages parser used by eval and train."""

from __future__ import annotations

import pytest

from xmir.commands.common import parse_languages
from xmir.errors import XmirError


def test_parse_languages() -> None:
    assert parse_languages(None) is None
    assert parse_languages("ar, de,en") == ["ar", "de", "en"]
    with pytest.raises(XmirError, match="has an empty entry"):
        parse_languages("ar,,de")


def test_language_codes_match_case_insensitively() -> None:
    assert parse_languages("EN, De") == ["en", "de"]


def test_upper_case_languages_pass_the_command_line(toy_data: object, tmp_path: object) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from xmir.cli import app

    out = Path(str(tmp_path)) / "plan"
    args = ["train", "--model", "unused", "--train-data", str(toy_data), "--train-format"]
    args += ["lareqa", "--steps", "2", "--batch-size", "2", "--languages", "EN,DE"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "de" in result.output and "unknown language" not in result.output
