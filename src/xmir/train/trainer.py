"""Fine-tuning on top of the sentence-transformers trainer with planned mono/cross batches.

What xmir adds to ``SentenceTransformerTrainer``: the batch plan (see
:mod:`xmir.train.plan_dataset`), a per-step check that each rank's loss receives exactly its
slice of the plan, the realised batch mix in every training log, verified checkpoints
(manifests written by an ``on_save`` callback, see :mod:`xmir.train.checkpoints`), a model
card, and the run metadata. The loss is MultipleNegativesRankingLoss (InfoNCE with in-batch negatives, scale =
1 / temperature), or its GradCache variant for batches larger than memory allows; under data
parallelism embeddings are gathered across devices.

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

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from sentence_transformers import SentenceTransformerTrainer
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from xmir.errors import XmirError
from xmir.io import atomic_write_json, give_normal_modes
from xmir.licenses import trained_model_licence
from xmir.output_guard import check_output_folder, is_plan_folder, is_train_folder
from xmir.provenance import library_versions, utc_now
from xmir.train.callbacks import (
    SNAPSHOT_DIR,
    CheckpointManifests,
    LareqaEvalCallback,
    MixProgressCallback,
    SnapshotCallback,
    with_model,
)
from xmir.train.checkpoints import (
    CHECKPOINT_PREFIX,
    discard_partial,
    list_checkpoints,
    verify_checkpoint,
)
from xmir.train.config import CHECKPOINT_DIR, TrainConfig
from xmir.train.model_card import save_with_card
from xmir.train.plan_dataset import (
    ROW_COLUMN,
    ConsecutiveBatchSampler,
    PlanRows,
    build_plan_dataset,
    expected_rows,
)
from xmir.train.prepare import (
    PreparedRun,
    distributed_rank,
    distributed_world_size,
    load_eval_set,
    plan_record,
    prepare_run,
    write_batches,
)
from xmir.train.sampling import GlobalBatch, summarise_mix

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel

RUN_FILE = "xmir-train.json"
MAX_GRAD_NORM = 1.0


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


# ----------------------------------------------------------------------------- building blocks


def resolve_precision(requested: str) -> str:
    """fp32 on CPU; bf16 where the GPU supports it, else fp16 (``auto``)."""
    cuda = torch.cuda.is_available()
    bf16_ok = cuda and torch.cuda.is_bf16_supported()
    if requested == "auto":
        return "bf16" if bf16_ok else "fp16" if cuda else "fp32"
    if requested == "bf16" and not bf16_ok:
        raise XmirError("--precision bf16 needs a GPU with bf16 support; use fp32 (or auto)")
    if requested == "fp16" and not cuda:
        raise XmirError("--precision fp16 needs a CUDA GPU; use fp32 (or auto) on CPU")
    return requested


def freeze_word_embeddings(model: SentenceTransformer) -> int:
    """Stop training the word-embedding matrix; returns how many parameters were frozen."""
    first = model[0]
    backbone = getattr(first, "auto_model", None)
    if backbone is None or not hasattr(backbone, "get_input_embeddings"):
        raise XmirError("--freeze-embeddings needs a transformer encoder as the first module")
    weight = backbone.get_input_embeddings().weight
    weight.requires_grad_(False)
    return int(weight.numel())


def build_loss(model: SentenceTransformer, config: TrainConfig, world_size: int) -> torch.nn.Module:
    """InfoNCE with in-batch negatives (GradCache variant with --mini-batch-size)."""
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    gather = world_size > 1
    if config.mini_batch_size is not None:
        return CachedMultipleNegativesRankingLoss(
            model,
            scale=config.scale,
            mini_batch_size=config.mini_batch_size,
            gather_across_devices=gather,
        )
    return MultipleNegativesRankingLoss(model, scale=config.scale, gather_across_devices=gather)


def training_arguments(
    config: TrainConfig, run: PreparedRun, loaded: LoadedModel, precision: str
) -> Any:
    """The sentence-transformers / transformers arguments for this run."""
    from sentence_transformers import SentenceTransformerTrainingArguments

    on_cpu = not torch.cuda.is_available()
    passage = loaded.passage_prefix or ""
    prompts = {"anchor": loaded.query_prefix or "", "positive": passage, "negative": passage}
    return SentenceTransformerTrainingArguments(
        output_dir=str(Path(config.out) / CHECKPOINT_DIR),
        per_device_train_batch_size=config.batch_size,
        max_steps=run.total_steps,
        learning_rate=config.lr,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_steps(run.total_steps),
        lr_scheduler_type="constant_with_warmup" if config.lr_schedule == "constant" else "linear",
        optim="adamw_torch",
        adam_beta1=config.adam_beta1,
        adam_beta2=config.adam_beta2_for(run.global_batch_size),
        max_grad_norm=MAX_GRAD_NORM,
        seed=config.seed,
        data_seed=config.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=on_cpu,
        ddp_backend="gloo" if on_cpu and run.world_size > 1 else None,
        save_strategy="steps",
        save_steps=config.save_every,
        # One more than kept: the Trainer rotates before the newest checkpoint has its
        # manifest; CheckpointManifests then keeps the newest ``keep_checkpoints`` sealed ones.
        save_total_limit=config.keep_checkpoints + 1,
        logging_strategy="steps",
        logging_steps=config.log_every,  # a log gathers the loss across ranks: not every step
        logging_first_step=True,
        report_to=config.report_to,
        disable_tqdm=True,
        dataloader_drop_last=True,
        batch_sampler=ConsecutiveBatchSampler,
        prompts={key: value for key, value in prompts.items() if value},
        accelerator_config={"split_batches": False},
    )


# ----------------------------------------------------------------------------- the run


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[TrainerCallback] = (),
) -> dict[str, Any]:
    """Fine-tune ``config.model`` with the planned batches; returns the run metadata.

    Launch the same call under ``torchrun`` / ``accelerate launch`` for data parallelism.
    """
    from xmir.models.registry import load_model

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
    loaded = load_model(config.model, device="cpu")  # the trainer moves it to its device
    model = loaded.model
    if config.max_seq_length is not None:
        model.max_seq_length = config.max_seq_length
    frozen = freeze_word_embeddings(model) if config.freeze_embeddings else 0
    metadata = run_metadata(config, run, loaded, model, frozen, precision, recorded, checkpoint)
    if main:
        write_batches(run, out)
        atomic_write_json(out / RUN_FILE, metadata)

    def save(trained: SentenceTransformer, folder: Path, steps: int | None = None) -> None:
        mix = summarise_mix(run.batches[:steps], run.pool.languages)
        save_model_atomically(trained, folder, metadata, mix)

    manifests = CheckpointManifests(
        out / CHECKPOINT_DIR, config.keep_checkpoints, {"config_fingerprint": config.fingerprint()}
    )
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
    args = training_arguments(config, run, loaded, precision)
    if args.world_size != run.world_size:
        raise XmirError(
            f"the trainer runs {args.world_size} data-parallel processes but the launcher "
            f"announced {run.world_size}; launch with torchrun (or accelerate launch) so that "
            "WORLD_SIZE is set"
        )
    trainer = XmirTrainer(
        model=model,
        args=args,
        train_dataset=build_plan_dataset(
            PlanRows(run.batches, run.pool, use_negatives=run.use_negatives)
        ),
        loss=build_loss(model, config, world_size),
        callbacks=[*extra, *callbacks],
        batches=run.batches,
    )
    for default in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(default)
    if config.report_to == "tensorboard":
        _log_to(trainer, out / LOGS_DIR, main)
    start_step = _checkpoint_step(checkpoint)
    clock = time.perf_counter()
    try:
        output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
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
    seconds = time.perf_counter() - clock
    trainer.accelerator.wait_for_everyone()
    if main:
        steps_now = trainer.state.global_step - start_step
        metadata.update(
            status="finished",
            finished=utc_now(),
            training={
                "steps_this_session": steps_now,
                "seconds_this_session": round(seconds, 3),
                "pairs_per_second": round(steps_now * run.global_batch_size / seconds, 3)
                if seconds > 0
                else None,
                "train_loss_mean": output.training_loss,
                "loss_log": [
                    {"step": entry["step"], "loss": entry["loss"]}
                    for entry in trainer.state.log_history
                    if "loss" in entry
                ],
            },
            evaluations=(recorded or {}).get("evaluations", [])
            + (evaluator.summaries if evaluator else []),
        )
        save(model, out)
        atomic_write_json(out / RUN_FILE, metadata)
    trainer.accelerator.wait_for_everyone()
    return metadata


LOGS_DIR = "logs"


def check_reporting(report_to: str) -> None:
    """Fail before any work when the chosen logging integration is not installed."""
    from transformers.integrations import is_tensorboard_available, is_wandb_available

    available = {"tensorboard": is_tensorboard_available, "wandb": is_wandb_available}
    if report_to in available and not available[report_to]():
        raise XmirError(f"--report-to {report_to} needs the {report_to} package: pip install it")


def _log_to(trainer: XmirTrainer, folder: Path, main: bool) -> None:
    """Point the Trainer's TensorBoard callback at ``folder`` (only the main process writes)."""
    from transformers.integrations import TensorBoardCallback

    trainer.pop_callback(TensorBoardCallback)
    writer = None
    if main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(folder))
    trainer.add_callback(TensorBoardCallback(tb_writer=writer))


