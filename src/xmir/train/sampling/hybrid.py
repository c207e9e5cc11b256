"""``hybrid``: each whole step is a mono batch with probability ``alpha``, else a cross batch
(Elmahdy et al. 2024). All ranks share the step's batch kind and, for mono, its language."""

from __future__ import annotations

from xmir.train.sampling.base import BatchSampler, EpochDraws
from xmir.train.sampling.batches import BatchKind, PlannedPair


class HybridSampler(BatchSampler):
    """Batch-level mixing: one coin per step decides mono or cross for the whole batch."""

    name = "hybrid"

    def next_batch(self, draws: EpochDraws) -> tuple[BatchKind, tuple[PlannedPair, ...]]:
        if draws.kind.random() < self.alpha:
            return "mono", self.mono_batch(draws)
        return "cross", tuple(self.cross_pairs(draws, self.global_size))
