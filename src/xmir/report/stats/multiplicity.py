"""Multiple-testing control for the report (Benjamini-Hochberg, via scipy)."""

from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def fdr_adjust(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), NaN kept as NaN."""
    values = np.asarray(p_values, dtype=float)
    finite = np.isfinite(values)
    adjusted = np.full(values.shape, np.nan)
    if finite.any():
        adjusted[finite] = stats.false_discovery_control(values[finite], method="bh")
    return adjusted.tolist()
