"""``xmir train``: fine-tune an encoder with a batch strategy of the registry (or plan only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xmir.commands.common import console, named_dataset, parse_languages, user_errors
from xmir.commands.train_mix import print_mix
from xmir.commands.typer_options import options_from, parse_options
from xmir.errors import XmirError
from xmir.paths import TRAIN_BATCHES_FILE
from xmir.train import strategies as registry
from xmir.train.config import TrainConfig, TrainRunOptions
from xmir.train.prepare import distributed_rank, plan_record
from xmir.train.strategies import alpha_names


def _parse_steps(text: str | None) -> tuple[int, ...]:
    """``64,128`` -> (64, 128), sorted and unique; a clear error for anything else."""
    if text is None or not text.strip():
        return ()
    try:
        steps = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise XmirError(f"--snapshot-at {text!r}: expected step numbers such as 64,128") from None
    return tuple(steps)


def _named_datasets(text: str) -> str:
    """``XQuAD-R,mlqa-r`` -> ``xquad-r,mlqa-r`` (--eval-data)."""
    return ",".join(map(named_dataset, text.split(",")))


# How the text of an option becomes its TrainConfig field.
_PARSERS = {
    "train_data": named_dataset,
    "eval_data": _named_datasets,
    "languages": parse_languages,
    "snapshot_at": _parse_steps,
}


@options_from(TrainConfig, TrainRunOptions)
@user_errors
def train_command(**values: Any) -> None:
    """Fine-tune a dual encoder on parallel data with a batch strategy (--strategy).

    Data parallel: run the same command under torchrun or accelerate launch (e.g.
    torchrun --nproc-per-node N --no-python xmir train ...); every rank trains on its
    slice of one shared global batch per step.
    """
    config, run = parse_train_options(values)
    check_applicable(config, run)
    if run.dry_run:
        _dry_run(config, run.world_size)
    else:
        _train(config, run.resume)


def parse_train_options(values: dict[str, Any]) -> tuple[TrainConfig, TrainRunOptions]:
    """The checked configs of ``xmir train``'s option values (as Typer passes them)."""
    return parse_options(TrainConfig, values, _PARSERS), parse_options(TrainRunOptions, values)


def check_applicable(config: TrainConfig, run: TrainRunOptions) -> None:
    """Refuse an option that would be silently ignored, saying why (whether an option was
    given at all: ``model_fields_set``, for those whose default is indistinguishable)."""
    given = config.model_fields_set
    chosen = registry.get_strategy(config.strategy)
    if "alpha" in given and not chosen.takes_alpha:
        kind = "monolingual" if chosen.mono_probability == 1.0 else "cross-lingual"
        raise XmirError(
            f"--alpha applies to --strategy {' or '.join(alpha_names())} only (every "
            f"{config.strategy} batch is {kind}); drop --alpha"
        )
    if "warmup_ratio" in given and config.fixed_warmup_steps is not None:
        raise XmirError("give --warmup-steps or --warmup-ratio, not both")
    if config.eval_max_questions is not None and config.eval_every is None:
        raise XmirError(
            "--eval-max-questions sizes the --eval-every evaluation; add --eval-every N"
        )
    if "eval_subset_seed" in given and config.eval_max_questions is None:
        raise XmirError(
            "--eval-seed draws the --eval-max-questions sample; add --eval-max-questions"
        )
    if "holdout_seed" in given and config.holdout is None:
        raise XmirError("--holdout-seed draws the --holdout split; add --holdout FRACTION")
    if run.world_size is not None and not run.dry_run:
        raise XmirError("--world-size is for --dry-run; a real run takes it from torchrun")
    if run.dry_run and (run.resume or config.report_to != "none"):
        option = "--resume" if run.resume else "--report-to"
        raise XmirError(f"{option} applies to training; a --dry-run only plans the batches")


def _dry_run(config: TrainConfig, world_size: int | None) -> None:
    from xmir.train.trainer import dry_run  # imports torch: not at the top, for a fast xmir --help

    run = dry_run(config, world_size)
    record = plan_record(run)
    print_mix(record)
    console.print(f"plan written to {Path(config.out) / TRAIN_BATCHES_FILE}")


def _train(config: TrainConfig, resume: bool) -> None:
    from xmir.train.trainer import train  # imports torch: not at the top, for a fast xmir --help

    metadata = train(config, resume=resume)
    if distributed_rank() != 0:
        return
    print_mix(metadata["plan"])
    training = metadata.get("training", {})
    console.print(
        f"[bold]{metadata['status']}[/]: model saved in {config.out} "
        f"({training.get('steps_this_session', 0)} steps this session, "
        f"{training.get('pairs_per_second') or 0:.1f} pairs/s)"
    )
