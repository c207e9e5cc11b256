"""Everything a run decides before touching a model: data, overlap guard, batch plan.

``--dry-run`` stops here (and writes ``batches.jsonl``); the real run continues from the same
:class:`PreparedRun`, so both describe exactly the same batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmir.data.overlap import OverlapReport, check_overlap, eval_texts_of, guard_overlap
from xmir.data.parallel import ParallelData, load_training_data
from xmir.errors import XmirError
from xmir.io import atomic_write_text
from xmir.train.config import TrainConfig
from xmir.train.samplers import (
    BatchPlanner,
    GlobalBatch,
    ItemPool,
    batch_records,
    summarise_mix,
)

BATCHES_NAME = "batches.jsonl"


@dataclass(frozen=True)
class PreparedRun:
    """A run's data, pool, plan and checks, identical on every rank."""

    config: TrainConfig
    data: ParallelData
    pool: ItemPool
    planner: BatchPlanner
    batches: list[GlobalBatch]
    world_size: int
    overlap: dict[str, Any]
    use_negatives: bool

    @property
    def total_steps(self) -> int:
        return len(self.batches)

    @property
    def global_batch_size(self) -> int:
        return self.planner.global_size

    def mix(self) -> dict[str, Any]:
        return summarise_mix(self.batches, self.pool.languages)


def world_size_from_env() -> int:
    """The data-parallel world size the launcher announced (torchrun, accelerate, MPI), as
    accelerate reads it; 1 without a launcher."""
    from accelerate.utils.environment import get_cpu_distributed_information

    try:
        return max(1, get_cpu_distributed_information().world_size)
    except ValueError:
        raise XmirError("the launcher's WORLD_SIZE (or MPI size) is not a number") from None


def rank_from_env() -> int:
    """This process's global rank as the launcher announced it (0 without a launcher)."""
    from accelerate.utils.environment import get_cpu_distributed_information

    return get_cpu_distributed_information().rank


def prepare_run(config: TrainConfig, world_size: int = 1) -> PreparedRun:
    """Read the data, run the zero-shot guard and plan every global batch of the run."""
    data = load_training_data(
        config.train_data,
        train_format=config.train_format,
        data_dir=config.data_dir,
        languages=list(config.languages) if config.languages else None,
        with_context=config.with_context,
        positive_unit=config.positive_unit,  # type: ignore[arg-type]
        max_questions=config.max_questions,
    )
    overlap = overlap_record(config, data)
    pool = ItemPool(data.items, config.languages)
    planner = BatchPlanner(
        pool,
        config.strategy,
        batch_size=config.batch_size,
        world_size=world_size,
        alpha=config.alpha,
        seed=config.seed,
    )
    batches = planner.plan(config.total_steps(planner.steps_per_epoch))
    use_negatives = config.hard_negatives and pool.all_have_negatives
    return PreparedRun(config, data, pool, planner, batches, world_size, overlap, use_negatives)


def overlap_record(config: TrainConfig, data: ParallelData) -> dict[str, Any]:
    """Check the training texts against ``--eval-data``; refuse on overlap unless allowed."""
    if config.eval_data is None:
        return {"checked": False, "reason": "no --eval-data named for this run"}
    eval_set = load_eval_set(config)
    report: OverlapReport = check_overlap(data.texts(), eval_texts_of(eval_set), eval_set.name)
    report = guard_overlap(report, allow=config.allow_overlap)
    return {"checked": True, **report.to_record()}


def load_eval_set(config: TrainConfig, max_questions: int | None = None) -> Any:
    """The LAReQA evaluation set named by ``--eval-data`` (a name or a LAReQA folder)."""
    from xmir.data.lareqa import load_lareqa

    assert config.eval_data is not None
    name, data_dir = config.eval_data, config.data_dir
    path = Path(name).expanduser()
    if path.is_dir():
        name, data_dir = path.name, path
    return load_lareqa(name, data_dir, None, max_questions=max_questions)


def batches_jsonl(run: PreparedRun) -> str:
    """One JSON line per step and rank: step, rank, type, query_langs, passage_langs,
    item_ids (lists in batch order)."""
    lines = [
        json.dumps(record.to_json(), ensure_ascii=False)
        for batch in run.batches
        for record in batch_records(batch, run.pool, run.world_size)
    ]
    return "\n".join(lines) + "\n"


def write_batches(run: PreparedRun, out: Path) -> Path:
    """Write ``batches.jsonl`` atomically into ``out``."""
    path = Path(out) / BATCHES_NAME
    atomic_write_text(path, batches_jsonl(run))
    return path


def plan_record(run: PreparedRun) -> dict[str, Any]:
    """What the run metadata says about the data and the plan."""
    return {
        "data": run.data.summary(),
        "languages": list(run.pool.languages),
        "item_ids_in_pool": len(run.pool),
        "cross_eligible_item_ids": len(run.pool.cross_items),
        "hard_negatives_used": run.use_negatives,
        "world_size": run.world_size,
        "per_device_batch_size": run.config.batch_size,
        "global_batch_size": run.global_batch_size,
        "steps_per_epoch": run.planner.steps_per_epoch,
        "total_steps": run.total_steps,
        "effective_alpha": run.planner.alpha,
        "realised_mix": run.mix(),
        "overlap_check": run.overlap,
    }
