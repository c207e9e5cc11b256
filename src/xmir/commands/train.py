"""``xmir train``: fine-tune an encoder with a batch strategy of the registry (or plan only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from xmir.commands.common import console, named_dataset, parse_languages, user_errors
from xmir.commands.train_mix import print_mix
from xmir.data.datasets import training_names
from xmir.data.parallel import TRAIN_FORMATS
from xmir.errors import XmirError
from xmir.train import strategies as registry
from xmir.train.config import LR_SCHEDULES, PRECISIONS, REPORT_TO
from xmir.train.strategies import DEFAULT_ALPHA, alpha_names

# Fixed choices: --help lists them and they are matched case-insensitively.
StrategyChoice = Literal[registry.names()]  # type: ignore[valid-type]
FormatChoice = Literal[TRAIN_FORMATS]  # type: ignore[valid-type]
PositiveChoice = Literal["paragraph", "sentence"]
PrecisionChoice = Literal[PRECISIONS]  # type: ignore[valid-type]
ScheduleChoice = Literal[LR_SCHEDULES]  # type: ignore[valid-type]
ReportChoice = Literal[REPORT_TO]  # type: ignore[valid-type]
DEFAULT_WARMUP_RATIO = 0.1


@user_errors
def train_command(
    model: Annotated[
        str, typer.Option(help="Model spec: e5-small-q4[:layers=K], a local folder or a hub id.")
    ],
    train_data: Annotated[
        str,
        typer.Option(
            help=f"{', '.join(training_names())}, hf:OWNER/NAME[:CONFIG] or a local path."
        ),
    ],
    out: Annotated[
        Path, typer.Option(help="Output folder: the trained model, metadata, checkpoints.")
    ],
    strategy: Annotated[
        StrategyChoice,
        typer.Option(
            case_sensitive=False,
            help="; ".join(f"{s.name}: {s.help}" for s in registry.STRATEGIES.values()) + ".",
        ),
    ] = registry.DEFAULT_STRATEGY,
    alpha: Annotated[
        float | None,
        typer.Option(
            help=f"{', '.join(alpha_names())} only: the probability that a "
            + " / ".join(f"{registry.STRATEGIES[name].unit} ({name})" for name in alpha_names())
            + f" is monolingual [default: {DEFAULT_ALPHA}]"
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Pairs per device and step (in-batch negatives).")
    ] = 32,
    steps: Annotated[int | None, typer.Option(help="Optimizer steps (or give --epochs).")] = None,
    epochs: Annotated[
        int | None,
        typer.Option(help="Epochs (default 1); one epoch = item ids // global batch steps."),
    ] = None,
    lr: Annotated[float, typer.Option(help="AdamW learning rate.")] = 3e-5,
    temperature: Annotated[
        float, typer.Option(help="InfoNCE temperature (loss scale = 1/T).")
    ] = 0.05,
    seed: Annotated[
        int, typer.Option(help="Seed of the batch plan, dropout and initialisation.")
    ] = 0,
    train_format: Annotated[
        FormatChoice | None,
        typer.Option(case_sensitive=False, help="Layout of a local --train-data folder."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with LAReQA data (default: $XMIR_DATA_DIR).")
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="Comma-separated training languages.")
    ] = None,
    with_context: Annotated[
        bool,
        typer.Option(
            show_default=False, help="LAReQA: positive = answer sentence + its paragraph."
        ),
    ] = False,
    positive: Annotated[
        PositiveChoice | None,
        typer.Option(
            case_sensitive=False,
            help="squad layout only: the positive is the paragraph (default) or the sentence.",
        ),
    ] = None,
    max_questions: Annotated[
        int | None,
        typer.Option(help="LAReQA: a sampled subset of about N question ids (quick runs)."),
    ] = None,
    holdout: Annotated[
        float | None,
        typer.Option(
            help="LAReQA: leave out a development split, about this share of the question "
            "ids in whole articles (e.g. 0.15), for xmir eval --split dev.",
        ),
    ] = None,
    holdout_seed: Annotated[
        int | None, typer.Option(min=0, help="Seed of the --holdout split [default: 0]")
    ] = None,
    hard_negatives: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Use the data's hard negatives when every item has one (on by default).",
        ),
    ] = True,
    eval_data: Annotated[
        str | None,
        typer.Option(
            help="LAReQA eval sets, comma-separated (overlap guard; --eval-every: first)."
        ),
    ] = None,
    eval_every: Annotated[
        int | None, typer.Option(help="Evaluate on --eval-data every N steps.")
    ] = None,
    eval_max_questions: Annotated[
        int | None,
        typer.Option(min=1, help="--eval-every on a sampled subset of about N question ids."),
    ] = None,
    eval_seed: Annotated[
        int | None,
        typer.Option(min=0, help="Seed of the --eval-max-questions sample [default: 0]"),
    ] = None,
    allow_overlap: Annotated[
        bool,
        typer.Option(
            show_default=False, help="Train even when training texts occur in an --eval-data set."
        ),
    ] = False,
    freeze_embeddings: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Do not train the word-embedding matrix (much faster on CPU).",
        ),
    ] = False,
    mini_batch_size: Annotated[
        int | None, typer.Option(help="GradCache mini-batch: batches larger than memory allows.")
    ] = None,
    precision: Annotated[
        PrecisionChoice,
        typer.Option(case_sensitive=False, help="auto: bf16 or fp16 on a GPU, fp32 on CPU."),
    ] = "auto",
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay.")] = 0.01,
    warmup_ratio: Annotated[
        float | None,
        typer.Option(help=f"Share of steps with linear warmup [default: {DEFAULT_WARMUP_RATIO}]"),
    ] = None,
    warmup_steps: Annotated[
        int | None,
        typer.Option(help="Warmup steps instead of a ratio (independent of the budget)."),
    ] = None,
    lr_schedule: Annotated[
        ScheduleChoice,
        typer.Option(
            case_sensitive=False,
            help="After warmup: linear (decay to 0) or constant (a checkpoint at step k is "
            "also the k-step budget).",
        ),
    ] = "linear",
    snapshot_at: Annotated[
        str | None,
        typer.Option(help="Also save the model at these steps (snapshots/step-N), e.g. 64,128."),
    ] = None,
    adam_beta2: Annotated[float, typer.Option(help="Adam beta2 (at the reference batch).")] = 0.999,
    beta2_reference_batch: Annotated[
        int | None,
        typer.Option(help="Rescale beta2 to beta2 ** (global batch / this) (fixed half-life)."),
    ] = None,
    max_seq_length: Annotated[int | None, typer.Option(help="Truncate inputs to N tokens.")] = None,
    save_every: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 100,
    keep_checkpoints: Annotated[int, typer.Option(help="Newest checkpoints to keep.")] = 2,
    log_every: Annotated[int, typer.Option(help="Log the loss every N steps (and step 1).")] = 10,
    report_to: Annotated[
        ReportChoice,
        typer.Option(
            case_sensitive=False,
            help="Also send the logs (loss, learning rate, batch mix) to TensorBoard "
            "(OUT/logs) or Weights & Biases.",
        ),
    ] = "none",
    resume: Annotated[
        bool,
        typer.Option(
            show_default=False, help="Continue the run in --out from its last checkpoint."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            show_default=False, help="Only plan the batches: write batches.jsonl, print the mix."
        ),
    ] = False,
    world_size: Annotated[
        int | None, typer.Option(help="--dry-run: plan for this many data-parallel ranks.")
    ] = None,
) -> None:
    """Fine-tune a dual encoder on parallel data with a batch strategy (--strategy).

    Data parallel: run the same command under torchrun or accelerate launch (e.g.
    torchrun --nproc-per-node N --no-python xmir train ...); every rank trains on its
    slice of one shared global batch per step.
    """
    from xmir.train.config import TrainConfig

    config = TrainConfig(
        model=model,
        train_data=named_dataset(train_data),
        out=out,
        strategy=strategy,
        alpha=DEFAULT_ALPHA if alpha is None else alpha,
        batch_size=batch_size,
        steps=steps,
        epochs=epochs,
        lr=lr,
        temperature=temperature,
        weight_decay=weight_decay,
        warmup_ratio=DEFAULT_WARMUP_RATIO if warmup_ratio is None else warmup_ratio,
        fixed_warmup_steps=warmup_steps,
        lr_schedule=lr_schedule,
        snapshot_at=_parse_steps(snapshot_at),
        seed=seed,
        train_format=train_format,
        data_dir=data_dir,
        languages=_as_tuple(parse_languages(languages)),
        with_context=with_context,
        positive_unit=positive,
        max_questions=max_questions,
        holdout=holdout,
        holdout_seed=holdout_seed or 0,
        hard_negatives=hard_negatives,
        eval_data=None if eval_data is None else ",".join(map(named_dataset, eval_data.split(","))),
        eval_every=eval_every,
        eval_max_questions=eval_max_questions,
        eval_subset_seed=eval_seed or 0,
        allow_overlap=allow_overlap,
        freeze_embeddings=freeze_embeddings,
        mini_batch_size=mini_batch_size,
        precision=precision,
        adam_beta2=adam_beta2,
        beta2_reference_batch=beta2_reference_batch,
        max_seq_length=max_seq_length,
        save_every=save_every,
        keep_checkpoints=keep_checkpoints,
        log_every=log_every,
        report_to=report_to,
    )
    explicit = {
        "--alpha": alpha is not None,
        "--warmup-ratio": warmup_ratio is not None,
        "--eval-seed": eval_seed is not None,
        "--holdout-seed": holdout_seed is not None,
        "--world-size": world_size is not None,
        "--resume": resume,
        "--report-to": report_to != "none",
    }
    check_applicable(config, explicit, dry_run=dry_run)
    if dry_run:
        _dry_run(config, world_size)
    else:
        _train(config, resume)


def check_applicable(config: Any, explicit: dict[str, bool], *, dry_run: bool) -> None:
    """Refuse an option that would be silently ignored, saying why (``explicit``: whether each
    option was given on the command line, for those whose default is indistinguishable)."""
    chosen = registry.get_strategy(config.strategy)
    if explicit["--alpha"] and not chosen.takes_alpha:
        kind = "monolingual" if chosen.mono_probability == 1.0 else "cross-lingual"
        raise XmirError(
            f"--alpha applies to --strategy {' or '.join(alpha_names())} only (every "
            f"{config.strategy} batch is {kind}); drop --alpha"
        )
    if explicit["--warmup-ratio"] and config.fixed_warmup_steps is not None:
        raise XmirError("give --warmup-steps or --warmup-ratio, not both")
    if config.eval_max_questions is not None and config.eval_every is None:
        raise XmirError(
            "--eval-max-questions sizes the --eval-every evaluation; add --eval-every N"
        )
    if explicit["--eval-seed"] and config.eval_max_questions is None:
        raise XmirError(
            "--eval-seed draws the --eval-max-questions sample; add --eval-max-questions"
        )
    if explicit.get("--holdout-seed") and config.holdout is None:
        raise XmirError("--holdout-seed draws the --holdout split; add --holdout FRACTION")
    if explicit["--world-size"] and not dry_run:
        raise XmirError("--world-size is for --dry-run; a real run takes it from torchrun")
    if dry_run and (explicit["--resume"] or explicit["--report-to"]):
        option = "--resume" if explicit["--resume"] else "--report-to"
        raise XmirError(f"{option} applies to training; a --dry-run only plans the batches")


def _dry_run(config: Any, world_size: int | None) -> None:
    from xmir.train.prepare import BATCHES_NAME, plan_record
    from xmir.train.trainer import dry_run

    run = dry_run(config, world_size)
    record = plan_record(run)
    print_mix(record)
    console.print(f"plan written to {Path(config.out) / BATCHES_NAME}")


def _train(config: Any, resume: bool) -> None:
    from xmir.train.prepare import distributed_rank
    from xmir.train.trainer import train

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


def _as_tuple(languages: list[str] | None) -> tuple[str, ...] | None:
    return None if languages is None else tuple(languages)


def _parse_steps(text: str | None) -> tuple[int, ...]:
    """``64,128`` -> (64, 128), sorted and unique; a clear error for anything else."""
    if text is None or not text.strip():
        return ()
    try:
        steps = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise XmirError(f"--snapshot-at {text!r}: expected step numbers such as 64,128") from None
    return tuple(steps)
