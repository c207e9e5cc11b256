"""Every setting of a training run, checked once, recorded in the run metadata."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.train.sampling import check_alpha
from xmir.train.strategies import DEFAULT_ALPHA, DEFAULT_STRATEGY, get_strategy

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


@dataclass(frozen=True)
class TrainConfig:
    """A fine-tuning run (see ``xmir train --help`` for each option)."""

    model: str
    train_data: str
    out: Path
    strategy: str = DEFAULT_STRATEGY
    alpha: float = DEFAULT_ALPHA
    batch_size: int = 32
    steps: int | None = None
    epochs: int | None = None
    lr: float = 3e-5
    temperature: float = 0.05
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    fixed_warmup_steps: int | None = None
    lr_schedule: str = "linear"
    seed: int = 0
    train_format: str | None = None
    data_dir: Path | None = None
    languages: tuple[str, ...] | None = None
    with_context: bool = False
    positive_unit: str | None = None
    max_questions: int | None = None
    holdout: float | None = None  # LAReQA: leave out this share of ids (the dev split)
    holdout_seed: int = 0
    hard_negatives: bool = True
    eval_data: str | None = None
    eval_every: int | None = None
    eval_max_questions: int | None = None
    eval_subset_seed: int = 0
    snapshot_at: tuple[int, ...] = ()
    allow_overlap: bool = False
    freeze_embeddings: bool = False
    mini_batch_size: int | None = None
    precision: str = "auto"
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    beta2_reference_batch: int | None = None
    max_seq_length: int | None = None
    save_every: int = 100
    keep_checkpoints: int = 2
    log_every: int = 10
    report_to: str = "none"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`XmirError` on the first impossible setting."""
        get_strategy(self.strategy)
        check_alpha(self.alpha)
        if self.steps is not None and self.epochs is not None:
            raise XmirError("give --steps or --epochs, not both")
        if self.lr_schedule not in LR_SCHEDULES:
            raise XmirError(
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.fixed_warmup_steps is not None and self.fixed_warmup_steps < 0:
            raise XmirError(f"--warmup-steps must be >= 0, got {self.fixed_warmup_steps}")
        bad = [s for s in self.snapshot_at if s < 1 or (self.steps is not None and s >= self.steps)]
        if bad:
            raise XmirError(
                f"--snapshot-at: {', '.join(map(str, bad))} is not a step before the last "
                "(the final model is always saved)"
            )
        if self.holdout is not None and not 0.0 < self.holdout < 1.0:
            raise XmirError(f"--holdout must lie in (0, 1), got {self.holdout}")
        if self.holdout_seed < 0:
            raise XmirError(f"--holdout-seed must be >= 0, got {self.holdout_seed}")
        _positive("--steps", self.steps)
        _positive("--epochs", self.epochs)
        _positive("--batch-size", self.batch_size)
        _positive("--mini-batch-size", self.mini_batch_size)
        _positive("--save-every", self.save_every)
        _positive("--keep-checkpoints", self.keep_checkpoints)
        _positive("--log-every", self.log_every)
        _positive("--eval-every", self.eval_every)
        _positive("--beta2-reference-batch", self.beta2_reference_batch)
        _positive("--max-seq-length", self.max_seq_length)
        if not self.lr > 0:
            raise XmirError(f"--lr must be > 0, got {self.lr}")
        if not self.temperature > 0:
            raise XmirError(f"--temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise XmirError(f"--warmup-ratio must lie in [0, 1), got {self.warmup_ratio}")
        if self.weight_decay < 0:
            raise XmirError(f"--weight-decay must be >= 0, got {self.weight_decay}")
        if not (0.0 < self.adam_beta1 < 1.0 and 0.0 < self.adam_beta2 < 1.0):
            raise XmirError("Adam betas must lie in (0, 1)")
        if self.precision not in PRECISIONS:
            raise XmirError(f"--precision must be one of {', '.join(PRECISIONS)}")
        if self.report_to not in REPORT_TO:
            raise XmirError(f"--report-to must be one of {', '.join(REPORT_TO)}")
        if self.eval_every is not None and self.eval_data is None:
            raise XmirError("--eval-every needs --eval-data")

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
        record = asdict(self)
        for key, value in record.items():
            if isinstance(value, Path):
                record[key] = str(value)
            elif isinstance(value, tuple):
                record[key] = list(value)
        return record

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


def _positive(option: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise XmirError(f"{option} must be >= 1, got {value}")
