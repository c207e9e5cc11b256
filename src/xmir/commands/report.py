"""``xmir report``: tables, figures and the measured answer from a sweep folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xmir.commands.common import console, user_errors
from xmir.sweep.table import MainTable, format_cell, row_label


@user_errors
def report_command(
    sweep_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="A folder made by `xmir sweep`.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the report (default: DIR/report).")
    ] = None,
    html: Annotated[
        bool, typer.Option(help="Also write report.html with embedded figures.")
    ] = True,
) -> None:
    """Write the sweep report (Markdown, PNG figures, CSV, HTML) and print the main table."""
    from xmir.sweep.report import build_report

    report = build_report(sweep_dir, out, html=html)
    print_main_table(report.table, many_batches=len(report.summary.batch_sizes()) > 1)
    for paragraph in report.answer:
        console.print(paragraph.replace("**", ""), highlight=False)
        console.print()
    written = [report.markdown, *([report.html] if report.html else []), report.csv]
    console.print(
        f"report: {', '.join(str(p) for p in written)} and {len(report.figures)} figures",
        highlight=False,
    )


def print_main_table(table: MainTable, *, many_batches: bool) -> None:
    """Table 1 in the terminal: bold marks the best in each column within a model size."""
    rich_table = Table(title="mAP (mean ± std over seeds); RD = rank distance, lower is better")
    for header in ("model", "strategy", *table.headers()):
        rich_table.add_column(
            header, justify="left" if header in ("model", "strategy") else "right"
        )
    previous = None
    for row in table.rows:
        cells = [
            f"[bold green]{format_cell(cell, metric)}[/]" if best else format_cell(cell, metric)
            for cell, best, (_, metric) in zip(row.cells, row.best, table.columns, strict=True)
        ]
        size = row.size if row.size != previous else ""
        rich_table.add_row(size, row_label(row, many_batches), *cells, end_section=False)
        previous = row.size
    console.print(rich_table)
