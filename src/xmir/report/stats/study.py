"""The answer's statistics, assembled: per (dataset, size, budget) cells, all-round standings,
paired differences, synergy, size trends, budget changes and the primary test.

Every interval is a t interval over paired seeds plus the clustered question-id variance
(:mod:`xmir.report.stats.intervals`). The primary test is the one the sweep spec names; every
other p-value is Holm-adjusted within its family (:data:`FAMILIES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from xmir.report.results import SweepResults
from xmir.report.stats.allround import AllRoundCell, all_round, main_hybrid, standing_terms
from xmir.report.stats.cells import Cellwise, cells, statistic
from xmir.report.stats.clusters import PARAGRAPHS
from xmir.report.stats.comparisons import (
    HYBRID_FAMILY,
    SYNERGY_FAMILY,
    UNTRAINED_FAMILY,
    Difference,
    against_untrained,
    differences,
    synergies,
)
from xmir.report.stats.intervals import Estimate
from xmir.report.stats.multiplicity import holm_adjust
from xmir.report.stats.trends import TREND_FAMILY, Trend, trends

STANDING_FAMILY = "standing per size and budget"
BUDGET_FAMILY = "budget changes"
FAMILIES = (
    STANDING_FAMILY,
    HYBRID_FAMILY,
    UNTRAINED_FAMILY,
    SYNERGY_FAMILY,
    TREND_FAMILY,
    BUDGET_FAMILY,
)
DEFAULT_PRIMARY = {"quantity": "standing", "sizes": "pooled", "budget": "main", "dataset": None}


@dataclass(frozen=True)
class BudgetChange:
    """Hybrid's standing at a longer budget minus at the main budget, one size, paired seeds."""

    dataset: str
    model: str
    params: float
    short: int
    long: int
    path: list[AllRoundCell]  # the standing at every budget of this size, in step order
    change: Estimate
    adjusted_p: float = float("nan")


@dataclass(frozen=True)
class Primary:
    """The primary test: hybrid's standing pooled over sizes at one budget (None: it could
    not be computed, for ``missing``)."""

    dataset: str | None
    steps: int | None
    sizes: list[float]
    estimate: Estimate | None
    registered: bool  # named in the sweep spec (else the default, reported as exploratory)
    missing: str = ""
    most_seeds: int = 0  # the most seeds any compared model ran (pairing keeps the shared ones)


@dataclass(frozen=True)
class StudyStats:
    hybrid: str | None
    cells: list[Cellwise]
    all_round: list[AllRoundCell]
    differences: list[Difference]
    untrained: list[Difference]
    synergies: list[Difference]
    trends: list[Trend] = field(default_factory=list)
    budget_changes: list[BudgetChange] = field(default_factory=list)
    primary: Primary | None = None

    @property
    def cluster_kind(self) -> str:
        kinds = {c.cluster_kind for c in self.cells}
        return PARAGRAPHS if kinds == {PARAGRAPHS} else "question ids"


def study_stats(results: SweepResults) -> StudyStats:
    cellwise = cells(results)
    hybrid = main_hybrid(results)
    rounds = _adjust_standings([r for c in cellwise if (r := all_round(c, hybrid)) is not None])
    return StudyStats(
        hybrid,
        cellwise,
        rounds,
        differences(cellwise),
        against_untrained(cellwise),
        synergies(cellwise),
        trends(cellwise, hybrid),
        budget_changes(rounds, results.main_budget),
        primary_test(rounds, results),
    )


def _adjust_standings(rounds: list[AllRoundCell]) -> list[AllRoundCell]:
    index = [i for i, r in enumerate(rounds) if r.standing is not None and r.standing.noise_known]
    adjusted = holm_adjust([rounds[i].standing.p for i in index])  # type: ignore[union-attr]
    out = list(rounds)
    for i, p in zip(index, adjusted, strict=True):
        out[i] = replace(rounds[i], adjusted_p=p)
    return out


def budget_changes(rounds: list[AllRoundCell], main_budget: int | None) -> list[BudgetChange]:
    """Per size with several budgets: standing at the longest minus at the main (or shortest)
    budget, a paired test within seeds (the budgets are prefixes of one run)."""
    by_size: dict[tuple[str, str], list[AllRoundCell]] = {}
    for r in rounds:
        if r.standing is not None and r.hybrid is not None:
            by_size.setdefault((r.cell.dataset, r.cell.model), []).append(r)
    found: list[BudgetChange] = []
    for (dataset, model), path in sorted(
        by_size.items(), key=lambda kv: (kv[0][0], kv[1][0].cell.params)
    ):
        if len(path) < 2:
            continue
        path.sort(key=lambda r: r.cell.steps)
        short = next((r for r in path if r.cell.steps == main_budget), path[0])
        long = path[-1]
        if long is short:
            continue
        hybrid = short.hybrid
        assert hybrid is not None
        change = statistic(standing_terms([long.cell, short.cell], hybrid, [1.0, -1.0]))
        if change is not None:
            found.append(
                BudgetChange(
                    dataset,
                    model,
                    short.cell.params,
                    short.cell.steps,
                    long.cell.steps,
                    path,
                    change,
                )
            )
    index = [i for i, b in enumerate(found) if b.change.noise_known]
    adjusted = holm_adjust([found[i].change.p for i in index])
    for i, p in zip(index, adjusted, strict=True):
        found[i] = replace(found[i], adjusted_p=p)
    return found


def primary_spec(results: SweepResults) -> tuple[dict[str, Any], bool]:
    """The primary test named by a sweep spec of the study, else the default (unregistered)."""
    for spec in results.specs or [results.spec]:
        if spec.get("primary"):
            return {**DEFAULT_PRIMARY, **spec["primary"]}, True
    return dict(DEFAULT_PRIMARY), False


def primary_test(rounds: list[AllRoundCell], results: SweepResults) -> Primary | None:
    """Hybrid's standing averaged over the sizes at the chosen budget, on shared seeds."""
    chosen, registered = primary_spec(results)
    steps = results.main_budget if chosen["budget"] == "main" else int(chosen["budget"])
    datasets = [d for d in results.datasets if any(r.cell.dataset == d for r in rounds)]
    dataset = chosen["dataset"] or (datasets[0] if datasets else None)
    at = sorted(
        (
            r
            for r in rounds
            if r.standing is not None and (r.cell.dataset, r.cell.steps) == (dataset, steps)
        ),
        key=lambda r: r.cell.params,
    )
    hybrid = at[0].hybrid if at else None
    estimate = None
    if hybrid is not None:
        weight = 1.0 / len(at)
        estimate = statistic(standing_terms([r.cell for r in at], hybrid, [weight] * len(at)))
    if estimate is None:
        if not registered:
            return None
        missing = (
            f"no size has hybrid's standing on {dataset} at {steps} steps"
            if not at
            else "the sizes share no seed"
        )
        return Primary(dataset, steps, [], None, registered, missing)
    most = max((r.cell.seeds(label) for r in at for label in r.compared), default=0)
    return Primary(dataset, steps, [r.cell.params for r in at], estimate, registered, "", most)
