"""Ranking metrics computed from the 1-based ranks of each query's relevant items.

Ranks come as a padded ``(queries, max_relevant)`` array (a flat list is one query's ranks);
padding slots hold 0 (or any value <= 0) and are ignored. Ranks of one query must be distinct (ties are broken by candidate
index upstream), so these equal the trec_eval definitions on the full ranking.
"""

from __future__ import annotations

import numpy as np


def _sorted_valid(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks sorted ascending with padding pushed to the end, and the validity mask."""
    ranks = np.atleast_2d(np.asarray(ranks, dtype=np.float64))
    padded = np.where(ranks > 0, ranks, np.inf)
    ordered = np.sort(padded, axis=1)
    return ordered, np.isfinite(ordered)


def average_precision(ranks: np.ndarray) -> np.ndarray:
    """Per-query average precision over the full ranking (no cutoff): mean of i / rank_i."""
    ordered, valid = _sorted_valid(ranks)
    position = np.cumsum(valid, axis=1)
    precision = np.where(valid, position / np.where(valid, ordered, 1.0), 0.0)
    count = valid.sum(axis=1)
    return np.divide(precision.sum(axis=1), count, out=np.zeros(len(count)), where=count > 0)


def recall_at_k(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per-query share of relevant items ranked within the top ``k``."""
    ordered, valid = _sorted_valid(ranks)
    hits = (valid & (ordered <= k)).sum(axis=1)
    count = valid.sum(axis=1)
    return np.divide(hits, count, out=np.zeros(len(count)), where=count > 0)


def ndcg_at_k(ranks: np.ndarray, k: int, num_relevant: np.ndarray | None = None) -> np.ndarray:
    """Per-query binary nDCG@k.

    ``num_relevant`` is the number of judged-relevant items per query when it exceeds the ones
    that were retrieved (for example qrels naming documents the corpus lacks); it sets the
    ideal DCG. By default every ranked item counts.
    """
    ordered, valid = _sorted_valid(ranks)
    gains = np.where(
        valid & (ordered <= k), 1.0 / np.log2(np.where(valid, ordered, 1.0) + 1.0), 0.0
    )
    count = valid.sum(axis=1) if num_relevant is None else np.asarray(num_relevant)
    ideal_curve = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    ideal = ideal_curve[np.minimum(count, k)]
    return np.divide(gains.sum(axis=1), ideal, out=np.zeros(len(count)), where=ideal > 0)


def reciprocal_rank(ranks: np.ndarray) -> np.ndarray:
    """Per-query 1 / rank of the first relevant item (0 when there is none)."""
    ordered, _ = _sorted_valid(ranks)
    first = ordered[:, 0] if ordered.shape[1] else np.full(len(ordered), np.inf)
    return np.where(np.isfinite(first), 1.0 / np.where(np.isfinite(first), first, 1.0), 0.0)


def rank_spread(ranks: np.ndarray) -> np.ndarray:
    """Per-query max rank - min rank of the relevant items (NaN with fewer than two)."""
    ordered, valid = _sorted_valid(ranks)
    count = valid.sum(axis=1)
    finite = np.where(valid, ordered, 0.0)
    last = np.take_along_axis(finite, np.maximum(count - 1, 0)[:, None], axis=1)[:, 0]
    return np.where(count >= 2, last - finite[:, 0], np.nan)
