"""The report's compute section sums each finished run's own step clocks."""

from __future__ import annotations

from pathlib import Path

from synthetic_sweep import MODELS, run_clocks, write_sweep

from xmir.report.build import build_report
from xmir.report.compute_section import compute_section, sweep_compute
from xmir.sweep.cost import format_duration


def test_clocks_of_finished_runs_are_summed(tmp_path: Path) -> None:
    failed = "e5-small-q4-L4-hybrid0.5-b16-s1"
    root = write_sweep(tmp_path / "sweep", skip={failed})
    # 3 sizes x (untrained + mono, cross, hybrid x seeds 0 and 1), one run failed.
    trained = [(size, seed) for size in range(len(MODELS)) for _ in range(3) for seed in (0, 1)]
    trained.remove((2, 1))
    train = sum(run_clocks(size, False)["train"] for size, _ in trained)
    evaluation = 20.5 * (len(trained) + len(MODELS))
    compute = sweep_compute(root)
    assert compute.runs == len(trained) + len(MODELS)
    assert compute.train_s == train and compute.eval_s == evaluation
    lines = compute_section(root)
    row = f"| synthetic | {compute.runs} | {format_duration(train)} | "
    assert any(line.startswith(row) for line in lines)
    assert "**all**" not in "\n".join(lines)  # one sweep: no total row
    assert "## Compute" in build_report(root, html=False).markdown.read_text()


def test_a_study_gets_a_total_row(tmp_path: Path) -> None:
    write_sweep(tmp_path / "study" / "a")
    write_sweep(tmp_path / "study" / "b")
    one = sweep_compute(tmp_path / "study" / "a")
    total = format_duration(2 * one.total_s)
    lines = compute_section(tmp_path / "study")
    assert lines[-2].startswith(f"| **all** | {2 * one.runs} |") and lines[-2].endswith(
        f" | {total} |"
    )


def test_nothing_finished_means_no_section(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "sweep", skip=set())
    for status in root.glob("runs/*/status.json"):
        status.write_text('{"state": "running"}')
    assert compute_section(root) == []
