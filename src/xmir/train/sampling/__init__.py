"""Batch samplers, one module per strategy on a common base (:mod:`.base`); the pool they draw
from (:mod:`.pool`) and the batches they produce (:mod:`.batches`). Which name maps to which
sampler is :mod:`xmir.train.strategies`'s business."""

from __future__ import annotations

from xmir.train.sampling.base import BatchSampler, EpochDraws, check_alpha, take_distinct
from xmir.train.sampling.batches import (
    BatchKind,
    BatchRecord,
    GlobalBatch,
    PlannedPair,
    batch_records,
    summarise_mix,
)
from xmir.train.sampling.pool import ItemPool

__all__ = [
    "BatchKind",
    "BatchRecord",
    "BatchSampler",
    "EpochDraws",
    "GlobalBatch",
    "ItemPool",
    "PlannedPair",
    "batch_records",
    "check_alpha",
    "summarise_mix",
    "take_distinct",
]
