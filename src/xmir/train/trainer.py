"""Fine-tuning on top of the sentence-transformers trainer with planned mono/cross batches.

What xmir adds to ``SentenceTransformerTrainer``: the batch plan (see
:mod:`xmir.train.plan_dataset`), a per-step check that each rank's loss receives exactly its
slice of the plan, the realised batch mix in every training log (both in
:mod:`xmir.train.hf_trainer`), verified checkpoints (manifests written by an ``on_save``
callback, see :mod:`xmir.train.checkpoints`), a model card, and the run metadata
(:mod:`xmir.train.run_metadata`). The loss is MultipleNegativesRankingLoss (InfoNCE with
in-batch negatives, scale = 1 / temperature), or its GradCache variant for batches larger than
memory allows; under data parallelism embeddings are gathered across devices (see
:mod:`xmir.train.run_setup`).

Output folder::

    OUT/                a sentence-transformers model with its card (at the end of the run)
    OUT/xmir-train.json run metadata (status "running" until the model is saved)
    OUT/batches.jsonl   the batch plan, one line per step and rank
    OUT/checkpoints/    checkpoint-<step> folders for --resume
    OUT/evals/          step-<N>.json when --eval-every is given
    OUT/snapshots/      step-<N>/ models when --snapshot-at is given
    OUT/logs/           TensorBoard event files with --report-to tensorboard
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from xmir.errors import XmirError
from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
from xmir.models import registry
from xmir.output_guard import check_output_folder, is_plan_folder, is_train_folder
from xmir.paths import TRAIN_RECORD_FILE
from xmir.train.callbacks import (
    CheckpointManifests,
    LareqaEvalCallback,
    MixProgressCallback,
    SnapshotCallback,
    with_model,
)
from xmir.train.checkpoints import discard_partial
from xmir.train.config import CHECKPOINT_DIR, SNAPSHOT_DIR, TrainConfig
from xmir.train.final_model import save_model_atomically
from xmir.train.hf_trainer import LOGS_DIR, XmirTrainer, log_to_tensorboard
from xmir.train.plan_dataset import PlanRows, build_plan_dataset
from xmir.train.prepare import (
    PreparedRun,
    distributed_rank,
    distributed_world_size,
    load_eval_set,
    prepare_run,
    write_batches,
)
from xmir.train.record import TrainRecord
from xmir.train.resume import check_resumable, checkpoint_step, resume_point
from xmir.train.run_metadata import read_run_record, record_outcome, run_metadata
from xmir.train.run_setup import (
    build_loss,
    check_reporting,
    freeze_word_embeddings,
    resolve_precision,
    training_arguments,
)
from xmir.train.sampling import summarise_mix

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.evaluate.result import EvalResult
    from xmir.models.registry import LoadedModel


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[TrainerCallback] = (),
) -> dict[str, Any]:
    """Fine-tune ``config.model`` with the planned batches; returns the run metadata.

    Launch the same call under ``torchrun`` / ``accelerate launch`` for data parallelism.
    """
    out = Path(config.out)
    world_size = distributed_world_size()
    main = distributed_rank() == 0
    if main:
        check_output_folder(out, owned=is_train_folder, what="an xmir training run")
    recorded = read_run_record(out)
    if resume:
        check_resumable(config, out, recorded)
        if recorded is not None and recorded.get("status") == "finished":
            return recorded  # same settings, nothing left to do
    precision = resolve_precision(config.precision)  # impossible choices fail before any work
    check_reporting(config.report_to)
    checkpoint = resume_point(config, out, recorded, resume=resume, check_fresh=main)
    if main:
        discard_partial(out / CHECKPOINT_DIR)  # saves cut off by a crash
    run = prepare_run(config, world_size)
    loaded = registry.load_model(config.model, device="cpu")  # the trainer moves it to its device
    model = loaded.model
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    frozen = freeze_word_embeddings(model) if config.freeze_embeddings else 0
    metadata = run_metadata(config, run, loaded, model, frozen, precision, recorded, checkpoint)
    if main:
        write_batches(run, out)
        TrainRecord.model_validate(metadata).to_disk(out / TRAIN_RECORD_FILE)

    def save(trained: SentenceTransformer, folder: Path, steps: int | None = None) -> None:
        mix = summarise_mix(run.batches[:steps], run.pool.languages)
        save_model_atomically(trained, folder, metadata, mix)

    manifests = CheckpointManifests(
        out / CHECKPOINT_DIR, config.keep_checkpoints, {"config_fingerprint": config.fingerprint()}
    )
    extra, evaluator = _xmir_callbacks(config, run, loaded, manifests, save)
    trainer = _build_trainer(config, run, loaded, precision, [*extra, *callbacks])
    if config.report_to == "tensorboard":
        log_to_tensorboard(trainer, out / LOGS_DIR, main)
    start_step = checkpoint_step(checkpoint)
    clock = time.perf_counter()
    output = _run_trainer(trainer, checkpoint, manifests, out, main)
    seconds = time.perf_counter() - clock
    trainer.accelerator.wait_for_everyone()
    if main:
        record_outcome(
            metadata,
            steps=trainer.state.global_step - start_step,
            seconds=seconds,
            global_batch_size=run.global_batch_size,
            training_loss=output.training_loss,
            log_history=trainer.state.log_history,
            evaluations=(recorded or {}).get("evaluations", [])
            + (evaluator.summaries if evaluator else []),
        )
        save(model, out)
        TrainRecord.model_validate(metadata).to_disk(out / TRAIN_RECORD_FILE)
    trainer.accelerator.wait_for_everyone()
    return metadata


def _xmir_callbacks(
    config: TrainConfig,
    run: PreparedRun,
    loaded: LoadedModel,
    manifests: CheckpointManifests,
    save: Callable[..., None],
) -> tuple[list[TrainerCallback], LareqaEvalCallback | None]:
    """xmir's own Trainer callbacks (progress, manifests, snapshots, evaluations) and the
    evaluation callback among them, whose summaries go into the run record."""
    out = Path(config.out)
    extra: list[TrainerCallback] = [MixProgressCallback(run.batches), manifests]
    if config.snapshot_at:
        extra.append(
            SnapshotCallback(
                config.snapshot_at,
                out / SNAPSHOT_DIR,
                lambda trained, folder: save(trained, folder, int(folder.name.split("-")[-1])),
            )
        )
    evaluator = _eval_callback(config, loaded, out)
    if evaluator is not None:
        extra.append(evaluator)
    return extra, evaluator


def _build_trainer(
    config: TrainConfig,
    run: PreparedRun,
    loaded: LoadedModel,
    precision: str,
    callbacks: list[TrainerCallback],
) -> XmirTrainer:
    """The Trainer over the planned batches, without the default console callbacks."""
    args = training_arguments(config, run, loaded, precision)
    if args.world_size != run.world_size:
        raise XmirError(
            f"the trainer runs {args.world_size} data-parallel processes but the launcher "
            f"announced {run.world_size}; launch with torchrun (or accelerate launch) so that "
            "WORLD_SIZE is set"
        )
    trainer = XmirTrainer(
        model=loaded.model,
        args=args,
        train_dataset=build_plan_dataset(
            PlanRows(run.batches, run.pool, use_negatives=run.use_negatives)
        ),
        loss=build_loss(loaded.model, config, run.world_size),
        callbacks=callbacks,
        batches=run.batches,
    )
    for default in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(default)
    return trainer


def _run_trainer(
    trainer: XmirTrainer,
    checkpoint: Path | None,
    manifests: CheckpointManifests,
    out: Path,
    main: bool,
) -> Any:
    """``trainer.train`` from ``checkpoint``; a failed checkpoint write becomes a user error
    (the partial checkpoint is discarded, earlier ones are intact)."""
    try:
        return trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except OSError as error:
        if manifests.saving is None:
            raise
        if main:
            discard_partial(out / CHECKPOINT_DIR)
        raise XmirError(
            f"could not write checkpoint {manifests.saving} under {out / CHECKPOINT_DIR} "
            f"({error.strerror or error}); earlier checkpoints are intact: free disk space "
            "and rerun with --resume"
        ) from error


def dry_run(config: TrainConfig, world_size: int | None = None) -> PreparedRun:
    """Only plan the batches: write ``batches.jsonl`` and return the prepared run."""
    out = Path(config.out)
    if (out / TRAIN_RECORD_FILE).exists():
        raise XmirError(f"{out} holds a training run; give --dry-run another --out folder")
    check_output_folder(out, owned=is_plan_folder, what="the plan of an xmir dry run")
    run = prepare_run(config, world_size or distributed_world_size())
    write_batches(run, out)
    return run


def _eval_callback(
    config: TrainConfig, loaded: LoadedModel, out: Path
) -> LareqaEvalCallback | None:
    if config.eval_every is None:
        return None
    eval_set = load_eval_set(config, max_questions=config.eval_max_questions)
    options = EvalOptions(
        with_context=config.with_context, use_cache=False, show_progress=False, seed=config.seed
    )

    def evaluate(model: Any) -> EvalResult:
        return evaluate_lareqa(with_model(loaded, model), eval_set, options).without_per_query()

    return LareqaEvalCallback(config.eval_every, evaluate, out)
