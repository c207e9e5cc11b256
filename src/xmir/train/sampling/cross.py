"""``cross`` (X-Y): every pair has its query and passage in different languages."""

from __future__ import annotations

from xmir.train.sampling.base import BatchSampler, EpochDraws
from xmir.train.sampling.batches import BatchKind, PlannedPair


class CrossSampler(BatchSampler):
    """Every pair cross-lingual, its languages drawn per pair from its item's languages."""

    name = "cross"

    def next_batch(self, draws: EpochDraws) -> tuple[BatchKind, tuple[PlannedPair, ...]]:
        return "cross", tuple(self.cross_pairs(draws, self.global_size))