def dry_run(config: TrainConfig, world_size: int | None = None) -> PreparedRun:
    """Only plan the batches: write ``batches.jsonl`` and return the prepared run."""
    out = Path(config.out)
    if (out / RUN_FILE).exists():
        raise XmirError(f"{out} holds a training run; give --dry-run another --out folder")
    check_output_folder(out, owned=is_plan_folder, what="the plan of an xmir dry run")
    run = prepare_run(config, world_size or distributed_world_size())
    write_batches(run, out)
    return run


def read_run_record(out: Path) -> dict[str, Any] | None:
    path = out / RUN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise XmirError(f"{path} is not readable JSON; move the folder aside or fix it") from None


def resume_point(
    config: TrainConfig,
    out: Path,
    recorded: dict[str, Any] | None,
    *,
    resume: bool,
    check_fresh: bool = True,
) -> Path | None:
    """The verified checkpoint to continue from (None: start at step 0).

    Without ``resume`` an existing run in ``out`` is refused rather than overwritten.
    """
    checkpoints = list_checkpoints(out / CHECKPOINT_DIR)
    if not resume:
        if check_fresh and (recorded is not None or checkpoints):
            raise XmirError(
                f"{out} already holds a training run; pass --resume to continue it or "
                "choose another --out"
            )
        return None
    if not checkpoints:
        return None
    latest = checkpoints[-1][1]
    verify_checkpoint(latest)
    return latest


