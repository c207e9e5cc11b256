"""All-round standing: how far each model is from the best in its worst setting.

Compared at one (dataset, size, budget): mono, cross, the main hybrid, the untrained encoder
and any baseline built from the mono and cross models (``wavg``, ``ensemble`` at the hybrid's
alpha). A model's regret in a setting is the best compared mean minus its own; its worst-case
regret is the largest over the three settings. Hybrid's *standing* is its worst-case regret
minus the best other model's: negative means hybrid is the better all-rounder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xmir.report.aggregate import SETTINGS, strategy_order
from xmir.report.results import SweepResults
from xmir.report.stats.cells import UNTRAINED, Cellwise, Statistic, Term, statistic
from xmir.report.stats.intervals import Estimate
from xmir.report.verdicts import regret_verdict, verdict

SINGLES = ("mono", "cross")
BASELINES = ("wavg", "ensemble")


def worst_regrets(means: np.ndarray) -> np.ndarray:
    """(..., L, K) means -> (..., L) worst-case regret of each model over the settings."""
    return (means.max(axis=-2, keepdims=True) - means).max(axis=-1)


def worst_of(index: int) -> Statistic:
    return lambda means: worst_regrets(means)[..., index]


def mean_regret_of(index: int) -> Statistic:
    return lambda means: (means.max(axis=-2, keepdims=True) - means)[..., index, :].mean(axis=-1)


def standing_of(index: int) -> Statistic:
    """Worst-case regret of model ``index`` minus the smallest of the others'."""

    def standing(means: np.ndarray) -> np.ndarray:
        worst = worst_regrets(means)
        others = np.delete(worst, index, axis=-1)
        return worst[..., index] - others.min(axis=-1)

    return standing


@dataclass(frozen=True)
class AllRound:
    """One model's standing across the three settings at one (dataset, size, budget)."""

    label: str
    means: dict[str, float]
    regrets: dict[str, float]
    worst: Estimate
    mean_regret: Estimate
    relative_worst: float
    pareto: bool


@dataclass(frozen=True)
class AllRoundCell:
    cell: Cellwise
    compared: list[str]
    rows: list[AllRound]
    hybrid: str | None
    standing: Estimate | None  # hybrid's worst regret minus the best other model's
    adjusted_p: float = float("nan")

    @property
    def winner(self) -> str:
        """The lowest worst-case regret by point estimate (its certainty: the standing)."""
        return min(self.rows, key=lambda r: (r.worst.estimate, strategy_order(r.label))).label

    @property
    def standing_verdict(self) -> str:
        """The verdict for hybrid on its standing (above 0 it is the worse all-rounder:
        ``behind``)."""
        assert self.standing is not None
        return regret_verdict(verdict(self.standing, self.adjusted_p))

    @property
    def seeds(self) -> int:
        return self.standing.seeds if self.standing is not None else 0


def main_hybrid(results: SweepResults) -> str | None:
    """The hybrid compared in the all-round answer: alpha 0.5 where it ran, else the hybrid
    evaluated at the most model sizes of the main budget."""
    main = results.at_budget(results.main_budget)
    sizes: dict[str, set[str]] = {}
    for run in main.runs:
        if run.strategy == "hybrid":
            sizes.setdefault(run.strategy_label, set()).add(run.model)
    if not sizes:
        return None
    if "hybrid0.5" in sizes:
        return "hybrid0.5"
    return max(sorted(sizes), key=lambda label: len(sizes[label]))


def compared_labels(cell: Cellwise, hybrid: str | None) -> list[str]:
    """Untrained, mono, cross, the main hybrid and the baselines at its alpha, where present."""
    alpha = hybrid.removeprefix("hybrid") if hybrid else None
    baselines = [f"{b}{alpha}" for b in BASELINES] if alpha else []
    wanted = [UNTRAINED, *SINGLES, *([hybrid] if hybrid else []), *baselines]
    return [label for label in wanted if label in cell.series]


def all_round(cell: Cellwise, hybrid: str | None) -> AllRoundCell | None:
    """Worst-case and mean regret of every compared model, and hybrid's standing."""
    compared = compared_labels(cell, hybrid)
    if len([x for x in compared if x != UNTRAINED]) < 2:
        return None
    seeds = cell.paired(compared)
    if not seeds:
        return None
    means = cell.stack(compared, seeds).mean(axis=(-2, -1))  # (L, K)
    best = means.max(axis=0)
    rows: list[AllRound] = []
    for index, label in enumerate(compared):
        regrets = {s: float(best[k] - means[index, k]) for k, s in enumerate(SETTINGS)}
        dominated = any(
            np.all(means[o] >= means[index]) and np.any(means[o] > means[index])
            for o in range(len(compared))
            if o != index
        )
        worst = statistic([Term(cell, tuple(compared), worst_of(index))])
        mean_regret = statistic([Term(cell, tuple(compared), mean_regret_of(index))])
        assert worst is not None and mean_regret is not None
        rows.append(
            AllRound(
                label,
                {s: float(means[index, k]) for k, s in enumerate(SETTINGS)},
                regrets,
                worst,
                mean_regret,
                max(regrets[s] / best[k] if best[k] > 0 else 0.0 for k, s in enumerate(SETTINGS)),
                not dominated,
            )
        )
    standing = None
    if hybrid in compared:
        standing = statistic([Term(cell, tuple(compared), standing_of(compared.index(hybrid)))])
    return AllRoundCell(cell, compared, rows, hybrid, standing)


def standing_terms(
    cells: Sequence[Cellwise], hybrid: str, coefficients: Sequence[float]
) -> list[Term]:
    """Terms of a combination of hybrid's standings at several cells (pooled, slope, change)."""
    terms = []
    for cell, coefficient in zip(cells, coefficients, strict=True):
        compared = compared_labels(cell, hybrid)
        terms.append(Term(cell, tuple(compared), standing_of(compared.index(hybrid)), coefficient))
    return terms
