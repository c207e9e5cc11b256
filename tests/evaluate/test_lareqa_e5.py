"""Integration: the real offline encoder (2 layers) end to end through ``xmir eval``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app


@pytest.mark.slow
def test_e5_small_q4_two_layers_on_an_xquad_r_subset(
    e5_small_q4_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "e5.json"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--model",
            "e5-small-q4:layers=2",
            "--dataset",
            "xquad-r",
            "--data-dir",
            str(data_dir),
            "--max-questions",
            "40",
            "--out",
            str(out),
            "--no-cache",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    settings = doc["settings"]
    pool = doc["dataset"]["candidates"]
    # A random ranking of 11 relevant items among ~200 per language gives mono mAP ~0.03.
    assert settings["mono"]["map"] > 0.3
    assert settings["cross"]["map"] > 0.1
    assert settings["multi"]["map"] > 0.05  # random: about 0.01 with 11 relevant in ~2,400
    assert settings["mono"]["map"] > settings["cross"]["map"]
    assert 0 < doc["bias"]["rank_distance"] < pool
    # two layers + the embedding LayerNorm; the unused backbone pooler is not counted
    assert doc["model"]["non_embedding_params"] == 3_549_696
    assert doc["prefixes"] == {"query": "query: ", "passage": "passage: "}
