"""The sentence-transformers trainer as xmir runs it: a per-step check that each rank's loss
receives exactly its slice of the batch plan, and the realised batch mix in every training log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformerTrainer

from xmir.train.plan_dataset import ROW_COLUMN, expected_rows
from xmir.train.sampling import GlobalBatch

LOGS_DIR = "logs"


class XmirTrainer(SentenceTransformerTrainer):
    """SentenceTransformerTrainer that checks the plan slice per step and logs the realised
    batch mix with the loss (so TensorBoard or W&B show it next to the loss curve)."""

    def __init__(self, *args: Any, batches: Sequence[GlobalBatch] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches = list(batches)

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        if model.training:
            self._check_rows(inputs.get(ROW_COLUMN))
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self.batches:
            logs = {**logs, **mix_so_far(self.batches, self.state.global_step)}
        super().log(logs, start_time)

    def _check_rows(self, rows: torch.Tensor | None) -> None:
        step = self.state.global_step + 1
        expected = expected_rows(
            step,
            self.args.process_index,
            self.args.world_size,
            self.args.per_device_train_batch_size,
        )
        got = [] if rows is None else rows.tolist()
        if got != list(expected):
            raise RuntimeError(
                f"rank {self.args.process_index} received plan rows {got[:3]}... at step {step}, "
                f"expected {expected.start}..{expected.stop - 1}: the data loader does not follow "
                "the batch plan"
            )


def mix_so_far(batches: Sequence[GlobalBatch], step: int) -> dict[str, float]:
    """The realised batch mix of steps 1..``step``, as logged scalars; ``mono_share`` is the
    share of monolingual pairs (of monolingual steps, under a batch-level strategy)."""
    done = batches[:step]
    kinds = Counter(batch.kind for batch in done)
    pairs = max(sum(len(batch.pairs) for batch in done), 1)
    logged = {
        "batch_mix/mono_share": round(sum(batch.mono_pairs for batch in done) / pairs, 4),
        "batch_mix/mono_steps": kinds["mono"],
        "batch_mix/cross_steps": kinds["cross"],
    }
    if kinds["mixed"]:
        logged["batch_mix/mixed_steps"] = kinds["mixed"]
    return logged


def log_to_tensorboard(trainer: XmirTrainer, folder: Path, main: bool) -> None:
    """Point the Trainer's TensorBoard callback at ``folder`` (only the main process writes)."""
    from transformers.integrations import TensorBoardCallback

    trainer.pop_callback(TensorBoardCallback)
    writer = None
    if main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(folder))
    trainer.add_callback(TensorBoardCallback(tb_writer=writer))
