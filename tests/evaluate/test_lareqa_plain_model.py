"""``evaluate_lareqa`` takes a plain ``SentenceTransformer`` as well as xmir's LoadedModel."""

from __future__ import annotations

from pathlib import Path

from xmir.data.lareqa import load_lareqa
from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
from xmir.models.registry import load_model


def test_a_plain_sentence_transformer_gives_the_same_result(
    tiny_model_dir: Path, data_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    rset = load_lareqa("xquad-r", data_dir, ["en", "de"], max_questions=4)
    options = EvalOptions(use_cache=False, show_progress=False)
    plain = evaluate_lareqa(SentenceTransformer(str(tiny_model_dir), device="cpu"), rset, options)
    loaded = evaluate_lareqa(load_model(str(tiny_model_dir), device="cpu"), rset, options)
    assert plain["settings"] == loaded["settings"] and plain["bias"] == loaded["bias"]
    assert plain["prefixes"] == {"query": "query: ", "passage": "passage: "}
    for key in ("total_params", "non_embedding_params", "weights_sha256"):
        assert plain["model"][key] == loaded["model"][key]
    assert plain["licenses"]["data"]["license"] == "cc-by-sa-4.0"
