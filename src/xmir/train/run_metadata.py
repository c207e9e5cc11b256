"""The run record ``OUT/xmir-train.json``: written with status "running" when a run starts and
rewritten with the outcome once the model is saved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from xmir.errors import XmirError
from xmir.licenses import trained_model_licence
from xmir.models.spec import OFFLINE_DEFAULT, REGISTRY, parse_model_spec
from xmir.paths import TRAIN_BATCHES_FILE, TRAIN_RECORD_FILE
from xmir.provenance import library_versions, utc_now
from xmir.train.config import CHECKPOINT_DIR, TrainConfig
from xmir.train.prepare import PreparedRun, plan_record
from xmir.train.record import TrainRecord
from xmir.train.run_setup import MAX_GRAD_NORM

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel


def read_run_record(out: Path) -> dict[str, Any] | None:
    """The run record in ``out`` (None when there is none)."""
    path = out / TRAIN_RECORD_FILE
    if not path.is_file():
        return None
    record = TrainRecord.read(path)
    if record is None:
        raise XmirError(f"{path} is not readable JSON; move the folder aside or fix it")
    return record.to_dict()


def base_model_names(spec: str) -> dict[str, str | None]:
    """``spec``, a name to show (a folder's own name, not its path) and the hub id of the
    weights behind it (e5-small-q4 is a dequantized copy of intfloat/multilingual-e5-small;
    None for a folder), for the model card."""
    parsed = parse_model_spec(spec)
    hub_id: str | None = None
    if parsed.kind == "hub":
        hub_id = parsed.target
    elif parsed.kind == "named":
        named = "multilingual-e5-small" if parsed.target == OFFLINE_DEFAULT else parsed.target
        hub_id = REGISTRY[named].source
    name = Path(parsed.target).name if parsed.kind == "path" else spec
    return {"spec": spec, "name": name, "hub_id": hub_id}


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
            "batches": TRAIN_BATCHES_FILE,
            "checkpoints": f"{CHECKPOINT_DIR}/",
            "batch_plan_check": "every rank checks at every step that its loss inputs are "
            "its slice of batches.jsonl",
        },
    }


def record_outcome(
    metadata: dict[str, Any],
    *,
    steps: int,
    seconds: float,
    global_batch_size: int,
    training_loss: float,
    log_history: list[dict[str, Any]],
    evaluations: list[dict[str, Any]],
) -> None:
    """Mark ``metadata`` finished, with this session's steps, speed and loss log."""
    metadata.update(
        status="finished",
        finished=utc_now(),
        training={
            "steps_this_session": steps,
            "seconds_this_session": round(seconds, 3),
            "pairs_per_second": round(steps * global_batch_size / seconds, 3)
            if seconds > 0
            else None,
            "train_loss_mean": training_loss,
            "loss_log": [
                {"step": entry["step"], "loss": entry["loss"]}
                for entry in log_history
                if "loss" in entry
            ],
        },
        evaluations=evaluations,
    )
