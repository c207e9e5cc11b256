"""How a training run is set up: precision, frozen embeddings, the loss, the Trainer's
arguments, and a check that the chosen logging integration is installed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from xmir.errors import XmirError
from xmir.train.config import CHECKPOINT_DIR, TrainConfig
from xmir.train.plan_dataset import ConsecutiveBatchSampler
from xmir.train.prepare import PreparedRun

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel

MAX_GRAD_NORM = 1.0


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


def check_reporting(report_to: str) -> None:
    """Fail before any work when the chosen logging integration is not installed."""
    from transformers.integrations import is_tensorboard_available, is_wandb_available

    available = {"tensorboard": is_tensorboard_available, "wandb": is_wandb_available}
    if report_to in available and not available[report_to]():
        raise XmirError(f"--report-to {report_to} needs the {report_to} package: pip install it")


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
