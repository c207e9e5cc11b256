"""The words a report may use for a difference, decided by the numbers alone.

- ``ahead`` / ``behind``: the bootstrap test over question ids and seeds rejects "no
  difference" (Benjamini-Hochberg q < 0.05) and the difference is at least the seed-to-seed
  spread of the two strategies;
- ``within training noise``: the test rejects, but the difference is smaller than the seed
  spread (a test over queries cannot make a difference between two training runs real);
- ``level``: the test does not reject.
"""

from __future__ import annotations

import math

SIGNIFICANCE = 0.05
AHEAD, BEHIND, LEVEL, NOISE = "ahead", "behind", "level", "within training noise"
ORDER = (AHEAD, LEVEL, NOISE, BEHIND)


def verdict(difference: float, q_value: float, seed_spread: float | None) -> str:
    """The word for ``difference`` (this minus the other) given its q-value and seed spread."""
    if not math.isfinite(q_value) or q_value >= SIGNIFICANCE:
        return LEVEL
    if seed_spread is not None and abs(difference) < seed_spread:
        return NOISE
    return AHEAD if difference > 0 else BEHIND


def pooled_spread(*stds: float | None) -> float | None:
    """Root mean square of the seed standard deviations that are known (None if none is)."""
    known = [s for s in stds if s is not None and math.isfinite(s)]
    return math.sqrt(sum(s * s for s in known) / len(known)) if known else None


def movement(slope: float, low: float, high: float, *, lower_is_better: bool = False) -> str:
    """``improves`` / ``worsens`` / ``does not move distinguishably`` for a fitted slope of a
    quantity where higher is better (or lower, for regret-like quantities)."""
    if low <= 0 <= high:
        return "does not move distinguishably"
    better = slope < 0 if lower_is_better else slope > 0
    return "improves" if better else "worsens"