def check_resumable(config: TrainConfig, out: Path, recorded: dict[str, Any] | None) -> None:
    """Refuse ``--resume`` when ``out`` holds no run to continue, or a run (finished or not)
    with different weight-shaping settings."""
    if recorded is None:
        raise XmirError(
            f"--resume: {out} holds no training run to continue; drop --resume to start one"
        )
    changed = config.differences(recorded.get("config", {}))
    if changed:
        raise XmirError(
            f"--resume with different settings than the run in {out}: "
            f"{', '.join(changed)}; use the original options or another --out"
        )


def base_model_names(spec: str) -> dict[str, str | None]:
    """``spec``, a name to show (a folder's own name, not its path) and the hub id of the
    weights behind it (e5-small-q4 is a dequantized copy of intfloat/multilingual-e5-small;
    None for a folder), for the model card."""
    from xmir.models.spec import OFFLINE_DEFAULT, REGISTRY, parse_model_spec

    parsed = parse_model_spec(spec)
    hub_id: str | None = None
    if parsed.kind == "hub":
        hub_id = parsed.target
    elif parsed.kind == "named":
        named = "multilingual-e5-small" if parsed.target == OFFLINE_DEFAULT else parsed.target
        hub_id = REGISTRY[named].source
    name = Path(parsed.target).name if parsed.kind == "path" else spec
    return {"spec": spec, "name": name, "hub_id": hub_id}


def _checkpoint_step(checkpoint: Path | None) -> int:
    return int(checkpoint.name[len(CHECKPOINT_PREFIX) :]) if checkpoint else 0


