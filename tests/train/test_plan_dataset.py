"""The plan as a lazy dataset, and how accelerate hands its batches to ranks."""

from __future__ import annotations

import pytest
from accelerate.data_loader import BatchSamplerShard

from xmir.data.parallel import ParallelItem
from xmir.train.plan_dataset import (
    ROW_COLUMN,
    ConsecutiveBatchSampler,
    PlanRows,
    build_plan_dataset,
    expected_rows,
)
from xmir.train.samplers import BatchPlanner, ItemPool


def _pool(negatives: bool = False) -> ItemPool:
    items = [
        ParallelItem(
            f"id{i}",
            lang,
            f"q{i}-{lang}",
            f"p{i}-{lang}",
            f"n{i}-{lang}" if negatives else None,
        )
        for i in range(12)
        for lang in ("de", "en", "es")
    ]
    return ItemPool(items)


def test_rows_carry_the_planned_texts_in_plan_order() -> None:
    pool = _pool(negatives=True)
    batches = BatchPlanner(pool, "cross", batch_size=3, world_size=2, seed=0).plan(4)
    rows = PlanRows(batches, pool, use_negatives=True)
    dataset = build_plan_dataset(rows)
    assert len(dataset) == 4 * 2 * 3
    flat = [pair for batch in batches for pair in batch.pairs]
    got = dataset[0 : len(dataset)]
    assert list(got) == ["anchor", "positive", "negative", ROW_COLUMN]
    for row, pair in enumerate(flat):
        item = pool.item_ids[pair.item]
        assert got["anchor"][row] == f"q{item[2:]}-{pair.query_lang}"
        assert got["positive"][row] == f"p{item[2:]}-{pair.passage_lang}"
        assert got["negative"][row] == f"n{item[2:]}-{pair.passage_lang}"
        assert got[ROW_COLUMN][row] == row
    assert list(build_plan_dataset(PlanRows(batches, pool, use_negatives=False))[0]) == [
        "anchor",
        "positive",
        ROW_COLUMN,
    ]


@pytest.mark.parametrize(("world_size", "batch_size", "steps"), [(1, 4, 3), (2, 3, 5), (4, 2, 3)])
def test_accelerate_sharding_gives_each_rank_its_slice(
    world_size: int, batch_size: int, steps: int
) -> None:
    """accelerate (split_batches=False, as the trainer configures it) gives rank r the batches
    i with i % world_size == r: exactly slice r of each global batch."""
    pool = _pool()
    batches = BatchPlanner(
        pool, "hybrid", batch_size=batch_size, world_size=world_size, seed=5
    ).plan(steps)
    dataset = build_plan_dataset(PlanRows(batches, pool, use_negatives=False))
    sampler = ConsecutiveBatchSampler(dataset, batch_size=batch_size, drop_last=True)
    assert len(sampler) == steps * world_size
    for rank in range(world_size):
        shard = BatchSamplerShard(
            sampler,
            num_processes=world_size,
            process_index=rank,
            split_batches=False,
            even_batches=False,
        )
        got = list(shard)
        assert len(got) == len(shard) == steps
        for step, rows in enumerate(got, start=1):
            assert rows == list(expected_rows(step, rank, world_size, batch_size))
            texts = dataset[rows]["anchor"]
            planned = batches[step - 1].rank_pairs(rank, world_size)
            assert texts == [f"q{pool.item_ids[p.item][2:]}-{p.query_lang}" for p in planned]
