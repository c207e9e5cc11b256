"""The ``xmir`` command line: one Typer app; each command lives in ``xmir.commands``.

Help is Click's plain formatter (``rich_markup_mode=None``): it wraps option help under
whole option names at any terminal width, where Rich's option table cuts names at 80 columns.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

import xmir


class XmirGroup(TyperGroup):
    """The command group: a mistyped or missing option is reported in one line (exit 2),
    like every other user error, instead of Click's usage block."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as error:
            raise _one_line(error) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as error:
            raise _one_line(error) from None


def _one_line(error: typer.TyperException) -> typer.TyperException:
    """Give a usage error (exit code 2) a one-line ``show``; others pass unchanged."""
    format_message = getattr(error, "format_message", None)
    if getattr(error, "exit_code", None) != 2 or not callable(format_message):
        return error
    message = " ".join(str(format_message()).split())

    def show(file: Any = None) -> None:
        typer.echo(f"error: {message} (see --help)", err=True)

    error.show = show  # type: ignore[attr-defined]
    return error


app = typer.Typer(
    cls=XmirGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
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
