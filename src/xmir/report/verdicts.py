"""The words a report may use for a difference, decided by the numbers alone.

- ``ahead`` / ``behind``: two or more paired seeds, and the test over seeds and question-id
  clusters rejects "no difference" at 0.05 after Holm's correction within its family;
- ``level``: two or more paired seeds, and the corrected test does not reject;
- ``1 seed: training noise unknown``: one seed, so no verdict about the difference is made
  (its interval covers question sampling only).
"""

from __future__ import annotations

import math

from xmir.report.stats.intervals import Estimate

SIGNIFICANCE = 0.05
AHEAD, BEHIND, LEVEL = "ahead", "behind", "level"
ONE_SEED = "1 seed: training noise unknown"
ORDER = (AHEAD, LEVEL, BEHIND, ONE_SEED)


def verdict(estimate: Estimate, adjusted_p: float) -> str:
    """The word for ``estimate`` (this minus the other) given its family-adjusted p-value."""
    if not estimate.noise_known:
        return ONE_SEED
    if not math.isfinite(adjusted_p) or adjusted_p >= SIGNIFICANCE:
        return LEVEL
    return AHEAD if estimate.estimate > 0 else BEHIND


def regret_verdict(verdict_word: str) -> str:
    """The verdict for hybrid on a quantity where lower is better (a regret or a standing):
    a distinguishable rise puts hybrid ``behind``, a fall ``ahead``."""
    return {AHEAD: BEHIND, BEHIND: AHEAD}.get(verdict_word, verdict_word)


def pooled_spread(*stds: float | None) -> float | None:
    """Root mean square of the seed standard deviations that are known (None if none is)."""
    known = [s for s in stds if s is not None and math.isfinite(s)]
    return math.sqrt(sum(s * s for s in known) / len(known)) if known else None


def movement(verdict_word: str, *, lower_is_better: bool = False) -> str:
    """``improves`` / ``worsens`` / ``does not move distinguishably`` for a slope's verdict
    (``ahead`` = rises) of a quantity where higher is better (or lower, for regret-like ones)."""
    if verdict_word == ONE_SEED:
        return "cannot be judged (1 seed: training noise unknown)"
    if verdict_word == LEVEL:
        return "does not move distinguishably"
    rises = verdict_word == AHEAD
    return "worsens" if rises == lower_is_better else "improves"
