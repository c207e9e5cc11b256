"""Paired differences in one setting: hybrid against mono and cross, every model against the
untrained encoder, and synergy (hybrid against the alpha-weighted mixture of mono and cross,
and against the weight-average and score-ensemble baselines where they ran)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xmir.report.aggregate import SETTINGS
from xmir.report.stats.allround import BASELINES, SINGLES
from xmir.report.stats.cells import UNTRAINED, Cellwise, Statistic, Term, statistic
from xmir.report.stats.intervals import Estimate
from xmir.report.stats.multiplicity import holm_adjust
from xmir.report.verdicts import verdict

MIXTURE = "mixture"  # the alpha-weighted mixture of mono and cross, synergy's null


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
    diff: Estimate
    family: str
    adjusted_p: float = float("nan")

    @property
    def verdict(self) -> str:
        return verdict(self.diff, self.adjusted_p)

    @property
    def seeds(self) -> int:
        return self.diff.seeds


def adjust(found: list[Difference]) -> list[Difference]:
    """Holm-adjusted p-values within each family; one-seed rows are left out of the family."""
    out = list(found)
    for family in sorted({d.family for d in found}):
        index = [i for i, d in enumerate(found) if d.family == family and d.diff.noise_known]
        adjusted = holm_adjust([found[i].diff.p for i in index])
        for i, p in zip(index, adjusted, strict=True):
            out[i] = replace(found[i], adjusted_p=p)
    return out


def setting_difference(setting: int, weights: dict[int, float]) -> Statistic:
    """sum_l weights[l] * means[l, setting] (a linear statistic of one setting)."""

    def f(means: np.ndarray) -> np.ndarray:
        return sum(w * means[..., index, setting] for index, w in weights.items())

    return f


def _difference(
    cell: Cellwise, label: str, others: dict[str, float], setting: str, name: str, family: str
) -> Difference | None:
    """``label`` minus the weighted ``others`` in ``setting`` on their paired seeds."""
    labels = (label, *others)
    weights = {0: 1.0, **{i + 1: -w for i, w in enumerate(others.values())}}
    found = statistic([Term(cell, labels, setting_difference(SETTINGS.index(setting), weights))])
    if found is None:
        return None
    return Difference(
        cell.dataset, cell.model, cell.params, cell.steps, setting, label, name, found, family
    )


HYBRID_FAMILY = "hybrid against mono and cross"
UNTRAINED_FAMILY = "against the untrained encoder"
SYNERGY_FAMILY = "synergy"


def differences(cellwise: list[Cellwise]) -> list[Difference]:
    """Every hybrid against mono and against cross, per setting and cell."""
    found = [
        d
        for cell in cellwise
        for label in [x for x in cell.labels if x.startswith("hybrid")]
        for other in [s for s in SINGLES if s in cell.series]
        for setting in SETTINGS
        if (d := _difference(cell, label, {other: 1.0}, setting, other, HYBRID_FAMILY))
    ]
    return adjust(found)


def against_untrained(cellwise: list[Cellwise]) -> list[Difference]:
    """Every trained model minus the untrained encoder of its size, per setting and cell."""
    found = [
        d
        for cell in cellwise
        if UNTRAINED in cell.series
        for label in cell.labels
        for setting in SETTINGS
        if (d := _difference(cell, label, {UNTRAINED: 1.0}, setting, UNTRAINED, UNTRAINED_FAMILY))
    ]
    return adjust(found)


def alpha_of(label: str) -> float | None:
    """0.5 for ``hybrid0.5``; None for a label without alpha."""
    for prefix in ("hybrid", *BASELINES):
        if label.startswith(prefix):
            try:
                return float(label.removeprefix(prefix))
            except ValueError:
                return None
    return None


def synergies(cellwise: list[Cellwise]) -> list[Difference]:
    """Per hybrid and setting: hybrid minus ``alpha * mono + (1 - alpha) * cross`` (the
    mixture null), and minus the weight-average and score-ensemble baselines at its alpha."""
    found: list[Difference] = []
    for cell in cellwise:
        if not all(s in cell.series for s in SINGLES):
            continue
        for label in [x for x in cell.labels if x.startswith("hybrid")]:
            alpha = alpha_of(label)
            if alpha is None:
                continue
            mixture = {"mono": alpha, "cross": 1.0 - alpha}
            for setting in SETTINGS:
                d = _difference(cell, label, mixture, setting, MIXTURE, SYNERGY_FAMILY)
                if d is not None:
                    found.append(d)
                for baseline in BASELINES:
                    name = f"{baseline}{alpha:g}"
                    if name in cell.series:
                        d = _difference(cell, label, {name: 1.0}, setting, name, SYNERGY_FAMILY)
                        if d is not None:
                            found.append(d)
    return adjust(found)
