"""Hybrid batches in your own sentence-transformers training, with xmir's planner.

    XMIR_DATA_DIR=... python examples/hybrid_batches_in_your_trainer.py MODEL OUT_DIR

The planner fixes every step's global batch (type, languages, item ids) up front; the plan
dataset lays it out in order and ``ConsecutiveBatchSampler`` reads it back unchanged, so
under ``torchrun`` each rank trains on its slice of the same global batch.
"""

from __future__ import annotations

import sys

from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from xmir.data.parallel import load_training_data
from xmir.train.plan_dataset import ConsecutiveBatchSampler, PlanRows, build_plan_dataset
from xmir.train.sampling import ItemPool, summarise_mix
from xmir.train.strategies import build_sampler


def main(model_path: str, out_dir: str, steps: int = 4, batch_size: int = 8) -> None:
    data = load_training_data("mlqa-r")
    pool = ItemPool(data.items)
    planner = build_sampler(pool, "hybrid", batch_size=batch_size, world_size=1, alpha=0.5, seed=0)
    batches = planner.plan(steps)
    print(summarise_mix(batches, pool.languages))
    dataset = build_plan_dataset(PlanRows(batches, pool, use_negatives=False))

    model = SentenceTransformer(model_path)
    args = SentenceTransformerTrainingArguments(
        output_dir=out_dir,
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=3e-5,
        batch_sampler=ConsecutiveBatchSampler,
        accelerator_config={"split_batches": False},
        prompts={"anchor": "query: ", "positive": "passage: "},
        report_to=[],
    )
    loss = MultipleNegativesRankingLoss(model, scale=20.0)  # temperature 0.05
    SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss).train()
    model.save(out_dir)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
