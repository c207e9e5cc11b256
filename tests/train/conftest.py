"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_parallel import write_toy_lareqa


@pytest.fixture(scope="session")
def toy_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_lareqa(tmp_path_factory.mktemp("toy") / "toy-parallel")
