"""``mono`` (X-X): every global batch is monolingual, its language drawn uniformly per step."""

from __future__ import annotations

from xmir.train.sampling.base import BatchSampler, EpochDraws
from xmir.train.sampling.batches import BatchKind, PlannedPair


class MonoSampler(BatchSampler):
    """Every pair has query and passage in the batch's one language."""

    name = "mono"

    def next_batch(self, draws: EpochDraws) -> tuple[BatchKind, tuple[PlannedPair, ...]]:
        return "mono", self.mono_batch(draws)
