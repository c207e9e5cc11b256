"""Shared pieces of the CLI commands: one-line user errors and the Rich consoles."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console

from xmir.data.datasets import POOLED, dataset_names
from xmir.errors import XmirError

if TYPE_CHECKING:
    from xmir.evaluate.result import EvalResult

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an :class:`XmirError` into one red line on stderr and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except XmirError as error:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(code=130) from None

    return wrapper


def write_and_print_result(
    result: EvalResult, out: Path | None, printer: Callable[[EvalResult], None]
) -> None:
    """Write ``result`` to ``out`` atomically (when given), then print it with ``printer``."""
    if out is not None:
        result.to_disk(out)
    printer(result)
    if out is not None:
        console.print(f"result written to {out}")


def named_dataset(value: str) -> str:
    """``MLQA-R`` -> ``mlqa-r``: dataset names match case-insensitively (a path stays as is)."""
    name = value.strip()
    if name.lower() in dataset_names(POOLED) and not Path(name).expanduser().exists():
        return name.lower()
    return value


def parse_languages(value: str | None) -> list[str] | None:
    """``"ar,DE"`` -> ``["ar", "de"]`` (language codes match case-insensitively); empty
    entries are an error."""
    if value is None:
        return None
    languages = [part.strip().lower() for part in value.split(",")]
    if not all(languages):
        raise XmirError(f"--languages {value!r} has an empty entry; use e.g. ar,de,en")
    return languages
