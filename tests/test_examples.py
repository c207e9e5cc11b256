"""The README's example of xmir's planner inside a plain sentence-transformers trainer runs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from sentence_transformers import SentenceTransformer

EXAMPLE = Path(__file__).parents[1] / "examples" / "hybrid_batches_in_your_trainer.py"


@pytest.mark.slow
def test_example_trains_and_saves(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, capsys
) -> None:
    spec = importlib.util.spec_from_file_location("example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "trained"
    module.main(str(tiny_model_dir), str(out), steps=2, batch_size=4)
    mix = capsys.readouterr().out
    assert "realised_alpha" in mix
    before = SentenceTransformer(str(tiny_model_dir)).encode(["query: x"])
    after = SentenceTransformer(str(out)).encode(["query: x"])
    assert json.loads((out / "modules.json").read_text())
    assert abs(before - after).max() > 0  # the weights moved
