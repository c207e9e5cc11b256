"""Tiny random encoders: loadable sentence-transformers folders, deterministic per seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from xmir.models.tiny import build_tiny_encoder


def _state(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_folder_loads_with_prompts_and_unit_norm(tiny_model_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 128
    embeddings = model.encode(["Hello world", "北京是中国的首都。"], convert_to_tensor=True)
    assert embeddings.shape == (2, 32)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2))
    assert not torch.allclose(embeddings[0], embeddings[1])
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (
        2,
        32,
        250002,
    )


@pytest.mark.slow
def test_same_seed_same_weights_other_seed_differs(tiny_model_dir: Path, tmp_path: Path) -> None:
    again = _state(build_tiny_encoder(tmp_path / "again", seed=0))
    other = _state(build_tiny_encoder(tmp_path / "other", seed=1))
    reference = _state(tiny_model_dir)
    assert again.keys() == reference.keys()
    assert all(torch.equal(again[name], reference[name]) for name in reference)
    assert not torch.equal(
        other["embeddings.word_embeddings.weight"], reference["embeddings.word_embeddings.weight"]
    )
