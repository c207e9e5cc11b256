"""The answer's statistics per (dataset, model size, budget): all-round regret, paired
differences at the question-id level, the alpha frontier and size trends.

Every interval comes from one :class:`~xmir.report.stats.resampling.HierarchicalBootstrap` per
(dataset, size, budget), shared by all strategies there, so regrets, differences and synergy
are resampled jointly (paired over question ids, independent over seeds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from xmir.report.aggregate import SETTINGS, strategy_order
from xmir.report.results import RunResult, SweepResults
from xmir.report.stats.multiplicity import fdr_adjust
from xmir.report.stats.resampling import (
    N_RESAMPLES,
    HierarchicalBootstrap,
    Interval,
    QidMatrix,
    aligned_matrices,
    interval,
)
from xmir.report.verdicts import pooled_spread, verdict

SINGLES = ("mono", "cross")


@dataclass(frozen=True)
class Cellwise:
    """Every trained strategy at one (dataset, size, budget), on shared question ids."""

    dataset: str
    model: str
    params: float
    steps: int
    qids: list[str]
    matrices: dict[str, dict[str, QidMatrix]]  # label -> setting -> matrix
    boot: HierarchicalBootstrap

    @property
    def labels(self) -> list[str]:
        return sorted(self.matrices, key=strategy_order)

    def mean(self, label: str, setting: str) -> float:
        return self.matrices[label][setting].mean

    def replicates(self, label: str, setting: str) -> np.ndarray:
        return self.boot.replicates(label, self.matrices[label][setting])

    def seed_std(self, label: str, setting: str) -> float | None:
        return self.matrices[label][setting].seed_std

    def seeds(self, label: str) -> int:
        return len(self.matrices[label][SETTINGS[0]].seeds)


def cells(results: SweepResults, *, n_resamples: int = N_RESAMPLES) -> list[Cellwise]:
    """One :class:`Cellwise` per (dataset, model, budget) with trained runs."""
    grouped: dict[tuple[str, int], dict[str, list[RunResult]]] = {}
    for run in results.runs:
        if not run.is_baseline:
            grouped.setdefault((run.model, run.steps), {}).setdefault(
                run.strategy_label, []
            ).append(run)
    found: list[Cellwise] = []
    for (model, steps), groups in grouped.items():
        params = float(next(r.non_embedding_params or 0 for g in groups.values() for r in g))
        for dataset in results.datasets:
            with_data = {k: [r for r in v if dataset in r.evals] for k, v in groups.items()}
            with_data = {k: v for k, v in with_data.items() if v}
            if not with_data or "per_query" not in next(iter(with_data.values()))[0].evals[dataset]:
                continue
            matrices: dict[str, dict[str, QidMatrix]] = {label: {} for label in with_data}
            qids: list[str] = []
            for setting in SETTINGS:
                qids_s, by_label = aligned_matrices(with_data, dataset, setting)
                qids = qids or qids_s
                for label, matrix in by_label.items():
                    matrices[label][setting] = matrix
            if not qids:
                continue
            boot = HierarchicalBootstrap(
                len(qids), n_resamples=n_resamples, seed=_seed(model, steps, dataset)
            )
            found.append(Cellwise(dataset, model, params, steps, qids, matrices, boot))
    return sorted(found, key=lambda c: (c.dataset, c.steps, c.params, c.model))


def _seed(*parts: object) -> int:
    """A stable bootstrap seed per cell, so a report is reproducible."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "big")


# ----------------------------------------------------------------------------- all-round


@dataclass(frozen=True)
class AllRound:
    """One strategy's standing across the three settings at one (dataset, size, budget)."""

    label: str
    means: dict[str, float]
    regrets: dict[str, float]
    worst: Interval
    mean_regret: Interval
    relative_worst: float
    pareto: bool


@dataclass(frozen=True)
class AllRoundCell:
    cell: Cellwise
    compared: list[str]
    rows: list[AllRound]
    hybrid: str | None
    standing: Interval | None  # hybrid's worst regret minus the best other strategy's

    @property
    def winner(self) -> str:
        return min(self.rows, key=lambda r: (r.worst.estimate, strategy_order(r.label))).label


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


