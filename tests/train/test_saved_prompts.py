"""A trained model, loaded by sentence-transformers alone, encodes queries and documents
exactly as xmir trained and evaluated it (same prefixes, same embeddings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from xmir.evaluate.encoding import encode_texts
from xmir.models.registry import load_model
from xmir.train.config import TrainConfig
from xmir.train.trainer import train

TEXTS = ["Wer schrieb Faust?", "Goethe schrieb Faust.", "¿Quién escribió el Quijote?"]


@pytest.mark.slow
def test_saved_prompts_match_xmirs_prefixes(
    tiny_run_config: Callable[..., TrainConfig], tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "run"
    config = tiny_run_config(out, seed=5)
    record = train(config)["model"]
    assert (record["query_prefix"], record["passage_prefix"]) == ("query: ", "passage: ")
    saved = json.loads((out / "config_sentence_transformers.json").read_text())["prompts"]
    assert saved["query"] == "query: " and saved["document"] == "passage: "

    loaded = load_model(str(out), device="cpu")
    assert (loaded.query_prefix, loaded.passage_prefix) == ("query: ", "passage: ")
    plain = SentenceTransformer(str(out), device="cpu")
    for prefix, encode in (("query: ", plain.encode_query), ("passage: ", plain.encode_document)):
        ours = encode_texts(loaded.model, TEXTS, prefix=prefix, show_progress=False)
        theirs = encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
        assert np.abs(ours - theirs).max() < 1e-6
        unprefixed = encode_texts(loaded.model, TEXTS, prefix="", show_progress=False)
        assert np.abs(unprefixed - theirs).max() > 1e-4  # the prefix does change the embedding
