"""The report from a synthetic sweep whose numbers the test chose."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from synthetic_sweep import MODELS, PARAMS, per_query_ap, setting_map, spec_payload, write_sweep
from typer.testing import CliRunner

from xmir.cli import app
from xmir.errors import XmirError
from xmir.sweep.aggregate import Summary
from xmir.sweep.analysis import gap_series, paired_comparisons
from xmir.sweep.report import build_report
from xmir.sweep.results import load_results
from xmir.sweep.spec import parse_spec
from xmir.sweep.table import format_cell, main_table


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("synthetic") / "sweep")


@pytest.fixture(scope="module")
def summary(sweep_dir: Path) -> Summary:
    return Summary(load_results(sweep_dir))


def test_table_cells_are_seed_means_and_stds(summary: Summary) -> None:
    table = main_table(summary)
    assert table.headers() == ["XQuAD-R mono", "XQuAD-R cross", "XQuAD-R multi", "XQuAD-R RD ↓"]
    by_key = {(row.group.model, row.group.strategy_label): row for row in table.rows}
    assert len(table.rows) == 3 * 4
    row = by_key[(MODELS[1], "hybrid0.5")]
    values = [setting_map(1, "hybrid", seed, "cross") for seed in (0, 1)]
    cell = row.cells[1]
    assert cell is not None
    assert cell.mean == pytest.approx(np.mean(values))
    assert cell.std == pytest.approx(np.std(values, ddof=1))
    assert format_cell(cell, "cross") == f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"
    baseline = by_key[(MODELS[0], "none")].cells[0]
    assert baseline is not None and baseline.std is None and baseline.n == 1
    assert format_cell(baseline, "mono") == f"{setting_map(0, 'none', None, 'mono'):.3f}"


def test_best_per_column_within_each_size(summary: Summary) -> None:
    table = main_table(summary)
    best = {
        (row.group.model, column): row.group.strategy_label
        for row in table.rows
        for column, flag in zip(("mono", "cross", "multi", "rd"), row.best, strict=True)
        if flag
    }
    assert best[(MODELS[0], "mono")] == "mono"  # mono batches win mono retrieval at 1.8M ...
    assert best[(MODELS[2], "mono")] == "hybrid0.5"  # ... but hybrid catches up at 7.2M
    for model in MODELS:
        assert best[(model, "cross")] == "hybrid0.5"
        assert best[(model, "rd")] == "hybrid0.5"  # lowest rank distance is best


def test_gap_points_and_fit(summary: Summary) -> None:
    series = {s.setting: s for s in gap_series(summary)}
    cross = series["cross"]
    expected = [
        (
            PARAMS[m],
            setting_map(i, "hybrid", seed, "cross") - setting_map(i, "cross", seed, "cross"),
        )
        for i, m in enumerate(MODELS)
        for seed in (0, 1)
    ]
    assert [p.params for p in cross.points] == [x for x, _ in expected]
    assert [p.gap for p in cross.points] == pytest.approx([g for _, g in expected])
    assert {p.best_single for p in cross.points} == {"cross"}
    assert cross.fit is not None
    slope, intercept = np.polyfit(np.log10([x for x, _ in expected]), [g for _, g in expected], 1)
    assert (cross.fit.slope, cross.fit.intercept) == pytest.approx((slope, intercept))
    mono = series["mono"]
    assert [p.best_single for p in mono.points][:2] == ["mono", "mono"]


def test_paired_tests_use_seed_mean_per_query_ap(summary: Summary) -> None:
    comparisons = paired_comparisons(summary, n_resamples=500)
    assert len(comparisons) == 3 * 2 * 3  # sizes x baselines x settings
    chosen = next(
        c
        for c in comparisons
        if c.model == MODELS[1] and c.setting == "multi" and c.baseline == "cross"
    )
    hybrid = np.array([per_query_ap(1, "hybrid", s, "multi") for s in (0, 1)], dtype=float).mean(
        axis=0
    )
    cross = np.array([per_query_ap(1, "cross", s, "multi") for s in (0, 1)], dtype=float).mean(
        axis=0
    )
    keep = ~np.isnan(hybrid) & ~np.isnan(cross)
    assert chosen.test.n == int(keep.sum()) == 119
    assert chosen.test.mean_diff == pytest.approx(np.mean(hybrid[keep] - cross[keep]))
    assert chosen.test.t_p == pytest.approx(stats.ttest_rel(hybrid[keep], cross[keep]).pvalue)
    assert all(0.0 <= c.q_value <= 1.0 for c in comparisons)


def test_report_files(sweep_dir: Path, tmp_path: Path) -> None:
    report = build_report(sweep_dir, tmp_path / "report", n_resamples=200)
    markdown = report.markdown.read_text()
    assert "Protocol departure (offline cross-dataset zero-shot)" in markdown
    assert "el, ru, th, tr never appear in training" in markdown
    assert "first 30 question ids" in markdown
    cross = [setting_map(2, "hybrid", s, "cross") for s in (0, 1)]
    assert f"**{np.mean(cross):.3f} ± {np.std(cross, ddof=1):.3f}**" in markdown
    for figure in report.figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({figure.relative_to(tmp_path / 'report').as_posix()})" in markdown
    assert {f.name for f in report.figures} == {
        "map_vs_params.png",
        "rank_distance_vs_params.png",
        "hybrid_gap_vs_params.png",
        "cross_heatmap_xquad-r.png",
        "batch_mix.png",
    }
    assert report.html is not None
    html = report.html.read_text()
    assert html.count('src="data:image/png;base64,') == len(report.figures)
    assert "<table>" in html
    rows = list(csv.DictReader(report.csv.open()))
    assert len(rows) == 3 * (1 + 3 * 2)
    first = next(r for r in rows if r["run_id"] == "e5-small-q4-L1-mono-b16-s1")
    assert float(first["cross"]) == pytest.approx(setting_map(0, "mono", 1, "cross"))


def test_answer_is_computed_from_the_numbers(sweep_dir: Path, tmp_path: Path) -> None:
    report = build_report(sweep_dir, tmp_path / "report", html=False, n_resamples=200)
    text = "\n".join(report.answer)
    assert (
        "hybrid is significantly ahead in the monolingual setting at 7.2M, and in the "
        "cross-lingual and multilingual settings at 1.8M, 3.6M and 7.2M; significantly behind "
        "in the monolingual setting at 1.8M and 3.6M."
    ) in text
    gap = setting_map(0, "hybrid", 0, "mono") - setting_map(0, "mono", 0, "mono")
    assert f"{gap:+.4f} at 1.8M (vs mono)" in text
    assert "fine-tuning raised mean mAP in 27 of 27" in text


def test_failed_runs_are_listed_and_left_out(tmp_path: Path) -> None:
    failed = "e5-small-q4-L4-hybrid0.5-b16-s1"
    root = write_sweep(tmp_path / "sweep", skip={failed})
    results = load_results(root)
    assert failed not in {r.run_id for r in results.runs}
    assert results.failed == {failed: "boom"}
    report = build_report(root, html=False, n_resamples=100)
    assert f"- `{failed}`: failed: boom" in report.markdown.read_text()
    row = next(
        r
        for r in report.table.rows
        if r.group.model == MODELS[2] and r.group.strategy_label == "hybrid0.5"
    )
    assert row.seeds == 1


def test_two_sizes_one_seed_no_trend_is_fitted(tmp_path: Path) -> None:
    spec = parse_spec(spec_payload(models=MODELS[:2], seeds=[0]))
    report = build_report(write_sweep(tmp_path / "sweep", spec), html=False, n_resamples=100)
    text = "\n".join(report.answer)
    assert "With fewer than three sizes no trend is fitted" in text
    assert "seed-to-seed variation is not measured" in text
    assert "No trend fitted" in report.markdown.read_text()


def test_reading_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match=r"no readable sweep\.json"):
        load_results(tmp_path)
    root = write_sweep(tmp_path / "sweep", skip=None)
    for status in root.glob("runs/*/status.json"):
        status.unlink()
    with pytest.raises(XmirError, match="no finished runs yet"):
        load_results(root)


def test_report_cli_prints_the_table(sweep_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", str(sweep_dir), "--out", str(tmp_path / "r"), "--no-html"]
    )
    assert result.exit_code == 0, result.output
    assert "XQuAD-R: mAP" in result.output
    assert "hybrid0.5" in result.output
    assert (tmp_path / "r" / "report.md").is_file()
    assert not (tmp_path / "r" / "report.html").exists()
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2
