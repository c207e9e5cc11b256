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
from xmir.commands.eval import eval_command  # noqa: E402

app.command("eval")(eval_command)
from xmir.commands.train import train_command  # noqa: E402

app.command("train")(train_command)
from xmir.commands.sweep import sweep_command  # noqa: E402

app.command("sweep")(sweep_command)
from xmir.commands.report import report_command  # noqa: E402

app.command("report")(report_command)
from xmir.commands.models import models_command  # noqa: E402

app.command("models")(models_command)
