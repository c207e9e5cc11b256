"""Per (dataset, model size, budget): every strategy's AP per (seed, question id) and setting.

A cell holds the trained strategies of one size and budget and, where it ran, the untrained
encoder of that size (label ``none``, one evaluation that stands for every seed). Question ids
are shared by all cells of a dataset and carry their cluster (paragraph). Statistics are
functions of the (strategy x setting) means; :func:`statistic` evaluates one at the means and
linearises it into per-(seed, question id) contributions for its interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from xmir.evaluate.result import PerQuery
from xmir.report.aggregate import SETTINGS, strategy_order
from xmir.report.results import RunResult, SweepResults
from xmir.report.stats.clusters import QUESTION_IDS, cluster_map
from xmir.report.stats.intervals import Estimate, estimate_of, one_hot

UNTRAINED = "none"
Statistic = Callable[[np.ndarray], np.ndarray]  # (..., labels, settings) means -> (...)


def qid_level_ap(run: RunResult, dataset: str, setting: str) -> dict[str, float]:
    """Per question id, the mean AP over its translations (NaN-free ids only)."""
    per_query = per_query_of(run, dataset)
    if per_query is None:
        return {}
    sums: dict[str, list[float]] = {}
    for key, value in zip(per_query.query_keys(), per_query.column(f"{setting}_ap"), strict=False):
        if value is not None:
            sums.setdefault(key.query_id, []).append(float(value))
    return {qid: float(np.mean(values)) for qid, values in sums.items()}


def per_query_of(run: RunResult, dataset: str) -> PerQuery | None:
    """The per-query table of the run's evaluation on ``dataset``, when it recorded one."""
    document = run.evals.get(dataset)
    return document.per_query if document is not None else None


@dataclass(frozen=True)
class Series:
    """One strategy at one cell: AP per (seed, question id), one (S, Q) array per setting."""

    seeds: tuple[int | None, ...]
    values: dict[str, np.ndarray]

    def rows(self, seeds: Sequence[int | None]) -> dict[str, np.ndarray]:
        """The rows of ``seeds`` (the untrained encoder's one row stands for every seed)."""
        if self.seeds == (None,):
            return {s: np.repeat(v, len(seeds), axis=0) for s, v in self.values.items()}
        index = [self.seeds.index(seed) for seed in seeds]
        return {s: v[index] for s, v in self.values.items()}


@dataclass(frozen=True)
class Cellwise:
    """Every strategy at one (dataset, size, budget), on the dataset's shared question ids."""

    dataset: str
    model: str
    params: float
    steps: int
    qids: list[str]
    membership: np.ndarray  # (Q, C) one-hot clusters
    cluster_kind: str
    series: dict[str, Series]

    @property
    def labels(self) -> list[str]:
        """Trained strategy labels in report order (the untrained encoder left out)."""
        return sorted((x for x in self.series if x != UNTRAINED), key=strategy_order)

    @property
    def clusters(self) -> int:
        return int(self.membership.shape[1])

    def mean(self, label: str, setting: str) -> float:
        return float(self.series[label].values[setting].mean())

    def seed_std(self, label: str, setting: str) -> float | None:
        values = self.series[label].values[setting]
        return float(np.std(values.mean(axis=1), ddof=1)) if values.shape[0] > 1 else None

    def seeds(self, label: str) -> int:
        return 0 if label == UNTRAINED else len(self.series[label].seeds)

    def paired(self, labels: Sequence[str]) -> tuple[int | None, ...]:
        """The seeds every trained strategy of ``labels`` ran with (seed s of each, paired)."""
        trained = [self.series[x].seeds for x in labels if x != UNTRAINED]
        if not trained:
            return (None,)
        common = set(trained[0]).intersection(*trained[1:])
        return tuple(s for s in trained[0] if s in common)

    def stack(self, labels: Sequence[str], seeds: Sequence[int | None]) -> np.ndarray:
        """(labels, settings, seeds, question ids) AP on the given paired seeds."""
        return np.array(
            [[self.series[x].rows(seeds)[s] for s in SETTINGS] for x in labels], dtype=float
        )


