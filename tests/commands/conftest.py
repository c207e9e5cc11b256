"""Fixtures of the command tests: the toy parallel data of the training tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "train"))
from toy_parallel import write_toy_lareqa


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three languages of toy parallel questions in the LAReQA layout."""
    return write_toy_lareqa(tmp_path_factory.mktemp("toy") / "toy-parallel")
