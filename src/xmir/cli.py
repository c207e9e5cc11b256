"""The ``xmir`` command line: one Typer app; each command lives in ``xmir.commands``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="xmir",
    help="Train and evaluate multilingual dense retrievers (hybrid batches, LAReQA, MIRACL).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Command registrations: one line per command module.
