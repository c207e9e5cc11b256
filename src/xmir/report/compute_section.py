"""The report's compute section: the measured time of every finished run, summed per sweep.

Read from each run's own clocks (``time_s`` in its ``result.json``, one entry per step), so
a study states what it cost next to what it found, and the numbers rebuild from the
committed files alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xmir.records import read_json_object
from xmir.report.results import sweep_folders
from xmir.sweep.cost import format_duration
from xmir.sweep.layout import SweepLayout, is_finished
from xmir.sweep.run_record import RunRecord


@dataclass(frozen=True)
class SweepCompute:
    """Summed step clocks of one sweep's finished runs, in seconds."""

    name: str
    runs: int
    train_s: float
    eval_s: float

    @property
    def total_s(self) -> float:
        return self.train_s + self.eval_s


def sweep_compute(folder: Path) -> SweepCompute:
    """The finished runs of the sweep in ``folder`` and their summed training and evaluation
    clocks (a step that is neither counts as evaluation: it is the run's non-training work)."""
    layout = SweepLayout(folder)
    recorded = read_json_object(layout.sweep_file) or {}
    runs = 0
    train_s = eval_s = 0.0
    for planned in recorded.get("runs", []):
        run_id = planned["run_id"]
        if not is_finished(layout, run_id, planned.get("config_sha", "")):
            continue
        record = RunRecord.read(layout.result_file(run_id))
        if record is None:
            continue
        runs += 1
        for step, seconds in record.time_s.items():
            if step.startswith("train"):
                train_s += float(seconds)
            else:
                eval_s += float(seconds)
    return SweepCompute(str(recorded.get("name", folder.name)), runs, train_s, eval_s)


def compute_section(root: Path) -> list[str]:
    """Markdown lines: one row per sweep and the study's total (empty: nothing finished)."""
    rows = [row for row in map(sweep_compute, sweep_folders(root)) if row.runs]
    if not rows:
        return []
    lines = [
        "## Compute",
        "",
        "Measured: each finished run's own clock per step (`time_s` in its result.json), "
        "summed: wall-clock time. A run resumed from a checkpoint counts from there; a run "
        "that shared the machine with other work, or was paused, shows more time than it "
        "would take on an idle machine.",
        "",
        "| sweep | finished runs | training | evaluation | total |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [_row(row.name, row) for row in rows]
    if len(rows) > 1:
        total = SweepCompute(
            "all",
            sum(r.runs for r in rows),
            sum(r.train_s for r in rows),
            sum(r.eval_s for r in rows),
        )
        lines.append(_row("**all**", total))
    return [*lines, ""]


def _row(label: str, row: SweepCompute) -> str:
    cells = [format_duration(s) for s in (row.train_s, row.eval_s, row.total_s)]
    return f"| {label} | {row.runs} | " + " | ".join(cells) + " |"
