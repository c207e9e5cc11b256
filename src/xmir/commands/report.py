"""``xmir report``: tables, figures and the measured answer from a sweep folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xmir.commands.common import console, user_errors
from xmir.errors import XmirError
from xmir.output_guard import check_output_folder, is_report_folder
from xmir.report.build import build_report
from xmir.report.figures import DATASET_TITLES
from xmir.report.table import METRIC_HEADERS, MainTable, format_cell, row_label


@user_errors
def report_command(
    sweep_dir: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="A folder made by `xmir sweep` (one sweep, or a study of several)."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the report (default: DIR/report).")
    ] = None,
    html: Annotated[
        bool, typer.Option(help="Also write report.html with embedded figures.")
    ] = True,
) -> None:
    """Write the sweep report (Markdown, PNG figures, CSV, HTML) and print the main table."""
    write_and_print_report(sweep_dir, out, html=html)


def write_and_print_report(sweep_dir: Path, out: Path | None, *, html: bool = True) -> None:
    """Build the report of ``sweep_dir`` into ``out`` and print its table and answer."""
    if not Path(sweep_dir).is_dir():
        raise XmirError(f"{sweep_dir}: no such folder; give a folder made by `xmir sweep`")
    out = out if out is not None else Path(sweep_dir) / "report"
    check_output_folder(out, owned=is_report_folder, what="an xmir report")
    report = build_report(sweep_dir, out, html=html)
    if report.table is not None and report.summary is not None:
        print_main_table(report.table, many_batches=len(report.summary.batch_sizes()) > 1)
    else:
        console.print("no test run has finished yet: the report shows the tuning grid only")
    for paragraph in report.answer:
        console.print(paragraph.replace("**", ""), highlight=False)
        console.print()
    written = [report.markdown, *([report.html] if report.html else [])]
    written += [report.csv] if report.csv is not None else []
    console.print(
        f"report: {', '.join(str(p) for p in written)} and {len(report.figures)} figures",
        highlight=False,
    )


def print_main_table(table: MainTable, *, many_batches: bool) -> None:
    """Table 1 in the terminal, one table per dataset; bold green marks the best in each
    column within a model size."""
    for dataset in dict.fromkeys(d for d, _ in table.columns):
        positions = [i for i, (d, _) in enumerate(table.columns) if d == dataset]
        rich_table = Table(
            title=f"{DATASET_TITLES.get(dataset, dataset)}: mAP (mean±std over seeds); "
            "RD = rank distance, lower is better"
        )
        rich_table.add_column("size", no_wrap=True)
        rich_table.add_column("strategy", no_wrap=True)
        for i in positions:
            rich_table.add_column(
                METRIC_HEADERS[table.columns[i][1]], justify="right", no_wrap=True
            )
        previous = None
        for row in table.rows:
            cells = []
            for i in positions:
                text = format_cell(row.cells[i], table.columns[i][1], compact=True)
                cells.append(f"[bold green]{text}[/]" if row.best[i] else text)
            size = row.params if row.size != previous else ""
            rich_table.add_row(size, row_label(row, many_batches), *cells)
            previous = row.size
        console.print(rich_table)
    sizes = dict.fromkeys(f"{row.params} = {row.group.model}" for row in table.rows)
    console.print("size = non-embedding parameters: " + "; ".join(sizes), highlight=False)
