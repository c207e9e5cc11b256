"""Multiple-testing control for the report: Holm's step-down adjustment within a family."""

from __future__ import annotations

import numpy as np


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (family-wise error control); NaN kept as NaN and not counted."""
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(values.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(values))
    if finite.size == 0:
        return adjusted.tolist()
    order = finite[np.argsort(values[finite], kind="stable")]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted.tolist()
