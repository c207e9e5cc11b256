"""Language bias per strategy and size, raw and after post-hoc language centering.

Reads what every evaluation stores: rank distance, own-language share@10 (with the pool's
share), Mean Rank Correlation, and the same under ``variants.centered``. A strategy "lowers"
rank distance against another only when the seed means differ by more than the seed-to-seed
spread of the two (no per-query rank distance is stored, so no test over queries is made).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from xmir.evaluate.result import EvalResult
from xmir.report.aggregate import CORPUS_DATASETS
from xmir.report.results import RunResult, SweepResults
from xmir.report.verdicts import ONE_SEED, pooled_spread

BIAS_METRICS = ("own_share@10", "pool_share", "rank_distance", "mrc")


def bias_value(document: EvalResult, metric: str, *, centered: bool) -> float:
    """One bias number from an eval document (NaN when the document predates it)."""
    return document.variant("centered" if centered else None).bias_metric(metric)


@dataclass(frozen=True)
class BiasCell:
    """Seed mean and std (None for one seed) of one bias metric."""

    mean: float
    std: float | None
    n: int


@dataclass(frozen=True)
class BiasRow:
    dataset: str
    model: str
    params: float
    steps: int
    label: str
    raw: dict[str, BiasCell]
    centered: dict[str, BiasCell]


def _cell(runs: list[RunResult], dataset: str, metric: str, centered: bool) -> BiasCell:
    values = np.array([bias_value(r.evals[dataset], metric, centered=centered) for r in runs])
    values = values[~np.isnan(values)]
    if values.size == 0:
        return BiasCell(math.nan, None, 0)
    std = float(np.std(values, ddof=1)) if values.size > 1 else None
    return BiasCell(float(values.mean()), std, int(values.size))


def bias_rows(results: SweepResults) -> list[BiasRow]:
    """One row per (dataset, model, budget, strategy); the untrained encoder at budget 0."""
    groups: dict[tuple[str, int, str], list[RunResult]] = {}
    for run in results.runs:
        groups.setdefault((run.model, run.steps, run.strategy_label), []).append(run)
    rows = []
    for (model, steps, label), runs in groups.items():
        params = float(runs[0].non_embedding_params or 0)
        for dataset in [d for d in results.datasets if d not in CORPUS_DATASETS]:
            mine = [r for r in runs if dataset in r.evals]
            if not mine:
                continue
            raw = {m: _cell(mine, dataset, m, False) for m in BIAS_METRICS}
            centered = {m: _cell(mine, dataset, m, True) for m in BIAS_METRICS}
            rows.append(BiasRow(dataset, model, params, steps, label, raw, centered))
    return sorted(rows, key=lambda r: (r.dataset, r.steps, r.params, r.label))


# The bias metrics compared between strategies, and +1 where a lower value means less bias.
COMPARED_BIAS_METRICS = {"rank_distance": 1.0, "mrc": -1.0, "own_share@10": 1.0}


LESS_BIASED = "less biased"
MORE_BIASED = "more biased"
UNKNOWN_NOISE = ONE_SEED


@dataclass(frozen=True)
class BiasComparison:
    """One bias metric of ``label`` against ``other`` at one size and budget.

    Differences are oriented so that a negative value means ``label`` is less biased
    (Mean Rank Correlation, where higher is better, is negated)."""

    dataset: str
    model: str
    params: float
    steps: int
    label: str
    other: str
    raw_diff: float
    centered_diff: float
    raw_spread: float | None
    centered_spread: float | None
    centered_vs_raw: float  # centred label minus raw label, oriented the same way
    metric: str

    @property
    def raw_verdict(self) -> str:
        return _less_or_not(self.raw_diff, self.raw_spread)

    @property
    def centered_verdict(self) -> str:
        return _less_or_not(self.centered_diff, self.centered_spread)

    @property
    def stacks(self) -> bool:
        """Centred ``label`` is less biased than both centred ``other`` and raw ``label``."""
        return self.centered_verdict == LESS_BIASED and self.centered_vs_raw < 0


def _less_or_not(diff: float, spread: float | None) -> str:
    """Less biased only when the difference is beyond the seed-to-seed spread (no verdict
    with one seed: the spread is unknown)."""
    if math.isnan(diff):
        return "unknown"
    if spread is None:
        return UNKNOWN_NOISE
    margin = spread
    if diff < -margin:
        return LESS_BIASED
    if diff > margin:
        return MORE_BIASED
    return "within seed spread"


def bias_comparisons(rows: list[BiasRow], labels: list[str]) -> list[BiasComparison]:
    """Every ``label`` against mono and cross where both ran at the same size and budget,
    for each metric of :data:`COMPARED_BIAS_METRICS`."""
    index = {(r.dataset, r.model, r.steps, r.label): r for r in rows}
    found = []
    for r in rows:
        if r.label not in labels:
            continue
        for other in ("mono", "cross"):
            o = index.get((r.dataset, r.model, r.steps, other))
            if o is None:
                continue
            for metric, sign in COMPARED_BIAS_METRICS.items():
                raw, cen = r.raw[metric], r.centered[metric]
                o_raw, o_cen = o.raw[metric], o.centered[metric]
                found.append(
                    BiasComparison(
                        r.dataset,
                        r.model,
                        r.params,
                        r.steps,
                        r.label,
                        other,
                        sign * (raw.mean - o_raw.mean),
                        sign * (cen.mean - o_cen.mean),
                        pooled_spread(raw.std, o_raw.std),
                        pooled_spread(cen.std, o_cen.std),
                        sign * (cen.mean - raw.mean),
                        metric,
                    )
                )
    return found
