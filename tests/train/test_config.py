"""Training settings: validation, beta2 rescaling, resume fingerprint."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from xmir.errors import XmirError
from xmir.train.config import TrainConfig


def _config(**changes: object) -> TrainConfig:
    base = {"model": "m", "train_data": "mlqa-r", "out": Path("out"), "steps": 10}
    return TrainConfig(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategy": "both"}, "unknown strategy"),
        ({"alpha": 1.01}, r"alpha must lie in \[0, 1\]"),
        ({"alpha": -0.5}, r"alpha must lie in \[0, 1\]"),
        ({"epochs": 2}, "--steps or --epochs, not both"),
        ({"lr_schedule": "cosine"}, "--lr-schedule must be one of linear, constant"),
        ({"fixed_warmup_steps": -1}, "--warmup-steps must be >= 0"),
        ({"snapshot_at": (10,)}, "--snapshot-at: 10 is not a step before the last"),
        ({"batch_size": 0}, "--batch-size must be >= 1"),
        ({"temperature": 0.0}, "--temperature must be > 0"),
        ({"lr": -1.0}, "--lr must be > 0"),
        ({"warmup_ratio": 1.0}, "--warmup-ratio"),
        ({"precision": "fp8"}, "--precision"),
        ({"eval_every": 5}, "--eval-every needs --eval-data"),
        ({"adam_beta2": 1.0}, "Adam betas"),
    ],
)
def test_bad_settings(changes: dict, message: str) -> None:
    with pytest.raises(XmirError, match=message):
        _config(**changes)


def test_beta2_keeps_its_half_life_in_samples() -> None:
    assert _config().adam_beta2_for(256) == 0.999
    scaled = _config(adam_beta2=0.999, beta2_reference_batch=32)
    beta2 = scaled.adam_beta2_for(128)
    assert beta2 == pytest.approx(0.999**4)
    # one update at batch 128 decays the second moment as much as four at batch 32
    assert beta2 == pytest.approx(scaled.adam_beta2_for(32) ** 4)


def test_steps_scale_and_warmup() -> None:
    assert _config().total_steps(steps_per_epoch=7) == 10
    assert _config(steps=None, epochs=3).total_steps(steps_per_epoch=7) == 21
    assert _config(temperature=0.05).scale == pytest.approx(20.0)
    assert _config(warmup_ratio=0.1).warmup_steps(25) == 3


def test_fingerprint_ignores_paths_and_eval_but_not_training() -> None:
    config = _config()
    same = replace(config, out=Path("elsewhere"), eval_data="xquad-r", eval_every=3)
    assert same.fingerprint() == config.fingerprint()
    assert config.differences(same.to_record()) == []
    other = replace(config, alpha=0.3, seed=1)
    assert other.fingerprint() != config.fingerprint()
    assert config.differences(other.to_record()) == ["alpha", "seed"]
