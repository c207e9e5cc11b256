"""Where a training run continues: the rules of ``--resume`` and the checkpoint to load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.train.checkpoints import CHECKPOINT_PREFIX, list_checkpoints, verify_checkpoint
from xmir.train.config import CHECKPOINT_DIR, TrainConfig


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


def checkpoint_step(checkpoint: Path | None) -> int:
    """The training step a checkpoint was saved at (0 without one)."""
    return int(checkpoint.name[len(CHECKPOINT_PREFIX) :]) if checkpoint else 0
