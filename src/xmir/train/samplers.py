"""The batch-plan API under its earlier import path: the samplers live in
:mod:`xmir.train.sampling` (one module per strategy), the names in :mod:`xmir.train.strategies`.

``BatchPlanner(pool, "hybrid", batch_size=..., world_size=..., alpha=..., seed=...)`` builds
the sampler of a named strategy (:func:`xmir.train.strategies.build_sampler`).
"""

from __future__ import annotations

from xmir.train.sampling import (
    BatchKind,
    BatchRecord,
    BatchSampler,
    GlobalBatch,
    ItemPool,
    PlannedPair,
    batch_records,
    summarise_mix,
)
from xmir.train.strategies import build_sampler, names

BatchPlanner = build_sampler
STRATEGIES = names()

__all__ = [
    "STRATEGIES",
    "BatchKind",
    "BatchPlanner",
    "BatchRecord",
    "BatchSampler",
    "GlobalBatch",
    "ItemPool",
    "PlannedPair",
    "batch_records",
    "summarise_mix",
]
