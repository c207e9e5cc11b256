"""Loading encoders: facts recorded about them, layer cuts and hub errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from xmir.errors import XmirError
from xmir.models import registry
from xmir.models.registry import load_model


def _layer_params(hidden: int, intermediate: int) -> int:
    """Parameters of one BERT layer: q, k, v, attention output, two LayerNorms, FFN in/out."""
    attention = 4 * (hidden * hidden + hidden) + 2 * hidden
    feed_forward = 2 * hidden * intermediate + intermediate + hidden + 2 * hidden
    return attention + feed_forward


def test_loaded_tiny_model_facts(tiny_model_dir: Path) -> None:
    loaded = load_model(str(tiny_model_dir), device="cpu")
    assert loaded.source == str(tiny_model_dir)
    assert loaded.spec == str(tiny_model_dir)
    assert (loaded.query_prefix, loaded.passage_prefix) == ("query: ", "passage: ")
    assert loaded.max_seq_length == 128
    hidden, intermediate, vocab, positions = 32, 64, 250002, 130
    embeddings = (vocab + positions + 1) * hidden
    layer = _layer_params(hidden, intermediate)
    layer_norm, pooler = 2 * hidden, hidden * hidden + hidden
    # The backbone's pooler is never used by sentence-transformers: not part of the size.
    assert loaded.non_embedding_params == 2 * layer + layer_norm
    assert loaded.total_params == embeddings + 2 * layer + layer_norm + pooler
    assert len(loaded.weights_sha256) == 64


def test_weights_hash_is_stable_and_tracks_weights(tiny_model_dir: Path) -> None:
    first = load_model(str(tiny_model_dir), device="cpu")
    second = load_model(str(tiny_model_dir), device="cpu")
    assert first.weights_sha256 == second.weights_sha256
    with torch.no_grad():
        second.model[0].auto_model.pooler.dense.bias[0] += 1.0
    assert registry.weights_sha256(second.model) != first.weights_sha256


@pytest.mark.slow
def test_layer_cut_changes_depth_counts_and_survives_saving(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    full = load_model(str(tiny_model_dir), device="cpu")
    cut = load_model(f"{tiny_model_dir}:layers=1", device="cpu")
    auto_model = cut.model[0].auto_model
    assert len(auto_model.encoder.layer) == auto_model.config.num_hidden_layers == 1
    one_layer = _layer_params(32, 64)
    assert full.total_params - cut.total_params == one_layer
    assert full.non_embedding_params - cut.non_embedding_params == one_layer
    assert cut.weights_sha256 != full.weights_sha256
    assert cut.description.endswith("first 1 of 2 layers")

    texts = ["query: Hello world", "passage: 北京是中国的首都。"]
    cut.model.save(str(tmp_path / "cut"))
    reloaded = load_model(str(tmp_path / "cut"), device="cpu")
    assert reloaded.model[0].auto_model.config.num_hidden_layers == 1
    assert reloaded.weights_sha256 == cut.weights_sha256
    torch.testing.assert_close(
        reloaded.model.encode(texts, convert_to_tensor=True),
        cut.model.encode(texts, convert_to_tensor=True),
    )
    assert not torch.allclose(
        full.model.encode(texts, convert_to_tensor=True),
        cut.model.encode(texts, convert_to_tensor=True),
    )


def test_layer_cut_deeper_than_model(tiny_model_dir: Path) -> None:
    with pytest.raises(XmirError, match=r"has 2 layers; use layers=1\.\.2"):
        load_model(f"{tiny_model_dir}:layers=3", device="cpu")


def test_hub_unreachable_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "hub_reachable", lambda timeout_s=3.0: False)
    with pytest.raises(XmirError, match=r"hub is unreachable.*local model folder.*e5-small-q4"):
        load_model("xmir-tests/no-such-encoder", device="cpu")


def test_registry_entry_supplies_missing_prompts(tiny_model_dir: Path) -> None:
    loaded = load_model(str(tiny_model_dir), device="cpu")
    loaded.model.prompts.clear()
    registry._fill_missing_prompts(loaded.model, registry.REGISTRY["multilingual-e5-base"])
    assert loaded.model.prompts == {"query": "query: ", "passage": "passage: "}
