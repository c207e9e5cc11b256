"""Check a spec's ``extra_train_args`` / ``extra_eval_args`` against the real commands.

Every step of every run is parsed by the ``xmir train`` / ``xmir eval`` command itself (its
options, types and choices) and checked by its config (ranges, rules across options), before
any run starts and also for ``--dry-run``: a typo costs one line at once instead of a failed
run each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from xmir.commands.eval import eval_command, parse_eval_options
from xmir.commands.train import parse_train_options, train_command
from xmir.errors import XmirError
from xmir.sweep.commands import run_steps
from xmir.sweep.layout import SweepLayout
from xmir.sweep.prepare import Sweep

_FIELDS = {"train": "budget.extra_train_args", "eval": "extra_eval_args"}
_CONFIGS: dict[str, Callable[[dict[str, Any]], object]] = {
    "train": parse_train_options,
    "eval": parse_eval_options,
}


def check_run_arguments(sweep: Sweep) -> None:
    """Parse the command line of every step; raise :class:`XmirError` naming the spec field
    whose arguments the command rejects."""
    commands: Any = typer.main.get_command(_run_commands())
    layout = SweepLayout(Path("OUT"))  # only the arguments matter: the paths are not read
    checked: set[tuple[str, ...]] = set()
    for run in sweep.runs:
        sources = [sweep.run(source) for source in run.sources]
        for step in run_steps(sweep.spec, run, layout, sources=sources):
            name, *args = step.args
            if tuple(step.args) in checked:
                continue
            checked.add(tuple(step.args))
            problem = _rejection(commands.commands[name], name, args)
            if problem:
                raise XmirError(
                    f"{sweep.spec.name}: {_FIELDS[name]}: `xmir {name}` rejects the arguments "
                    f"of run {run.run_id}: {problem}"
                )


def _run_commands() -> typer.Typer:
    """The two commands a run calls, exactly as ``xmir`` registers them (without importing
    the whole CLI: this module is part of it)."""
    runner = typer.Typer()
    runner.command("train")(train_command)
    runner.command("eval")(eval_command)
    return runner


def _rejection(command: Any, name: str, args: list[str]) -> str | None:
    """Click's or the config's message when ``command`` would refuse ``args``, else None."""
    try:
        context = command.make_context(f"xmir {name}", list(args), resilient_parsing=False)
        _CONFIGS[name](context.params)
    except typer.Exit:
        return "--help is not a run argument"
    except typer.TyperException as error:
        message = getattr(error, "format_message", None)
        return message() if callable(message) else str(error)
    except XmirError as error:
        return str(error)
    return None