def all_round(cell: Cellwise, hybrid: str | None) -> AllRoundCell | None:
    """Worst-case and mean regret over the settings of mono, cross and ``hybrid``."""
    compared = [label for label in (*SINGLES, hybrid) if label and label in cell.matrices]
    if len(compared) < 2:
        return None
    means = {label: {s: cell.mean(label, s) for s in SETTINGS} for label in compared}
    reps = {label: {s: cell.replicates(label, s) for s in SETTINGS} for label in compared}
    best = {s: max(means[label][s] for label in compared) for s in SETTINGS}
    best_rep = {s: np.max([reps[label][s] for label in compared], axis=0) for s in SETTINGS}
    rows: list[AllRound] = []
    worst_reps: dict[str, np.ndarray] = {}
    for label in compared:
        regrets = {s: best[s] - means[label][s] for s in SETTINGS}
        regret_reps = np.array([best_rep[s] - reps[label][s] for s in SETTINGS])
        worst_reps[label] = regret_reps.max(axis=0)
        dominated = any(
            all(means[o][s] >= means[label][s] for s in SETTINGS)
            and any(means[o][s] > means[label][s] for s in SETTINGS)
            for o in compared
            if o != label
        )
        rows.append(
            AllRound(
                label,
                means[label],
                regrets,
                interval(max(regrets.values()), worst_reps[label]),
                interval(float(np.mean(list(regrets.values()))), regret_reps.mean(axis=0)),
                max(regrets[s] / best[s] if best[s] > 0 else 0.0 for s in SETTINGS),
                not dominated,
            )
        )
    standing = None
    if hybrid in compared:
        others = [label for label in compared if label != hybrid]
        worst = {r.label: r.worst.estimate for r in rows}
        other_best = np.min([worst_reps[o] for o in others], axis=0)
        standing = interval(
            worst[hybrid] - min(worst[o] for o in others), worst_reps[hybrid] - other_best
        )
    return AllRoundCell(cell, compared, rows, hybrid, standing)


# ----------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Difference:
    """``label`` minus ``other`` in one setting at one (dataset, size, budget)."""

    dataset: str
    model: str
    params: float
    steps: int
    setting: str
    label: str
    other: str
    diff: Interval
    seed_spread: float | None
    seeds: int
    qids: int
    t_p: float
    q_value: float = float("nan")

    @property
    def verdict(self) -> str:
        return verdict(self.diff.estimate, self.q_value, self.seed_spread)


def differences(cellwise: list[Cellwise], hybrid_labels: list[str]) -> list[Difference]:
    """Every hybrid against mono and against cross, per setting; BH over all of them."""
    found: list[Difference] = []
    for cell in cellwise:
        for label in [h for h in hybrid_labels if h in cell.matrices]:
            for other in [s for s in SINGLES if s in cell.matrices]:
                for setting in SETTINGS:
                    found.append(_difference(cell, label, other, setting))
    q_values = fdr_adjust([d.diff.p for d in found])
    return [_with_q(d, q) for d, q in zip(found, q_values, strict=True)]


def _difference(cell: Cellwise, label: str, other: str, setting: str) -> Difference:
    a, b = cell.matrices[label][setting], cell.matrices[other][setting]
    reps = cell.replicates(label, setting) - cell.replicates(other, setting)
    # Classical check at the same unit: paired t-test on seed-averaged question-id AP.
    t_p = float(stats.ttest_rel(a.values.mean(axis=0), b.values.mean(axis=0)).pvalue)
    return Difference(
        cell.dataset,
        cell.model,
        cell.params,
        cell.steps,
        setting,
        label,
        other,
        interval(a.mean - b.mean, reps),
        pooled_spread(a.seed_std, b.seed_std),
        min(len(a.seeds), len(b.seeds)),
        len(cell.qids),
        t_p if np.isfinite(t_p) else 1.0,
    )


def _with_q(d: Difference, q: float) -> Difference:
    return replace(d, q_value=q)


def reference_spreads(found: list[Difference]) -> dict[tuple[str, str, str, str, str], float]:
    """Seed spread of each (dataset, model, setting, label, other) where it was measured, to
    judge single-seed budgets of the same size by (the longest budget with 2+ seeds)."""
    spreads: dict[tuple[str, str, str, str, str], float] = {}
    for d in sorted(found, key=lambda d: d.steps):
        if d.seed_spread is not None:
            spreads[(d.dataset, d.model, d.setting, d.label, d.other)] = d.seed_spread
    return spreads


def with_reference_spread(found: list[Difference]) -> list[Difference]:
    """Single-seed differences take the seed spread measured for the same comparison at
    another budget (so a one-seed difference is never called real on a test over queries)."""
    spreads = reference_spreads(found)
    return [
        d
        if d.seed_spread is not None
        else replace(d, seed_spread=spreads.get((d.dataset, d.model, d.setting, d.label, d.other)))
        for d in found
    ]


# ----------------------------------------------------------------------------- frontier


@dataclass(frozen=True)
class Synergy:
    """A hybrid's signed distance above the chord from cross (alpha 0) to mono (alpha 1) in
    (mono mAP, multi mAP) space; positive = better than a plain mixture of the two."""

    dataset: str
    model: str
    params: float
    steps: int
    label: str
    alpha: float
    distance: Interval
    seeds: int


def chord_distance(point: np.ndarray, cross: np.ndarray, mono: np.ndarray) -> np.ndarray:
    """Signed perpendicular distance of ``point`` (..., 2) from the line through ``cross``
    and ``mono``; positive on the side of higher multi mAP (above the chord)."""
    direction = mono - cross
    normal = np.stack([-direction[..., 1], direction[..., 0]], axis=-1)
    flip = np.where(normal[..., 1] < 0, -1.0, 1.0)[..., None]
    normal = normal * flip / np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
    return np.sum((point - cross) * normal, axis=-1)


