"""The bridge from a batch plan to the sentence-transformers trainer.

The plan is laid out row by row (step 1 rank 0, step 1 rank 1, ..., step 2 rank 0, ...) as a
lazy :class:`datasets.Dataset`: it stores only row numbers and builds the texts of a batch when
the batch is read. :class:`ConsecutiveBatchSampler` yields consecutive ``batch_size`` rows. Under
data parallelism accelerate wraps it in ``BatchSamplerShard`` (``split_batches=False``), which
hands batch ``i`` to rank ``i % world_size``: so rank ``r`` at step ``t`` gets slice ``r`` of
global batch ``t``. :func:`expected_rows` says which rows those are, and the trainer checks it at
every step.

The row number travels in the ``label`` column: it is the one non-text column the
sentence-transformers collator passes on to the loss untouched (MultipleNegativesRankingLoss
ignores labels), which is how each rank can check what its loss actually receives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sentence_transformers.base.sampler import DefaultBatchSampler

from xmir.train.sampling import GlobalBatch, ItemPool

if TYPE_CHECKING:
    from datasets import Dataset

ROW_COLUMN = "label"


class PlanRows:
    """The plan flattened to rows: item index, query language, passage language per row."""

    def __init__(self, batches: Sequence[GlobalBatch], pool: ItemPool, *, use_negatives: bool):
        self.pool = pool
        self.use_negatives = use_negatives
        pairs = [pair for batch in batches for pair in batch.pairs]
        self.items = np.array([pair.item for pair in pairs], dtype=np.int64)
        self.query_langs = [pair.query_lang for pair in pairs]
        self.passage_langs = [pair.passage_lang for pair in pairs]

    def __len__(self) -> int:
        return len(self.items)

    def texts(self, rows: Sequence[int]) -> dict[str, list[Any]]:
        """The anchor / positive (/ negative) columns of ``rows``, plus the row numbers."""
        anchors, positives, negatives = [], [], []
        for row in rows:
            item = int(self.items[row])
            query = self.pool.get(item, self.query_langs[row])
            passage = self.pool.get(item, self.passage_langs[row])
            anchors.append(query.query)
            positives.append(passage.positive)
            negatives.append(passage.negative)
        columns: dict[str, list[Any]] = {"anchor": anchors, "positive": positives}
        if self.use_negatives:
            columns["negative"] = negatives
        columns[ROW_COLUMN] = list(rows)
        return columns


def build_plan_dataset(rows: PlanRows) -> Dataset:
    """A dataset of ``len(rows)`` rows whose texts are built on access, in plan order."""
    from datasets import Dataset

    dataset = Dataset.from_dict({ROW_COLUMN: np.arange(len(rows), dtype=np.int64)})
    dataset.set_transform(lambda batch: rows.texts([int(row) for row in batch[ROW_COLUMN]]))
    return dataset


class ConsecutiveBatchSampler(DefaultBatchSampler):
    """Batches of consecutive rows in dataset order (the plan already fixed the order)."""

    def __iter__(self) -> Iterator[list[int]]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield list(range(start, start + self.batch_size))

    def __len__(self) -> int:
        return len(self.sampler) // self.batch_size


def expected_rows(step: int, rank: int, world_size: int, batch_size: int) -> range:
    """The plan rows rank ``rank`` must train on at optimizer step ``step`` (from 1)."""
    start = ((step - 1) * world_size + rank) * batch_size
    return range(start, start + batch_size)
