"""What a user watches and reads: the training bar shows the newest loss, the saved model's
files have normal modes, and its card names the real base model and the batch mix."""

from __future__ import annotations

import copy
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from xmir.train.callbacks import MixProgressCallback
from xmir.train.config import TrainConfig
from xmir.train.model_card import describe, xmir_section
from xmir.train.samplers import GlobalBatch, PlannedPair
from xmir.train.trainer import train


def test_the_training_bar_shows_the_newest_loss() -> None:
    batches = [GlobalBatch(step, "mono", (PlannedPair(0, "de", "de"),)) for step in (1, 2, 3)]
    callback = MixProgressCallback(batches)
    state = SimpleNamespace(is_world_process_zero=True, global_step=0, max_steps=3)
    callback.on_train_begin(None, state, None)
    assert callback.bar is not None
    for step, loss in ((1, 2.5), (2, None), (3, 0.75)):
        state.global_step = step
        callback.on_step_end(None, state, None)  # the Trainer logs after the step's end
        if loss is not None:
            callback.on_log(None, state, None, logs={"loss": loss})
        shown = callback.bar.postfix
        assert f"loss={2.5 if step < 3 else 0.75:.4f}" in shown, (step, shown)
    callback.on_train_end(None, state, None)


@pytest.mark.slow
def test_saved_files_and_card(
    tiny_run_config: Callable[..., TrainConfig], tiny_model_dir: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "run"
    metadata = train(tiny_run_config(out))
    mask = os.umask(0)
    os.umask(mask)
    for name in ("model.safetensors", "config.json", "README.md", "tokenizer.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~mask, name
    card = (out / "README.md").read_text(encoding="utf-8")
    mix = metadata["plan"]["realised_mix"]
    assert "<code>label</code>" not in card and "| label" not in card
    assert (
        f"* Batch mix: {mix['mono_steps']} monolingual and {mix['cross_steps']} cross-lingual "
        "steps" in card
    )

    # the same weights described as a cut of the offline build: the card names that build
    described = copy.deepcopy(metadata)
    described["model"]["spec"] = "e5-small-q4:layers=1"
    base = described["licenses"]["trained_model"]["base_model"]
    base.update(spec="e5-small-q4:layers=1", name="e5-small-q4:layers=1")
    base["hub_id"] = "intfloat/multilingual-e5-small"
    weights = tmp_path / "weights"  # the trained weights without their card
    shutil.copytree(out, weights, ignore=shutil.ignore_patterns("README.md", "checkpoints"))
    model = SentenceTransformer(str(weights), device="cpu")
    describe(model, described, mix)
    words = "e5-small-q4, first 1 of 12 layers, dequantized from multilingual-e5-small"
    card_data = model.model_card_data
    assert (
        card_data.model_name
        == f"{words} fine-tuned with hybrid batches (alpha 0.5) on toy-parallel"
    )
    assert card_data.base_model != "intfloat/multilingual-e5-small"  # not "finetuned from" it
    assert f"Fine-tuned from {words}, with xmir" in xmir_section(described, mix)


def test_base_model_words() -> None:
    from xmir.train.model_card import base_model_words

    assert base_model_words("e5-small-q4", {"name": "e5-small-q4"}) == (
        False,
        "e5-small-q4, dequantized from multilingual-e5-small",
    )
    hub = {"name": "intfloat/multilingual-e5-small", "hub_id": "intfloat/multilingual-e5-small"}
    assert base_model_words("intfloat/multilingual-e5-small", hub) == (
        True,
        "intfloat/multilingual-e5-small",
    )
    assert base_model_words("multilingual-e5-small:layers=4", {"name": "x"}) == (
        False,
        "multilingual-e5-small, first 4 of 12 layers",
    )
