"""Every setting of a training run, declared once: the ``xmir train`` options, their help and
checks, the sweep's command lines and the run metadata all come from :class:`TrainConfig`."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from xmir.data.datasets import training_names
from xmir.data.parallel import TRAIN_FORMATS
from xmir.options import Cli, OptionsModel
from xmir.train.strategies import DEFAULT_ALPHA, DEFAULT_STRATEGY, STRATEGIES, alpha_names, names

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LR_SCHEDULES = ("linear", "constant")
REPORT_TO = ("none", "tensorboard", "wandb")  # where the Trainer also sends its logs
SNAPSHOT_DIR = "snapshots"  # OUT/snapshots/step-N: the model at step N (--snapshot-at)
CHECKPOINT_DIR = "checkpoints"  # OUT/checkpoints/checkpoint-N: what --resume continues from
# Settings that do not change the trained weights: a resumed run may differ in these.
_NOT_FINGERPRINTED = frozenset(
    {
        "out",
        "data_dir",
        "eval_data",
        "eval_every",
        "eval_max_questions",
        "eval_subset_seed",
        "log_every",
        "snapshot_at",
        "report_to",
    }
)

# Fingerprinted (the recorded fingerprints stay as they were) but free to change on --resume:
# saving a checkpoint does not change the trained weights.
_CHECKPOINTING = frozenset({"save_every", "keep_checkpoints"})

_STRATEGY_HELP = "; ".join(f"{s.name}: {s.help}" for s in STRATEGIES.values()) + "."
_ALPHA_HELP = (
    f"{', '.join(alpha_names())} only: the probability that a "
    + " / ".join(f"{STRATEGIES[name].unit} ({name})" for name in alpha_names())
    + " is monolingual"
)
_POSITIVE = Cli(option="--positive")
_COMMA_LIST = Cli(cli_type=str)  # ar,de or 64,128 on the command line: xmir train splits it
_GIVEN = Cli(tell_given=True)  # xmir train refuses some of these when they would do nothing


class TrainConfig(OptionsModel):
    """A fine-tuning run: each field is an ``xmir train`` option (``xmir train --help``)."""

    model: Annotated[
        str, Field(description="Model spec: e5-small-q4[:layers=K], a local folder or a hub id.")
    ]
    train_data: Annotated[
        str,
        Field(
            description=f"{', '.join(training_names())}, hf:OWNER/NAME[:CONFIG] or a local path."
        ),
    ]
    out: Annotated[
        Path, Field(description="Output folder: the trained model, metadata, checkpoints.")
    ]
    strategy: Annotated[
        Literal[names()],  # type: ignore[valid-type]
        Field(description=_STRATEGY_HELP),
    ] = DEFAULT_STRATEGY
    alpha: Annotated[float, Field(ge=0, le=1, description=_ALPHA_HELP), _GIVEN] = DEFAULT_ALPHA
    batch_size: Annotated[
        int, Field(ge=1, description="Pairs per device and step (in-batch negatives).")
    ] = 32
    steps: Annotated[
        int | None,
        Field(ge=1, description="Optimizer steps (or give --epochs)."),
    ] = None
    epochs: Annotated[
        int | None,
        Field(ge=1, description="Epochs (default 1); one epoch = item ids // global batch steps."),
    ] = None
    lr: Annotated[float, Field(gt=0, description="AdamW learning rate.")] = 3e-5
    temperature: Annotated[
        float, Field(gt=0, description="InfoNCE temperature (loss scale = 1/T).")
    ] = 0.05
    seed: Annotated[
        int, Field(description="Seed of the batch plan, dropout and initialisation.")
    ] = 0
    train_format: Annotated[
        Literal[TRAIN_FORMATS] | None,  # type: ignore[valid-type]
        Field(description="Layout of a local --train-data folder."),
    ] = None
    data_dir: Annotated[
        Path | None, Field(description="Folder with LAReQA data (default: $XMIR_DATA_DIR).")
    ] = None
    languages: Annotated[
        tuple[str, ...] | None,
        Field(description="Comma-separated training languages."),
        _COMMA_LIST,
    ] = None
    with_context: Annotated[
        bool, Field(description="LAReQA: positive = answer sentence + its paragraph.")
    ] = False
    positive_unit: Annotated[
        Literal["paragraph", "sentence"] | None,
        Field(
            description="squad layout only: the positive is the paragraph (default) or the sentence."
        ),
        _POSITIVE,
    ] = None
    max_questions: Annotated[
        int | None,
        Field(description="LAReQA: a sampled subset of about N question ids (quick runs)."),
    ] = None
    holdout: Annotated[
        float | None,
        Field(
            gt=0,
            lt=1,
            description="LAReQA: leave out a development split, about this share of the question "
            "ids in whole articles (e.g. 0.15), for xmir eval --split dev.",
        ),
    ] = None
    holdout_seed: Annotated[int, Field(ge=0, description="Seed of the --holdout split"), _GIVEN] = 0
    hard_negatives: Annotated[
        bool,
        Field(description="Use the data's hard negatives when every item has one (on by default)."),
    ] = True
    eval_data: Annotated[
        str | None,
        Field(
            description="LAReQA eval sets, comma-separated (overlap guard; --eval-every: first)."
        ),
    ] = None
    eval_every: Annotated[
        int | None, Field(ge=1, description="Evaluate on --eval-data every N steps.")
    ] = None
    eval_max_questions: Annotated[
        int | None,
        Field(ge=1, description="--eval-every on a sampled subset of about N question ids."),
    ] = None
    eval_subset_seed: Annotated[
        int,
        Field(ge=0, description="Seed of the --eval-max-questions sample"),
        Cli(option="--eval-seed", tell_given=True),
    ] = 0
    allow_overlap: Annotated[
        bool, Field(description="Train even when training texts occur in an --eval-data set.")
    ] = False
    freeze_embeddings: Annotated[
        bool, Field(description="Do not train the word-embedding matrix (much faster on CPU).")
    ] = False
    mini_batch_size: Annotated[
        int | None,
        Field(ge=1, description="GradCache mini-batch: batches larger than memory allows."),
    ] = None
    precision: Annotated[
        Literal[PRECISIONS],  # type: ignore[valid-type]
        Field(description="auto: bf16 or fp16 on a GPU, fp32 on CPU."),
    ] = "auto"
    weight_decay: Annotated[float, Field(ge=0, description="AdamW weight decay.")] = 0.01
    warmup_ratio: Annotated[
        float, Field(ge=0, lt=1, description="Share of steps with linear warmup"), _GIVEN
    ] = 0.1
    fixed_warmup_steps: Annotated[
        int | None,
        Field(ge=0, description="Warmup steps instead of a ratio (independent of the budget)."),
        Cli(option="--warmup-steps"),
    ] = None
    lr_schedule: Annotated[
        Literal[LR_SCHEDULES],  # type: ignore[valid-type]
        Field(
            description="After warmup: linear (decay to 0) or constant (a checkpoint at step k "
            "is also the k-step budget)."
        ),
    ] = "linear"
    snapshot_at: Annotated[
        tuple[int, ...],
        Field(description="Also save the model at these steps (snapshots/step-N), e.g. 64,128."),
        _COMMA_LIST,
    ] = ()
    adam_beta1: Annotated[float, Field(gt=0, lt=1), Cli(exposed=False)] = 0.9
    adam_beta2: Annotated[
        float, Field(gt=0, lt=1, description="Adam beta2 (at the reference batch).")
    ] = 0.999
    beta2_reference_batch: Annotated[
        int | None,
        Field(
            ge=1, description="Rescale beta2 to beta2 ** (global batch / this) (fixed half-life)."
        ),
    ] = None
    max_seq_length: Annotated[
        int | None, Field(ge=1, description="Truncate inputs to N tokens.")
    ] = None
    save_every: Annotated[int, Field(ge=1, description="Checkpoint every N steps.")] = 100
    keep_checkpoints: Annotated[int, Field(ge=1, description="Newest checkpoints to keep.")] = 2
    log_every: Annotated[
        int, Field(ge=1, description="Log the loss every N steps (and step 1).")
    ] = 10
    report_to: Annotated[
        Literal[REPORT_TO],  # type: ignore[valid-type]
        Field(
            description="Also send the logs (loss, learning rate, batch mix) to TensorBoard "
            "(OUT/logs) or Weights & Biases."
        ),
    ] = "none"

    @model_validator(mode="after")
    def _check_together(self) -> TrainConfig:
        """The rules that involve more than one setting."""
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give --steps or --epochs, not both")
        bad = [s for s in self.snapshot_at if s < 1 or (self.steps is not None and s >= self.steps)]
        if bad:
            raise ValueError(
                f"--snapshot-at: {', '.join(map(str, bad))} is not a step before the last "
                "(the final model is always saved)"
            )
        if self.eval_every is not None and self.eval_data is None:
            raise ValueError("--eval-every needs --eval-data")
        return self

    @property
    def scale(self) -> float:
        """The loss scale: 1 / temperature."""
        return 1.0 / self.temperature

    def adam_beta2_for(self, global_batch: int) -> float:
        """beta2, rescaled to keep its half-life in samples fixed when a reference batch size
        is given: beta2 ** (B / B_ref) (Marek et al. 2025)."""
        if self.beta2_reference_batch is None:
            return self.adam_beta2
        return self.adam_beta2 ** (global_batch / self.beta2_reference_batch)

    def total_steps(self, steps_per_epoch: int) -> int:
        """--steps, else --epochs (default: one epoch) times the steps of an epoch."""
        if self.steps is not None:
            return self.steps
        return (self.epochs or 1) * steps_per_epoch

    def warmup_steps(self, total_steps: int) -> int:
        """--warmup-steps when given (budget-independent), else the ratio of the run."""
        if self.fixed_warmup_steps is not None:
            return min(self.fixed_warmup_steps, total_steps)
        return math.ceil(self.warmup_ratio * total_steps)

    def to_record(self) -> dict[str, Any]:
        """The settings as JSON values (paths as text, tuples as lists): the run metadata."""
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        """A hash of the settings that shape the trained weights (checked on --resume)."""
        shaping = {k: v for k, v in self.to_record().items() if k not in _NOT_FINGERPRINTED}
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]

    def differences(self, recorded: dict[str, Any]) -> list[str]:
        """Names of weight-shaping settings that differ from a recorded configuration (how
        often checkpoints are saved and how many are kept may change on --resume)."""
        current = self.to_record()
        ignored = _NOT_FINGERPRINTED | _CHECKPOINTING
        return sorted(
            key for key in current if key not in ignored and recorded.get(key) != current[key]
        )


class TrainRunOptions(OptionsModel):
    """How ``xmir train`` runs a :class:`TrainConfig`: options that are not settings of the run."""

    resume: Annotated[
        bool, Field(description="Continue the run in --out from its last checkpoint.")
    ] = False
    dry_run: Annotated[
        bool, Field(description="Only plan the batches: write batches.jsonl, print the mix.")
    ] = False
    world_size: Annotated[
        int | None, Field(ge=1, description="--dry-run: plan for this many data-parallel ranks.")
    ] = None
