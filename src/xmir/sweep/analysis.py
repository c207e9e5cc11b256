"""The comparisons the report makes: hybrid vs the best single strategy, and paired tests."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from xmir.sweep.aggregate import SETTINGS, Group, Summary
from xmir.sweep.results import RunResult
from xmir.sweep.stats import LogLinearFit, PairedTest, fdr_adjust, fit_log_linear, paired_test

SINGLE_STRATEGIES = ("mono", "cross")


@dataclass(frozen=True)
class GapPoint:
    """Hybrid minus the best single strategy at one model size (one seed, or the mean)."""

    model: str
    params: float
    best_single: str
    gap: float
    seed: int | None


@dataclass(frozen=True)
class GapSeries:
    """The gap across model sizes for one (dataset, setting, hybrid label, batch size)."""

    dataset: str
    setting: str
    hybrid: str
    batch_size: int | None
    points: list[GapPoint]
    fit: LogLinearFit | None

    def mean_gap(self, model: str) -> float:
        return float(np.mean([p.gap for p in self.points if p.model == model]))


def gap_series(summary: Summary) -> list[GapSeries]:
    """Gap points per seed (paired by seed where both sides have it) and their log-linear fit.

    The best single strategy is chosen per size by its mean over seeds.
    """
    series: list[GapSeries] = []
    hybrids = [label for label in summary.labels(trained_only=True) if label.startswith("hybrid")]
    for dataset in summary.datasets:
        for setting in SETTINGS:
            for hybrid in hybrids:
                for batch in summary.batch_sizes():
                    points = _gap_points(summary, dataset, setting, hybrid, batch)
                    if not points:
                        continue
                    fit = _fit([p for p in points if p.params > 0])
                    series.append(GapSeries(dataset, setting, hybrid, batch, points, fit))
    return series


def _gap_points(
    summary: Summary, dataset: str, setting: str, hybrid: str, batch: int | None
) -> list[GapPoint]:
    points: list[GapPoint] = []
    for model in summary.models:
        hybrid_group = summary.find(model, hybrid, batch)
        singles = [g for s in SINGLE_STRATEGIES if (g := summary.find(model, s, batch))]
        cells = {g: summary.cell(g, dataset, setting) for g in singles}
        singles = [g for g in singles if cells[g] is not None]
        if hybrid_group is None or not singles:
            continue
        best = max(singles, key=lambda g: cells[g].mean)  # type: ignore[union-attr]
        best_by_seed = _by_seed(summary, best, dataset, setting)
        best_mean = cells[best].mean  # type: ignore[union-attr]
        params = float(summary.params.get(model) or 0)
        for seed, value in _by_seed(summary, hybrid_group, dataset, setting).items():
            reference = best_by_seed.get(seed, best_mean)
            points.append(GapPoint(model, params, best.strategy_label, value - reference, seed))
    return points


def _by_seed(summary: Summary, group: Group, dataset: str, setting: str) -> dict[int | None, float]:
    return {
        r.seed: float(r.evals[dataset]["settings"][setting]["map"])
        for r in summary.runs(group)
        if dataset in r.evals
    }


def _fit(points: list[GapPoint]) -> LogLinearFit | None:
    if len({p.params for p in points}) < 3:
        return None  # a line through two sizes says nothing about a trend
    return fit_log_linear(np.array([p.params for p in points]), np.array([p.gap for p in points]))


@dataclass(frozen=True)
class Comparison:
    """One paired test: hybrid vs a baseline for one size, setting and dataset."""

    dataset: str
    model: str
    batch_size: int | None
    setting: str
    hybrid: str
    baseline: str
    test: PairedTest
    q_value: float = float("nan")


def paired_comparisons(summary: Summary, *, n_resamples: int = 10_000) -> list[Comparison]:
    """Hybrid vs mono and vs cross, per dataset, size, batch size and setting.

    Per-query AP is first averaged over seeds (matched by query key), so the test's unit is
    the query; Benjamini-Hochberg q-values are computed over all tests of the report.
    """
    found: list[Comparison] = []
    hybrids = [label for label in summary.labels(trained_only=True) if label.startswith("hybrid")]
    for dataset in summary.datasets:
        for model in summary.models:
            for batch in summary.batch_sizes():
                for hybrid in hybrids:
                    hybrid_group = summary.find(model, hybrid, batch)
                    if hybrid_group is None:
                        continue
                    for baseline in SINGLE_STRATEGIES:
                        other = summary.find(model, baseline, batch)
                        if other is None:
                            continue
                        for setting in SETTINGS:
                            a, b = _aligned_ap(
                                summary.runs(hybrid_group), summary.runs(other), dataset, setting
                            )
                            if a.size == 0:
                                continue
                            test = paired_test(a, b, n_resamples=n_resamples)
                            found.append(
                                Comparison(dataset, model, batch, setting, hybrid, baseline, test)
                            )
    q_values = fdr_adjust([c.test.randomisation_p for c in found])
    return [
        Comparison(c.dataset, c.model, c.batch_size, c.setting, c.hybrid, c.baseline, c.test, q)
        for c, q in zip(found, q_values, strict=True)
    ]


def seed_mean_ap(runs: list[RunResult], dataset: str, setting: str) -> dict[str, float]:
    """Per-query AP averaged over the runs (seeds), by query key; NaN where undefined."""
    table: dict[str, list[float]] = {}
    for run in runs:
        if dataset not in run.evals:
            continue
        per_query = run.evals[dataset].get("per_query") or {}
        values = per_query.get(f"{setting}_ap") or []
        for key, value in zip(per_query.get("keys", []), values, strict=False):
            table.setdefault(key, []).append(np.nan if value is None else float(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN keys stay NaN
        return {key: float(np.nanmean(values)) for key, values in table.items()}


def _aligned_ap(
    a_runs: list[RunResult], b_runs: list[RunResult], dataset: str, setting: str
) -> tuple[np.ndarray, np.ndarray]:
    a, b = seed_mean_ap(a_runs, dataset, setting), seed_mean_ap(b_runs, dataset, setting)
    keys = [k for k in a if k in b]
    return np.array([a[k] for k in keys]), np.array([b[k] for k in keys])
