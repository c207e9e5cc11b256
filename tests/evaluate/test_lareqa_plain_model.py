"""``evaluate_lareqa`` takes a plain ``SentenceTransformer`` as well as xmir's LoadedModel."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.data.lareqa import load_lareqa
from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
from xmir.models.registry import load_model


@pytest.mark.slow
def test_a_plain_sentence_transformer_gives_the_same_result(
    tiny_model_dir: Path, data_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    rset = load_lareqa("xquad-r", data_dir, ["en", "de"], max_questions=4)
    options = EvalOptions(use_cache=False, show_progress=False)
    plain = evaluate_lareqa(
        SentenceTransformer(str(tiny_model_dir), device="cpu"), rset, options
    ).to_dict()
    loaded = evaluate_lareqa(load_model(str(tiny_model_dir), device="cpu"), rset, options).to_dict()
    assert plain["settings"] == loaded["settings"] and plain["bias"] == loaded["bias"]
    assert plain["prefixes"] == {"query": "query: ", "passage": "passage: "}
    for key in ("total_params", "non_embedding_params", "weights_sha256"):
        assert plain["model"][key] == loaded["model"][key]
    assert plain["licenses"]["data"]["license"] == "cc-by-sa-4.0"


def test_one_labelled_bar_with_an_eta_covers_the_whole_encoding(
    tiny_model_dir: Path, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    rset = load_lareqa("xquad-r", data_dir, ["en", "de"], max_questions=4)
    model = load_model(str(tiny_model_dir), device="cpu")
    quiet = evaluate_lareqa(model, rset, EvalOptions(use_cache=False, show_progress=False))
    capfd.readouterr()
    shown = evaluate_lareqa(model, rset, EvalOptions(use_cache=False, show_progress=True))
    bars = capfd.readouterr().err
    total = len(set(rset.query_texts)) + len(set(rset.candidate_texts))
    assert "encoding xquad-r (queries, then passages)" in bars
    assert f"{total}/{total}" in bars and "Batches" not in bars
    assert shown.to_dict()["settings"] == quiet.to_dict()["settings"]  # no embedding changes
    assert np.isfinite(shown.metric("multi"))