def save_model_atomically(
    model: SentenceTransformer, out: Path, metadata: dict[str, Any], mix: dict[str, Any]
) -> None:
    """Save the model with its model card (see :mod:`xmir.train.model_card`) into a staging
    folder, then move each entry into ``out``."""
    staging = out / ".final-model"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        save_with_card(model, staging, metadata, mix)
        give_normal_modes(staging)
        for entry in sorted(staging.iterdir()):
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    except OSError as error:
        raise XmirError(
            f"could not save the final model into {out} ({error.strerror or error}); the "
            "checkpoints are intact: free disk space and rerun with --resume"
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_metadata(
    config: TrainConfig,
    run: PreparedRun,
    loaded: LoadedModel,
    model: SentenceTransformer,
    frozen: int,
    precision: str,
    recorded: dict[str, Any] | None,
    checkpoint: Path | None,
) -> dict[str, Any]:
    """The self-describing record of a run (rewritten at the end with the outcome)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    resumed = list((recorded or {}).get("resumed_from", []))
    if checkpoint is not None:
        resumed.append({"checkpoint": checkpoint.name, "at": utc_now()})
    return {
        "xmir_train": 1,
        "status": "running",
        "started": (recorded or {}).get("started", utc_now()),
        "config": config.to_record(),
        "config_fingerprint": config.fingerprint(),
        "model": {
            "spec": loaded.spec,
            "description": loaded.description,
            "source": loaded.source,
            "weights_sha256": loaded.weights_sha256,
            "total_params": loaded.total_params,
            "non_embedding_params": loaded.non_embedding_params,
            "trainable_params": int(trainable),
            "frozen_word_embedding_params": frozen,
            "query_prefix": loaded.query_prefix,
            "passage_prefix": loaded.passage_prefix,
            "max_seq_length": model.max_seq_length,
        },
        "plan": plan_record(run),
        "loss": {
            "name": "CachedMultipleNegativesRankingLoss"
            if config.mini_batch_size
            else "MultipleNegativesRankingLoss",
            "temperature": config.temperature,
            "scale": config.scale,
            "similarity": "cosine",
            "gather_across_devices": run.world_size > 1,
            "mini_batch_size": config.mini_batch_size,
        },
        "optimizer": {
            "name": "AdamW",
            "lr": config.lr,
            "weight_decay": config.weight_decay,
            "betas": [config.adam_beta1, config.adam_beta2_for(run.global_batch_size)],
            "beta2_reference": config.adam_beta2,
            "beta2_reference_batch": config.beta2_reference_batch,
            "schedule": "linear warmup then constant"
            if config.lr_schedule == "constant"
            else "linear warmup then linear decay",
            "warmup_steps": config.warmup_steps(run.total_steps),
            "max_grad_norm": MAX_GRAD_NORM,
        },
        "licenses": {
            "trained_model": trained_model_licence(
                {**base_model_names(loaded.spec), **loaded.license},
                [run.data.name],
            ),
            "note": "a model trained on data with non-commercial or share-alike terms is "
            "reported with those terms",
        },
        "precision": precision,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "seed": config.seed,
        "versions": library_versions(),
        "resumed_from": resumed,
        "outputs": {
            "model": ".",
            "batches": "batches.jsonl",
            "checkpoints": f"{CHECKPOINT_DIR}/",
            "batch_plan_check": "every rank checks at every step that its loss inputs are "
            "its slice of batches.jsonl",
        },
    }


def _eval_callback(
    config: TrainConfig, loaded: LoadedModel, out: Path
) -> LareqaEvalCallback | None:
    if config.eval_every is None:
        return None
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa

    eval_set = load_eval_set(config, max_questions=config.eval_max_questions)
    options = EvalOptions(
        with_context=config.with_context, use_cache=False, show_progress=False, seed=config.seed
    )

    def evaluate(model: Any) -> dict[str, Any]:
        result = evaluate_lareqa(with_model(loaded, model), eval_set, options)
        result.pop("per_query", None)
        return result

    return LareqaEvalCallback(config.eval_every, evaluate, out)
