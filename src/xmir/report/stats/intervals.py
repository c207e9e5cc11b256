"""Intervals of a statistic over paired seeds and clustered question ids.

Every statistic of the report is (or is linearised into) a weighted sum of per-(seed,
question id) AP values ``z[s, q]``, where seed ``s`` of every strategy is the same training
seed (paired). Its variance has three parts, estimated separately:

- training noise: the sample variance over seeds of the per-seed statistic, divided by the
  number of seeds (``n_seeds - 1`` degrees of freedom);
- question sampling: the cluster-robust (sandwich) variance of the seed-averaged statistic
  over clusters of question ids (paragraphs), ``C / (C - 1) * sum_c T_c**2 / Q**2``, which is
  what a cluster bootstrap estimates;
- the seed x question interaction, which both of the above contain, is estimated from the
  two-way residuals and counted once.

The interval's half-width is ``sqrt(t_{S-1}^2 * V_seed + t_{C-1}^2 * V_question)``: each part
scaled by the t quantile of its own degrees of freedom (seeds - 1, clusters - 1), so with few
seeds it is as wide as a t interval over seeds must be. (Satterthwaite's pooled degrees of
freedom under-cover with two seeds: a small seed variance drawn by chance makes them large.) With one seed the training noise is
unknown: the interval then covers question sampling only and says so (``seeds == 1``).
Everything is vectorised over leading axes, so a simulation of many studies is one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval, two-sided p-value of "= 0" and what it rests on."""

    estimate: float
    low: float
    high: float
    p: float
    se: float
    seeds: int
    clusters: int
    seed_share: float  # share of the variance that is training noise (NaN for one seed)

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def noise_known(self) -> bool:
        """Training noise was measured (two or more paired seeds)."""
        return self.seeds >= 2


def one_hot(clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """(Q, C) indicator of each question id's cluster (clusters given as integer codes)."""
    codes = np.asarray(clusters, dtype=int)
    n = int(codes.max()) + 1 if codes.size else 0
    matrix = np.zeros((codes.size, n))
    matrix[np.arange(codes.size), codes] = 1.0
    return matrix, n


def variance_parts(z: np.ndarray, membership: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(training-noise variance, question-sampling variance) of ``z.mean((-2, -1))``.

    ``z``: (..., S, Q) contributions per seed and question id; ``membership``: (Q, C) one-hot
    clusters. The training part is NaN for one seed; the question part then still holds the
    seed's own question-level noise (nothing to separate it from).
    """
    z = np.asarray(z, dtype=float)
    n_seeds, n_q = z.shape[-2], z.shape[-1]
    n_c = membership.shape[1]
    grand = z.mean(axis=(-2, -1))
    seed_means = z.mean(axis=-1)
    question_means = z.mean(axis=-2)
    totals = (question_means - grand[..., None]) @ membership  # (..., C)
    scale = n_c / max(n_c - 1, 1) / n_q**2
    v_question = scale * np.sum(totals**2, axis=-1)
    if n_seeds < 2:
        return np.full(grand.shape, np.nan), v_question
    v_seed = np.var(seed_means, axis=-1, ddof=1) / n_seeds
    residual = z - seed_means[..., None] - question_means[..., None, :] + grand[..., None, None]
    res_totals = residual @ membership  # (..., S, C)
    v_interaction = scale * np.sum(res_totals**2, axis=(-2, -1)) / ((n_seeds - 1) * n_seeds)
    return v_seed, np.maximum(v_question - v_interaction, 0.0)


def half_width(
    v_seed: np.ndarray,
    v_question: np.ndarray,
    n_seeds: int,
    n_clusters: int,
    level: np.ndarray | float,
) -> np.ndarray:
    """``sqrt(t_{S-1}^2 * v_seed + t_{C-1}^2 * v_question)`` at two-sided ``level``: each
    variance part scaled by the t quantile of its own degrees of freedom (exact when either
    part dominates, a little conservative in between); the seed part drops for one seed."""
    upper = (1 + np.asarray(level, dtype=float)) / 2
    t_question = stats.t.ppf(upper, max(n_clusters - 1, 1))
    width = t_question**2 * v_question
    if n_seeds > 1:
        width = width + stats.t.ppf(upper, n_seeds - 1) ** 2 * v_seed
    return np.sqrt(width)


def t_interval(
    estimate: np.ndarray | float,
    v_seed: np.ndarray | float,
    v_question: np.ndarray | float,
    n_seeds: int,
    n_clusters: int,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, p, se) of ``estimate`` (vectorised). The p-value of "= 0" is one minus the
    largest confidence level whose interval excludes 0 (found by bisection), so that p < 0.05
    exactly when the 95% interval excludes 0."""
    estimate = np.asarray(estimate, dtype=float)
    v_seed = np.nan_to_num(np.asarray(v_seed, dtype=float), nan=0.0)
    v_question = np.asarray(v_question, dtype=float)
    width = half_width(v_seed, v_question, n_seeds, n_clusters, confidence)
    low_level = np.zeros(estimate.shape)
    high_level = np.ones(estimate.shape)
    for _ in range(40):
        middle = (low_level + high_level) / 2
        excludes = half_width(v_seed, v_question, n_seeds, n_clusters, middle) < np.abs(estimate)
        low_level = np.where(excludes, middle, low_level)
        high_level = np.where(excludes, high_level, middle)
    p = 1 - (low_level + high_level) / 2
    se = np.sqrt(v_seed + v_question)
    return estimate - width, estimate + width, p, se


def estimate_of(estimate: float, z: np.ndarray, membership: np.ndarray) -> Estimate:
    """The :class:`Estimate` of a statistic whose (linearised) contributions are ``z`` (S, Q)."""
    n_seeds = z.shape[0]
    v_seed, v_question = variance_parts(z, membership)
    n_clusters = int(np.count_nonzero(membership.sum(axis=0)))
    low, high, p, se = t_interval(estimate, v_seed, v_question, n_seeds, n_clusters)
    total = float(np.nan_to_num(v_seed)) + float(v_question)
    share = float(v_seed) / total if n_seeds > 1 and total > 0 else math.nan
    return Estimate(
        float(estimate),
        float(low),
        float(high),
        float(p),
        float(se),
        n_seeds,
        n_clusters,
        share,
    )
