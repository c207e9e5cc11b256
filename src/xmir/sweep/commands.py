"""The ``xmir train`` / ``xmir eval`` command lines of a run (one process each).

The sweep runs exactly these commands, so running them by hand, one by one, reproduces a
run (``benchmarks/sweep_overhead.py`` does that to measure the sweep's own overhead).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from xmir.errors import XmirError
from xmir.evaluate.config import EvalConfig
from xmir.options import command_args
from xmir.paths import TRAIN_RECORD_FILE
from xmir.sweep.layout import SweepLayout, eval_file_name
from xmir.sweep.miracl_args import miracl_eval_args, overlap_checked_datasets
from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import EvalSet, MiraclEvalSet, SweepSpec
from xmir.train.config import SNAPSHOT_DIR, TrainConfig, TrainRunOptions
from xmir.train.record import TrainRecord

# The same interpreter as the sweep, so a run uses exactly this installation of xmir.
DEFAULT_CLI: tuple[str, ...] = (sys.executable, "-m", "xmir")
MODEL_DIR = "model"
# A run saves a checkpoint at least this often, so an interrupted short run resumes.
SWEEP_SAVE_EVERY = 16


@dataclass(frozen=True)
class Step:
    """One process of a run: its name (``train``, ``eval-xquad-r``) and its arguments."""

    name: str
    args: list[str]

    @property
    def log_name(self) -> str:
        return f"{self.name}.log"


def train_args(
    spec: SweepSpec, run: PlannedRun, model_dir: Path, *, resume: bool = False
) -> list[str]:
    """Arguments of ``xmir train`` for ``run`` (after the ``xmir`` program itself); ``resume``
    continues an unfinished run in ``model_dir`` from its last checkpoint. The options are
    :class:`TrainConfig` fields (None: left out, so ``xmir train`` takes its default)."""
    budget, holdout = spec.budget, spec.holdout
    checked = overlap_checked_datasets(spec)  # the zero-shot guard checks these eval sets
    values = {
        "model": run.model,
        "train_data": spec.train_data,
        "strategy": run.strategy,
        "alpha": run.alpha,
        "batch_size": run.batch_size,
        "steps": budget.steps,
        "lr": budget.lr if run.lr is None else run.lr,
        "temperature": budget.temperature if run.temperature is None else run.temperature,
        "lr_schedule": None if budget.lr_schedule == "linear" else budget.lr_schedule,
        "fixed_warmup_steps": budget.warmup_steps,
        "snapshot_at": budget.eval_at or None,
        "seed": run.seed,
        "out": model_dir,
        "holdout": None if holdout is None else holdout.fraction,
        "holdout_seed": None if holdout is None else holdout.seed,
        "save_every": min(SWEEP_SAVE_EVERY, budget.steps),
        "freeze_embeddings": budget.freeze_embeddings or None,
        "beta2_reference_batch": budget.beta2_reference_batch,
        "eval_data": ",".join(checked) or None,
        "allow_overlap": spec.allow_overlap or None,
        "resume": resume or None,
    }
    return ["train", *command_args(values, TrainConfig, TrainRunOptions), *budget.extra_train_args]


def eval_args(
    spec: SweepSpec,
    model: str,
    eval_set: EvalSet | MiraclEvalSet,
    out: Path,
    *,
    evaluated_once: bool = False,
) -> list[str]:
    """Arguments of ``xmir eval`` of ``model`` on one eval set (``evaluated_once``: a model
    of this run alone, whose MIRACL passage embeddings are not kept); the options are
    :class:`EvalConfig` fields."""
    if isinstance(eval_set, MiraclEvalSet):
        return miracl_eval_args(spec, model, eval_set, out, keep_embeddings=not evaluated_once)
    split = eval_set.split != "all" and spec.holdout is not None
    sampled = eval_set.max_questions is not None
    values = {
        "model": model,
        "dataset": eval_set.dataset,
        "split": eval_set.split if split else None,
        "holdout": spec.holdout.fraction if split and spec.holdout else None,
        "holdout_seed": spec.holdout.seed if split and spec.holdout else None,
        "max_questions": eval_set.max_questions,
        "seed": eval_set.subset_seed if sampled else None,
        "out": out,
    }
    return ["eval", *command_args(values, EvalConfig), *spec.extra_eval_args]


SOURCES_DIR = "sources"  # a combination's own copies of source models that were deleted


def source_model_dir(layout: SweepLayout, run: PlannedRun, source_id: str) -> Path:
    """Where a combination finds a source run's model: the source run's own folder while it
    is kept, else the combination's copy (retrained, same config and seed)."""
    kept = layout.run_dir(source_id) / MODEL_DIR
    if model_is_complete(kept):
        return kept
    return layout.run_dir(run.run_id) / SOURCES_DIR / source_id


