"""Per-run numbers -> mean and std over seeds for each (model, strategy, batch size) group."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xmir.evaluate.result import EvalResult
from xmir.report.results import RunResult, SweepResults

SETTINGS = ("mono", "cross", "multi")


MetricReader = Callable[[EvalResult], float]


# metric name -> how to read it from an eval document; lower_is_better where it applies.
def _setting(setting: str, name: str = "map", variant: str | None = None) -> MetricReader:
    """A reader of one setting metric; NaN when an older document lacks it."""
    return lambda document: document.variant(variant).metric(setting, name)


def _bias(name: str, variant: str | None = None) -> MetricReader:
    """A reader of one bias number; NaN when an older document lacks it."""
    return lambda document: document.variant(variant).bias_metric(name)


METRICS: dict[str, MetricReader] = {
    "mono": _setting("mono"),
    "cross": _setting("cross"),
    "multi": _setting("multi"),
    "rank_distance": _bias("rank_distance"),
    "own_share@10": _bias("own_share@10"),
    "mrc": _bias("mrc"),
    "centered_multi": _setting("multi", variant="centered"),
    "centered_rank_distance": _bias("rank_distance", variant="centered"),
    "centered_mrc": _bias("mrc", variant="centered"),
    "ndcg@10": _setting("mono", "ndcg@10"),
    "recall@100": _setting("mono", "recall@100"),
}
CORPUS_DATASETS = frozenset({"miracl"})  # corpus retrieval: nDCG@10 and Recall@100


def dataset_metrics(dataset: str) -> tuple[str, ...]:
    """The headline metrics of a dataset: the three LAReQA settings, or MIRACL's two."""
    return ("ndcg@10", "recall@100") if dataset in CORPUS_DATASETS else SETTINGS


LOWER_IS_BETTER = frozenset({"rank_distance"})


@dataclass(frozen=True, order=True)
class Group:
    """Runs that differ only in their seed."""

    model: str
    strategy_label: str
    batch_size: int | None


@dataclass(frozen=True)
class Cell:
    """Mean and sample standard deviation (ddof=1; None for one seed) of one metric."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float | None:
        return float(np.std(self.values, ddof=1)) if self.n > 1 else None


def strategy_order(label: str) -> tuple[int, float, str]:
    """none, mono, cross, then hybrid by alpha."""
    if label.startswith("hybrid"):
        try:
            return (3, float(label.removeprefix("hybrid")), label)
        except ValueError:
            return (3, math.inf, label)
    return ({"none": 0, "mono": 1, "cross": 2}.get(label, 4), 0.0, label)


class Summary:
    """Grouped numbers of a sweep, with the helpers the tables and figures need."""

    def __init__(self, results: SweepResults) -> None:
        self.results = results
        self.models = results.models
        self.datasets = [d for d in results.datasets if any(d in r.evals for r in results.runs)]
        self._runs: dict[Group, list[RunResult]] = {}
        for run in results.runs:
            self._runs.setdefault(self.group_of(run), []).append(run)
        self.params = {r.model: r.non_embedding_params for r in results.runs}
        self.total_params = {r.model: r.total_params for r in results.runs}

    @staticmethod
    def group_of(run: RunResult) -> Group:
        return Group(run.model, run.strategy_label, run.batch_size)

    def groups(self, model: str | None = None) -> list[Group]:
        """Groups in report order: model size, batch size, strategy."""
        chosen = [g for g in self._runs if model is None or g.model == model]
        size = {m: i for i, m in enumerate(self.models)}
        return sorted(
            chosen,
            key=lambda g: (size[g.model], g.batch_size or 0, strategy_order(g.strategy_label)),
        )

    def runs(self, group: Group) -> list[RunResult]:
        """The runs of a group, by seed."""
        return sorted(self._runs.get(group, []), key=lambda r: (r.seed is None, r.seed or 0))

    def cell(self, group: Group, dataset: str, metric: str) -> Cell | None:
        """Mean/std of ``metric`` on ``dataset`` over the group's seeds (None if no value)."""
        read = METRICS[metric]
        values = tuple(
            v
            for r in self.runs(group)
            if dataset in r.evals and not math.isnan(v := float(read(r.evals[dataset])))
        )
        return Cell(values) if values else None

    def labels(self, trained_only: bool = False) -> list[str]:
        """Strategy labels present, in report order."""
        labels = {g.strategy_label for g in self._runs}
        if trained_only:
            labels.discard("none")
        return sorted(labels, key=strategy_order)

    def batch_sizes(self) -> list[int | None]:
        return sorted({g.batch_size for g in self._runs if g.batch_size is not None}) or [None]

    def find(self, model: str, label: str, batch_size: int | None) -> Group | None:
        """The group of (model, label, batch); the baseline ignores the batch size."""
        group = Group(model, label, None if label == "none" else batch_size)
        return group if group in self._runs else None
