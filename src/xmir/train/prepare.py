"""Everything a run decides before touching a model: data, overlap guard, batch plan.

``--dry-run`` stops here (and writes ``batches.jsonl``); the real run continues from the same
:class:`PreparedRun`, so both describe exactly the same batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xmir.data.holdout import Holdout
from xmir.data.lareqa import load_lareqa
from xmir.data.overlap import (
    OverlapReport,
    add_containment,
    check_overlap,
    eval_texts_of,
    guard_overlap,
)
from xmir.data.parallel import ParallelData, load_training_data
from xmir.errors import XmirError
from xmir.io import atomic_write_text
from xmir.paths import TRAIN_BATCHES_FILE
from xmir.train.config import TrainConfig
from xmir.train.sampling import (
    BatchSampler,
    GlobalBatch,
    ItemPool,
    batch_records,
    summarise_mix,
)
from xmir.train.strategies import build_sampler


@dataclass(frozen=True)
class PreparedRun:
    """A run's data, pool, plan and checks, identical on every rank."""

    config: TrainConfig
    data: ParallelData
    pool: ItemPool
    planner: BatchSampler
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


def distributed_world_size() -> int:
    """How many data-parallel processes the launcher started (torchrun, accelerate launch,
    MPI), as accelerate's ``PartialState`` sees them; 1 without a launcher."""
    return _distributed_state().num_processes


def distributed_rank() -> int:
    """This process's global rank (0 without a launcher)."""
    return _distributed_state().process_index


def _distributed_state() -> Any:
    """accelerate's process state (set up once per process; the Trainer reuses it)."""
    import torch
    from accelerate import PartialState

    try:
        return PartialState(cpu=not torch.cuda.is_available())
    except ValueError as error:
        raise XmirError(f"the launcher's distributed settings are unusable ({error})") from None


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
        holdout=None if config.holdout is None else Holdout(config.holdout, config.holdout_seed),
    )
    overlap, data = guard_zero_shot(config, data)
    pool = ItemPool(data.items, config.languages)
    planner = build_sampler(
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


def eval_data_names(config: TrainConfig) -> list[str]:
    """The evaluation sets named by ``--eval-data`` (comma-separated)."""
    if config.eval_data is None:
        return []
    return [name.strip() for name in config.eval_data.split(",") if name.strip()]


def guard_zero_shot(config: TrainConfig, data: ParallelData) -> tuple[dict[str, Any], ParallelData]:
    """Check the training texts against every ``--eval-data`` set (see
    :mod:`xmir.data.overlap`): refuse whole-text overlap unless allowed, drop the items that
    share a long word run with an evaluation text; returns the record and the kept data."""
    names = eval_data_names(config)
    if not names:
        return {"checked": False, "reason": "no --eval-data named for this run"}, data
    train_texts = data.texts()
    records: list[dict[str, Any]] = []
    drop: set[str] = set()
    drop_titles: set[str] = set()
    for name in names:
        eval_set = load_eval_set(config, name=name)
        eval_texts = eval_texts_of(eval_set)
        report: OverlapReport = check_overlap(train_texts, eval_texts, eval_set.name)
        report, contained, titles = add_containment(
            report, train_texts, eval_texts, data.titles, eval_set.article_titles
        )
        records.append(guard_overlap(report, allow=config.allow_overlap).to_record())
        drop |= contained
        drop_titles |= titles
    dropped_ids: set[str] = set()
    if (drop or drop_titles) and not config.allow_overlap:
        dropped_ids = {
            item.item_id
            for item in data.items
            if {item.query, item.positive, item.negative or ""} & drop
            or set(data.item_titles.get(item.item_id, ())) & drop_titles
        }
        data = replace(data, items=[i for i in data.items if i.item_id not in dropped_ids])
    record = {
        "checked": True,
        **records[0],
        "eval_sets": records,
        "shared_run_and_title_action": "kept (--allow-overlap)"
        if config.allow_overlap
        else "dropped (every translation of the item id)",
        "dropped_item_ids": len(dropped_ids),
        "dropped_item_id_examples": sorted(dropped_ids)[:5],
    }
    return record, data


def load_eval_set(
    config: TrainConfig, max_questions: int | None = None, name: str | None = None
) -> Any:
    """A LAReQA evaluation set named by ``--eval-data`` (a name or a LAReQA folder; the first
    one unless ``name`` is given)."""
    names = eval_data_names(config)
    assert names, "no --eval-data"
    name, data_dir = name or names[0], config.data_dir
    path = Path(name).expanduser()
    if path.is_dir():
        name, data_dir = path.name, path
    return load_lareqa(
        name, data_dir, None, max_questions=max_questions, subset_seed=config.eval_subset_seed
    )


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
    path = Path(out) / TRAIN_BATCHES_FILE
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