def gradient(f: Statistic, means: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f`` at ``means`` (..., L, K); at a kink of a max it is
    the average of the two sides."""
    shape = means.shape[-2:]
    size = shape[0] * shape[1]
    basis = (np.eye(size) * step).reshape(size, *shape)
    up = f(means[..., None, :, :] + basis)
    down = f(means[..., None, :, :] - basis)
    return ((up - down) / (2 * step)).reshape(*means.shape[:-2], *shape)


@dataclass(frozen=True)
class Term:
    """``coefficient * f(means of labels)`` at one cell: one part of a (pooled) statistic."""

    cell: Cellwise
    labels: tuple[str, ...]
    f: Statistic
    coefficient: float = 1.0


def statistic(terms: Sequence[Term]) -> Estimate | None:
    """Estimate of ``sum_i c_i f_i(means_i)`` on the seeds all terms share (None if none).

    Each term is linearised at its means (gradient weights over strategy x setting), so the
    statistic's contribution per (seed, question id) is a weighted sum of APs; terms at other
    sizes or budgets of the same dataset add up on the shared seeds and question ids.
    """
    seed_sets = [t.cell.paired(t.labels) for t in terms]
    trained = [s for s in seed_sets if s != (None,)]
    if trained:
        common = set(trained[0]).intersection(*trained[1:])
        seeds: tuple[int | None, ...] = tuple(s for s in trained[0] if s in common)
        if not seeds:
            return None
    else:
        seeds = (None,)
    total = 0.0
    z: np.ndarray | None = None
    for term in terms:
        stacked = term.cell.stack(term.labels, seeds)  # (L, K, S, Q)
        means = stacked.mean(axis=(-2, -1))
        total += term.coefficient * float(term.f(means))
        weights = term.coefficient * gradient(term.f, means)
        part = np.einsum("lk,lksq->sq", weights, stacked)
        z = part if z is None else z + part
    assert z is not None
    return estimate_of(total, z, terms[0].cell.membership)


def cells(results: SweepResults) -> list[Cellwise]:
    """One :class:`Cellwise` per (dataset, model, budget) with trained runs and per-query AP."""
    grouped: dict[tuple[str, int], dict[str, list[RunResult]]] = {}
    untrained: dict[str, RunResult] = {}
    for run in results.runs:
        if run.is_baseline:
            untrained.setdefault(run.model, run)
        else:
            grouped.setdefault((run.model, run.steps), {}).setdefault(
                run.strategy_label, []
            ).append(run)
    found: list[Cellwise] = []
    for dataset in results.datasets:
        runs = [r for r in results.runs if per_query_of(r, dataset) is not None]
        if not runs:
            continue
        qids, membership, kind = _shared_questions(runs, dataset)
        if not qids:
            continue
        for (model, steps), groups in grouped.items():
            series = {
                label: _series(mine, dataset, qids)
                for label, group in groups.items()
                if (mine := [r for r in group if per_query_of(r, dataset) is not None])
            }
            if not series:
                continue
            base = untrained.get(model)
            if base is not None and per_query_of(base, dataset) is not None:
                series[UNTRAINED] = _series([base], dataset, qids, untrained=True)
            params = float(next(r.non_embedding_params or 0 for g in groups.values() for r in g))
            found.append(Cellwise(dataset, model, params, steps, qids, membership, kind, series))
    return sorted(found, key=lambda c: (c.dataset, c.steps, c.params, c.model))


def _shared_questions(runs: list[RunResult], dataset: str) -> tuple[list[str], np.ndarray, str]:
    """Question ids every run scored in every setting, with their cluster membership."""
    common: set[str] | None = None
    for run in runs:
        for setting in SETTINGS:
            found = set(qid_level_ap(run, dataset, setting))
            common = found if common is None else common & found
    qids = sorted(common or ())
    clusters, kind = cluster_map(runs[0].evals[dataset])
    if not all(q in clusters for q in qids):
        clusters, kind = {q: q for q in qids}, QUESTION_IDS
    names = sorted({clusters[q] for q in qids})
    codes = np.array([names.index(clusters[q]) for q in qids], dtype=int)
    membership, _ = one_hot(codes)
    return qids, membership, kind


def _series(
    runs: list[RunResult], dataset: str, qids: list[str], *, untrained: bool = False
) -> Series:
    runs = sorted(runs, key=lambda r: (r.seed is None, r.seed or 0))
    values = {}
    for setting in SETTINGS:
        tables = [qid_level_ap(r, dataset, setting) for r in runs]
        values[setting] = np.array([[t[q] for q in qids] for t in tables], dtype=float)
    seeds = (None,) if untrained else tuple(r.seed for r in runs)
    return Series(seeds, values)