def model_is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a model whose training finished."""
    try:
        record = TrainRecord.read(folder / TRAIN_RECORD_FILE)
    except XmirError:  # not a training record: not a model to reuse
        return False
    return record is not None and record.is_finished


def combination_steps(
    spec: SweepSpec, run: PlannedRun, layout: SweepLayout, sources: list[PlannedRun]
) -> list[Step]:
    """Retrain any source model that is gone (identical config and seed), then evaluate the
    weight average or score ensemble of the two (see :mod:`xmir.models.combined`) at every
    evaluated budget: of the sources' snapshots at the shorter budgets, of their final models
    last, so a combination stands beside its sources at each budget."""
    steps: list[Step] = []
    folders = []
    for source in sources:
        folder = source_model_dir(layout, run, source.run_id)
        if not model_is_complete(folder):
            steps.append(Step(f"train-{source.strategy}", train_args(spec, source, folder)))
        folders.append(folder)
    for budget in [*spec.budget.eval_at, None]:
        parts = [f if budget is None else f / SNAPSHOT_DIR / f"step-{budget}" for f in folders]
        model = f"{run.strategy}:{run.alpha:g}:{parts[0]},{parts[1]}"
        for eval_set in spec.eval:
            out = layout.run_dir(run.run_id) / eval_file_name(eval_set.key, budget)
            args = eval_args(spec, model, eval_set, out, evaluated_once=True)
            at = "" if budget is None else f"@{budget}"
            steps.append(Step(f"eval-{eval_set.key}{at}", args))
    return steps


def run_steps(
    spec: SweepSpec,
    run: PlannedRun,
    layout: SweepLayout,
    *,
    resume: bool = False,
    sources: list[PlannedRun] | None = None,
) -> list[Step]:
    """The processes of ``run`` in order: train (unless baseline; ``resume``: continuing from
    the last checkpoint), then one eval per set and evaluated budget (the snapshots of
    shorter budgets first, the final model last). A combination needs its ``sources``."""
    if run.is_combination:
        return combination_steps(spec, run, layout, sources or [])
    run_dir = layout.run_dir(run.run_id)
    model_dir = run_dir / MODEL_DIR
    steps: list[Step] = []
    if not run.is_baseline:
        steps.append(Step("train", train_args(spec, run, model_dir, resume=resume)))
        for budget in spec.budget.eval_at:
            snapshot = model_dir / SNAPSHOT_DIR / f"step-{budget}"
            for eval_set in spec.eval:
                out = run_dir / eval_file_name(eval_set.key, budget)
                steps.append(
                    Step(
                        f"eval-{eval_set.key}@{budget}",
                        eval_args(spec, str(snapshot), eval_set, out, evaluated_once=True),
                    )
                )
    model = run.model if run.is_baseline else str(model_dir)
    for eval_set in spec.eval:
        out = run_dir / eval_file_name(eval_set.key)
        args = eval_args(spec, model, eval_set, out, evaluated_once=not run.is_baseline)
        steps.append(Step(f"eval-{eval_set.key}", args))
    return steps
