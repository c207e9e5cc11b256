"""Size trends: the least-squares slope of a per-size quantity on log2(non-embedding params).

The slope is a fixed linear combination of the per-size estimates, so its interval comes from
the same paired-seed, clustered-question variance as any other statistic (the sizes share
seeds and question ids). A slope summarises the measured range; it is fitted only with at
least :data:`MIN_SIZES` sizes, once per distinct series, and tested within one family.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xmir.report.aggregate import SETTINGS
from xmir.report.stats.allround import SINGLES, standing_terms
from xmir.report.stats.cells import Cellwise, Term, statistic
from xmir.report.stats.comparisons import setting_difference
from xmir.report.stats.intervals import Estimate
from xmir.report.stats.multiplicity import holm_adjust
from xmir.report.verdicts import verdict

MIN_SIZES = 4
TREND_FAMILY = "size trends"


@dataclass(frozen=True)
class Trend:
    """Change of ``quantity`` per doubling of non-embedding parameters at one budget."""

    dataset: str
    steps: int
    quantity: str  # e.g. "hybrid0.5 - mono, multi" or "standing"
    points: list[tuple[float, float]]  # (params, per-size estimate)
    slope: Estimate
    adjusted_p: float = float("nan")

    @property
    def sizes(self) -> int:
        return len(self.points)

    @property
    def verdict(self) -> str:
        """``ahead``: the quantity rises with size; ``behind``: it falls."""
        return verdict(self.slope, self.adjusted_p)


def slope_weights(params: list[float]) -> np.ndarray:
    """OLS weights: slope = sum_i w_i y_i for y regressed on log2(params)."""
    x = np.log2(np.asarray(params, dtype=float))
    centred = x - x.mean()
    return centred / np.sum(centred**2)


def trends(cellwise: list[Cellwise], hybrid: str | None) -> list[Trend]:
    """Per (dataset, budget, hybrid): hybrid minus mono and minus cross per setting, and the
    main hybrid's all-round standing, each fitted once where >= MIN_SIZES sizes have them."""
    out: list[Trend] = []
    keys = sorted({(c.dataset, c.steps) for c in cellwise})
    for dataset, steps in keys:
        at = sorted(
            (c for c in cellwise if (c.dataset, c.steps) == (dataset, steps)),
            key=lambda c: c.params,
        )
        labels = sorted({x for c in at for x in c.labels if x.startswith("hybrid")})
        for label in labels:
            for other in SINGLES:
                mine = [c for c in at if label in c.series and other in c.series]
                if len({c.params for c in mine}) < MIN_SIZES:
                    continue
                weights = slope_weights([c.params for c in mine])
                for k, setting in enumerate(SETTINGS):
                    f = setting_difference(k, {0: 1.0, 1: -1.0})
                    terms = [
                        Term(c, (label, other), f, w) for c, w in zip(mine, weights, strict=True)
                    ]
                    points = [(c.params, statistic([Term(c, (label, other), f)])) for c in mine]
                    _add(out, dataset, steps, f"{label} - {other}, {setting}", terms, points)
            if label != hybrid:
                continue
            mine = [c for c in at if all(x in c.series for x in (label, *SINGLES))]
            if len({c.params for c in mine}) >= MIN_SIZES:
                weights = slope_weights([c.params for c in mine])
                points = [(c.params, statistic(standing_terms([c], label, [1.0]))) for c in mine]
                _add(
                    out,
                    dataset,
                    steps,
                    "standing",
                    standing_terms(mine, label, list(weights)),
                    points,
                )
    adjusted = holm_adjust([t.slope.p if t.slope.noise_known else float("nan") for t in out])
    return [replace(t, adjusted_p=p) for t, p in zip(out, adjusted, strict=True)]


def _add(
    out: list[Trend],
    dataset: str,
    steps: int,
    quantity: str,
    terms: list[Term],
    points: list[tuple[float, Estimate | None]],
) -> None:
    slope = statistic(terms)
    if slope is None or any(e is None for _, e in points):
        return
    values = [(p, e.estimate) for p, e in points if e is not None]
    out.append(Trend(dataset, steps, quantity, values, slope))
