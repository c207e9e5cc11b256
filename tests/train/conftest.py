"""Fixtures of the training tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from toy_parallel import write_toy_lareqa

import xmir.models.registry
from xmir.train.config import TrainConfig


@pytest.fixture(scope="session")
def toy_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_lareqa(tmp_path_factory.mktemp("toy") / "toy-parallel")


@pytest.fixture
def tiny_run_config(tiny_model_dir: Path, toy_data_dir: Path) -> Callable[..., TrainConfig]:
    """A 2-step run of the tiny encoder on the toy data, batches of 4: ``make(out, **changes)``."""

    def make(out: Path, **changes: Any) -> TrainConfig:
        settings: dict[str, Any] = {
            "model": str(tiny_model_dir),
            "train_data": str(toy_data_dir),
            "train_format": "lareqa",
            "out": out,
            "batch_size": 4,
            "steps": 2,
        }
        return TrainConfig(**{**settings, **changes})

    return make


@pytest.fixture
def forbid_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any model load fails the test: the checks under test must refuse before one."""

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(xmir.models.registry, "load_model", no_loading)
