"""Training settings: validation, beta2 rescaling, resume fingerprint."""

from __future__ import annotations

import gzip
import json
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
        ({"strategy": "both"}, "--strategy must be one of mono, cross, hybrid, mixed, got 'both'"),
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
        ({"adam_beta2": 1.0}, r"--adam-beta2 must lie in \(0, 1\)"),
        ({"holdout": 1.5}, r"--holdout must lie in \(0, 1\), got 1.5"),
        ({"seed": "x"}, "--seed 'x': input should be a valid integer"),
        ({"snapshot_at": "64"}, "--snapshot-at '64'"),
        ({"stepz": 3}, "unknown setting 'stepz'"),
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
    same = config.replace(out=Path("elsewhere"), eval_data="xquad-r", eval_every=3)
    assert same.fingerprint() == config.fingerprint()
    assert config.differences(same.to_record()) == []
    other = config.replace(alpha=0.3, seed=1)
    assert other.fingerprint() != config.fingerprint()
    assert config.differences(other.to_record()) == ["alpha", "seed"]


# A committed tuning run of offline-study-v3: a resumed sweep compares its fingerprint.
_RECORDED_RUN = Path(__file__).resolve().parents[2] / (
    "docs/results/offline-study-v3/tune/runs/e5-small-q4-L1-cross-b32-lr0.0001-s0/train/"
    "xmir-train.json.gz"
)


def test_the_fingerprint_of_a_committed_run_is_unchanged() -> None:
    config = TrainConfig(
        model="e5-small-q4:layers=1",
        train_data="mlqa-r",
        out=Path("anywhere"),  # not fingerprinted
        strategy="cross",
        steps=64,
        lr=1e-4,
        fixed_warmup_steps=6,
        lr_schedule="constant",
        holdout=0.15,
        eval_data="xquad-r",
        freeze_embeddings=True,
    )
    assert config.fingerprint() == "5a3dce321fa144a0"
    recorded = json.loads(gzip.decompress(_RECORDED_RUN.read_bytes()))
    assert recorded["config_fingerprint"] == config.fingerprint()
    assert config.differences(recorded["config"]) == []


def test_every_committed_run_of_the_current_settings_keeps_its_fingerprint() -> None:
    """A recorded config, read back, hashes to the fingerprint its run recorded (runs from
    before a setting was added have other keys and are skipped)."""
    runs = sorted(_RECORDED_RUN.parents[5].rglob("xmir-train.json.gz"))
    checked = 0
    for path in runs:
        recorded = json.loads(gzip.decompress(path.read_bytes()))
        if set(recorded["config"]) != set(TrainConfig.model_fields):
            continue
        assert TrainConfig(**recorded["config"]).fingerprint() == recorded["config_fingerprint"]
        checked += 1
    assert checked >= 10


def test_replace_checks_the_copy() -> None:
    config = _config()
    assert config.replace(batch_size=8).batch_size == 8
    with pytest.raises(XmirError, match="--batch-size must be >= 1, got 0"):
        config.replace(batch_size=0)
