"""The report's learning-rate section: the development-split grid and the chosen settings.

Read from the study's tuning sweeps (those that evaluate on a held-out development split,
see :mod:`xmir.sweep.tuning`); the test set takes no part in any number here.
"""

from __future__ import annotations

from pathlib import Path

from xmir.models.spec import model_label
from xmir.paths import SWEEP_FILE
from xmir.records import read_json_object
from xmir.report.results import sweep_folders
from xmir.sweep.layout import SweepLayout
from xmir.sweep.tuning import CRITERION, GridRow, grid_rows, is_tuning_record


def tuning_folders(root: Path) -> list[Path]:
    """The sweep folders of ``root`` that tune on a development split."""
    return [
        f for f in sweep_folders(root) if is_tuning_record(read_json_object(f / SWEEP_FILE) or {})
    ]


def tuning_section(root: Path) -> list[str]:
    """Markdown lines: one grid table per model, the chosen setting in bold (empty when the
    study has no tuning sweep)."""
    folders = tuning_folders(root)
    planned = [
        row for folder in folders for row in grid_rows(SweepLayout(folder), with_unfinished=True)
    ]
    if not any(row.finished for row in planned):
        return []
    specs = [(read_json_object(f / SWEEP_FILE) or {}).get("spec") or {} for f in folders]
    holdout = specs[0].get("holdout") or {}
    data = specs[0].get("train_data", "the training data")
    seeds = sorted({seed for spec in specs for seed in spec.get("seeds", [])})
    lines = [
        "## Learning rate and temperature: chosen on the development split",
        "",
        f"Criterion: the {CRITERION} (about {holdout.get('fraction', 0):.0%} of {data}'s "
        f"question ids in whole articles, seed {holdout.get('seed', 0)}, held out of every "
        "run's training data); the best setting of each (size, strategy) is in bold and "
        "trains that cell's test runs. No test set takes part in any choice. Tuning seed(s): "
        f"{', '.join(map(str, seeds))}; a study's test runs should use other seeds.",
        "",
    ]
    for model in dict.fromkeys(row.model for row in planned if row.finished):
        lines += _model_table(model, [row for row in planned if row.model == model])
    return lines


def _setting(row: GridRow) -> str:
    return f"lr {row.lr:g}" + (f", T {row.temperature:g}" if row.temperature != 0.05 else "")


def _model_table(model: str, planned: list[GridRow]) -> list[str]:
    """One model's grid: a column per planned setting, a row per strategy; a strategy's
    choice is given once every setting planned for it (in any tuning sweep) has finished."""
    rows = [row for row in planned if row.finished]
    trained = [row for row in rows if row.strategy != "none"]
    settings = list(
        dict.fromkeys(_setting(r) for r in sorted(planned, key=_order) if r.strategy != "none")
    )
    untrained = next((row for row in rows if row.strategy == "none"), None)
    header = ["strategy", *settings, "chosen"]
    if not trained:  # only the untrained encoder so far
        return [f"### {model_label(model)}", "", *_untrained_line(untrained), ""]
    lines = [f"### {model_label(model)}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    notes = []
    for strategy in dict.fromkeys(row.strategy for row in trained):
        cell = {_setting(r): r for r in trained if r.strategy == strategy}
        best = max(cell.values(), key=lambda r: (r.criterion, -(r.lr or 0)))
        values = [
            "–" if s not in cell else _bold(f"{cell[s].criterion:.3f}", cell[s] is best)
            for s in settings
        ]
        wanted = {_setting(r) for r in planned if r.strategy == strategy}
        complete = wanted <= set(cell)
        lines.append(
            f"| {strategy} | "
            + " | ".join(values)
            + f" | {_setting(best) if complete else 'pending'} |"
        )
        rates = sorted({r.lr for r in cell.values() if r.lr is not None})
        if complete and len(rates) > 1 and best.lr in (rates[0], rates[-1]):
            edge = "highest" if best.lr == rates[-1] else "lowest"
            notes.append(f"{strategy}: the chosen rate is the grid's {edge}")
    lines += ["", *_untrained_line(untrained)]
    if notes:
        lines.append(
            "At the edge of the grid (a rate beyond it might do better): " + "; ".join(notes) + "."
        )
    return [*lines, ""]


def _untrained_line(untrained: GridRow | None) -> list[str]:
    if untrained is None:
        return []
    return [f"Untrained encoder on the development split: {untrained.criterion:.3f}."]


def _order(row: GridRow) -> tuple[float, float]:
    return (-(row.temperature or 0.0), row.lr or 0.0)


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text
