"""Question-id level numbers and a hierarchical bootstrap over question ids and seeds.

The 11 translations of an XQuAD-R question share their content (and, in the multilingual
setting, their relevant set), so they are not independent observations. Here each run's
per-query AP is first averaged over the translations of a question id; the unit of every
test and interval is the question id. Seed-to-seed variance enters by resampling seeds too:
one bootstrap replicate draws question ids with replacement (the same draw for every strategy
it compares, so comparisons stay paired) and, independently per strategy, seeds with
replacement.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from xmir.report.results import RunResult

N_RESAMPLES = 2000


def question_id(key: str) -> str:
    """``q42|de`` -> ``q42`` (a per-query key is ``<question id>|<language>``)."""
    return key.rsplit("|", 1)[0]


def qid_level_ap(run: RunResult, dataset: str, setting: str) -> dict[str, float]:
    """Per question id, the mean AP over its translations (NaN-free ids only)."""
    per_query = run.evals.get(dataset, {}).get("per_query") or {}
    sums: dict[str, list[float]] = {}
    for key, value in zip(
        per_query.get("keys", []), per_query.get(f"{setting}_ap") or [], strict=False
    ):
        if value is not None:
            sums.setdefault(question_id(key), []).append(float(value))
    return {qid: float(np.mean(values)) for qid, values in sums.items()}


@dataclass(frozen=True)
class QidMatrix:
    """AP per (seed, question id) of one strategy, on a shared list of question ids."""

    seeds: tuple[int | None, ...]
    values: np.ndarray  # (seeds, question ids)

    @property
    def seed_means(self) -> np.ndarray:
        """The setting score of each seed (mean over question ids)."""
        return self.values.mean(axis=1)

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def seed_std(self) -> float | None:
        """Sample std over seeds of the setting score; None for one seed."""
        return float(np.std(self.seed_means, ddof=1)) if len(self.seeds) > 1 else None


def aligned_matrices(
    groups: dict[str, Sequence[RunResult]], dataset: str, setting: str
) -> tuple[list[str], dict[str, QidMatrix]]:
    """Every group's runs as a :class:`QidMatrix` over the question ids all runs share."""
    tables = {
        name: [(run.seed, qid_level_ap(run, dataset, setting)) for run in runs]
        for name, runs in groups.items()
    }
    common: set[str] | None = None
    for rows in tables.values():
        for _, table in rows:
            common = set(table) if common is None else common & set(table)
    qids = sorted(common or ())
    matrices = {
        name: QidMatrix(
            tuple(seed for seed, _ in rows),
            np.array([[table[q] for q in qids] for _, table in rows], dtype=float).reshape(
                len(rows), len(qids)
            ),
        )
        for name, rows in tables.items()
    }
    return qids, matrices


class HierarchicalBootstrap:
    """Replicates of a statistic over question ids (shared) and seeds (per strategy)."""

    def __init__(self, n_qids: int, *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> None:
        self.n_qids = n_qids
        self.n_resamples = n_resamples
        self._rng = np.random.default_rng(seed)
        draws = self._rng.integers(0, max(n_qids, 1), size=(n_resamples, n_qids))
        self.qid_weights = _counts(draws, n_qids) / max(n_qids, 1)  # (B, Q), rows sum to 1
        self._seed_weights: dict[tuple[str, int], np.ndarray] = {}

    def seed_weights(self, name: str, n_seeds: int) -> np.ndarray:
        """(B, S) seed weights of one strategy (a fixed draw per strategy name)."""
        key = (name, n_seeds)
        if key not in self._seed_weights:
            draws = self._rng.integers(0, n_seeds, size=(self.n_resamples, n_seeds))
            self._seed_weights[key] = _counts(draws, n_seeds) / n_seeds
        return self._seed_weights[key]

    def replicates(self, name: str, matrix: QidMatrix) -> np.ndarray:
        """(B,) resampled setting scores of one strategy."""
        return resampled_means(
            matrix.values, self.qid_weights, self.seed_weights(name, len(matrix.seeds))
        )


def resampled_means(
    values: np.ndarray, qid_weights: np.ndarray, seed_weights: np.ndarray
) -> np.ndarray:
    """For each replicate b: sum_q qid_weights[b, q] * sum_s seed_weights[b, s] * values[s, q]."""
    return np.einsum("bq,bs,sq->b", qid_weights, seed_weights, values)


def _counts(draws: np.ndarray, size: int) -> np.ndarray:
    rows = np.repeat(np.arange(draws.shape[0]), draws.shape[1])
    counts = np.zeros((draws.shape[0], size))
    np.add.at(counts, (rows, draws.ravel()), 1.0)
    return counts


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap interval and two-sided p-value."""

    estimate: float
    low: float
    high: float
    p: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def interval(estimate: float, replicates: np.ndarray, confidence: float = 0.95) -> Interval:
    """Percentile interval of the replicates and the bootstrap p-value of "= 0" (two-sided,
    the share of replicates on the far side of zero, doubled; +1 smoothing)."""
    replicates = np.asarray(replicates, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    below = float(np.sum(replicates <= 0))
    above = float(np.sum(replicates >= 0))
    p = min(1.0, 2 * (min(below, above) + 1) / (replicates.size + 1))
    return Interval(float(estimate), float(low), float(high), p)
