"""The final model of a run, saved so that an interrupted save never leaves a half-written
model in the output folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xmir.errors import XmirError
from xmir.io import give_normal_modes
from xmir.train.model_card import save_with_card

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


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
