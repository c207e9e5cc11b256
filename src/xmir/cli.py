"""The ``xmir`` command line: one Typer app; each command lives in ``xmir.commands``.

Help is Click's plain formatter (``rich_markup_mode=None``): it wraps option help under
whole option names at any terminal width, where Rich's option table cuts names at 80 columns.
"""

from __future__ import annotations

from typing import Annotated

import typer

import xmir

app = typer.Typer(
    name="xmir",
    help="Train and evaluate multilingual dense retrievers (hybrid batches, LAReQA, MIRACL).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xmir {xmir.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            show_default=False,
            help="Print the xmir version and exit.",
        ),
    ] = False,
) -> None:
    """Train and evaluate multilingual dense retrievers (hybrid batches, LAReQA, MIRACL)."""


# Command registrations: one line per command module.
from xmir.commands.eval import eval_command  # noqa: E402

app.command("eval", short_help="Evaluate an encoder zero-shot on XQuAD-R, MLQA-R or MIRACL.")(
    eval_command
)
from xmir.commands.train import train_command  # noqa: E402

app.command("train", short_help="Fine-tune an encoder with mono, cross or hybrid batches.")(
    train_command
)
from xmir.commands.sweep import sweep_command  # noqa: E402

app.command("sweep", short_help="Run a resumable scaling sweep, then write its report.")(
    sweep_command
)
from xmir.commands.report import report_command  # noqa: E402

app.command("report", short_help="Write the report of a sweep folder.")(report_command)
from xmir.commands.models import models_command  # noqa: E402

app.command("models", short_help="List the named encoders and the size ladders.")(models_command)
