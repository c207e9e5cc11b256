"""The README's result tables are quoted from the committed reports, row for row.

A table the README quotes follows a ``<!-- numbers: PATH -->`` line naming the report; every
line of it (header, alignment and rows) must occur in that report, so a rebuilt report whose
numbers moved fails here until the README quotes it again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!-- numbers: (\S+) -->")


def quoted_tables(readme: str) -> list[tuple[str, list[str]]]:
    """(report path, table lines) for every marked table, lines stripped of indentation."""
    lines = [line.strip() for line in readme.splitlines()]
    found = []
    for index, line in enumerate(lines):
        marker = MARKER.fullmatch(line)
        if marker is None:
            continue
        rest = lines[index + 1 :]
        while rest and not rest[0]:
            rest = rest[1:]
        table = []
        for row in rest:
            if not row.startswith("|"):
                break
            table.append(row)
        found.append((marker.group(1), table))
    return found


QUOTED = quoted_tables((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_quotes_its_result_tables() -> None:
    assert QUOTED and all(len(table) >= 3 for _, table in QUOTED)


@pytest.mark.parametrize(
    ("report", "table"), QUOTED, ids=[f"{p}#{i}" for i, (p, _) in enumerate(QUOTED)]
)
def test_every_quoted_row_is_in_its_report(report: str, table: list[str]) -> None:
    source = ROOT / report
    assert source.is_file(), f"{report}: no such report"
    lines = set(source.read_text(encoding="utf-8").splitlines())
    missing = [row for row in table if row not in lines]
    assert not missing, f"not in {report}: {missing}"


def test_a_changed_number_is_caught(tmp_path: Path) -> None:
    report = ROOT / QUOTED[0][0]
    row = QUOTED[0][1][-1]
    changed = row.replace("0.", "9.", 1)
    readme = f"<!-- numbers: {report} -->\n\n{row}\n{changed}\n"
    [(_, table)] = quoted_tables(readme)
    lines = set(report.read_text(encoding="utf-8").splitlines())
    assert [r for r in table if r not in lines] == [changed]