def synergies(cellwise: list[Cellwise]) -> list[Synergy]:
    """Synergy of every hybrid where mono and cross ran at the same size and budget."""
    found: list[Synergy] = []
    for cell in cellwise:
        if not all(s in cell.matrices for s in SINGLES):
            continue
        ends = {
            s: (
                np.array([cell.mean(s, "mono"), cell.mean(s, "multi")]),
                np.stack([cell.replicates(s, "mono"), cell.replicates(s, "multi")], axis=-1),
            )
            for s in SINGLES
        }
        for label in [x for x in cell.labels if x.startswith("hybrid")]:
            point = np.array([cell.mean(label, "mono"), cell.mean(label, "multi")])
            reps = np.stack(
                [cell.replicates(label, "mono"), cell.replicates(label, "multi")], axis=-1
            )
            estimate = float(chord_distance(point, ends["cross"][0], ends["mono"][0]))
            replicated = chord_distance(reps, ends["cross"][1], ends["mono"][1])
            found.append(
                Synergy(
                    cell.dataset,
                    cell.model,
                    cell.params,
                    cell.steps,
                    label,
                    float(label.removeprefix("hybrid")),
                    interval(estimate, replicated),
                    cell.seeds(label),
                )
            )
    return found


# ----------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class Trend:
    """OLS of per-size means on log2(non-embedding parameters): change per doubling."""

    dataset: str
    steps: int
    quantity: str  # e.g. "hybrid0.5 - mono, multi" or "standing"
    points: list[tuple[float, float]]  # (params, per-size mean)
    slope: float
    low: float
    high: float
    p: float

    @property
    def sizes(self) -> int:
        return len(self.points)


def fit_per_doubling(points: list[tuple[float, float]]) -> tuple[float, float, float, float] | None:
    """(slope, CI low, CI high, p) of y on log2(x) with k - 2 degrees of freedom; None for
    fewer than three sizes."""
    if len({x for x, _ in points}) < 3:
        return None
    x = np.log2([p[0] for p in points])
    y = np.array([p[1] for p in points])
    fit = stats.linregress(x, y)
    t = stats.t.ppf(0.975, len(points) - 2)
    return (
        float(fit.slope),
        float(fit.slope - t * fit.stderr),
        float(fit.slope + t * fit.stderr),
        float(fit.pvalue),
    )


def trends(found: list[Difference], standings: list[AllRoundCell]) -> list[Trend]:
    """Per budget: hybrid minus mono / cross / the best single strategy per setting, and
    hybrid's all-round standing, each against model size."""
    out: list[Trend] = []
    keys = sorted({(d.dataset, d.steps, d.label, d.setting) for d in found})
    for dataset, steps, label, setting in keys:
        rows = [
            d
            for d in found
            if (d.dataset, d.steps, d.label, d.setting) == (dataset, steps, label, setting)
        ]
        by_model: dict[str, dict[str, Difference]] = {}
        for d in rows:
            by_model.setdefault(d.model, {})[d.other] = d
        series = {
            other: [
                (v[other].params, v[other].diff.estimate) for v in by_model.values() if other in v
            ]
            for other in SINGLES
        }
        series["the best single strategy"] = [
            (v["mono"].params, min(v["mono"].diff.estimate, v["cross"].diff.estimate))
            for v in by_model.values()
            if "mono" in v and "cross" in v
        ]
        for other, points in series.items():
            fit = fit_per_doubling(sorted(points))
            if fit is not None:
                out.append(
                    Trend(dataset, steps, f"{label} - {other}, {setting}", sorted(points), *fit)
                )
    for dataset, steps in sorted({(s.cell.dataset, s.cell.steps) for s in standings}):
        points = sorted(
            (s.cell.params, s.standing.estimate)
            for s in standings
            if (s.cell.dataset, s.cell.steps) == (dataset, steps) and s.standing is not None
        )
        fit = fit_per_doubling(points)
        if fit is not None:
            out.append(Trend(dataset, steps, "standing", points, *fit))
    return out


@dataclass(frozen=True)
class StudyStats:
    """Everything the answer is computed from."""

    hybrid: str | None
    cells: list[Cellwise]
    all_round: list[AllRoundCell]
    differences: list[Difference]
    synergies: list[Synergy]
    trends: list[Trend] = field(default_factory=list)


def study_stats(results: SweepResults, *, n_resamples: int = N_RESAMPLES) -> StudyStats:
    cellwise = cells(results, n_resamples=n_resamples)
    hybrid = main_hybrid(results)
    rounds = [r for c in cellwise if (r := all_round(c, hybrid)) is not None]
    hybrids = sorted(
        {label for c in cellwise for label in c.matrices if label.startswith("hybrid")}
    )
    found = with_reference_spread(differences(cellwise, hybrids))
    return StudyStats(hybrid, cellwise, rounds, found, synergies(cellwise), trends(found, rounds))
