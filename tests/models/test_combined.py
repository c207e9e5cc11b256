"""Weight-averaged and score-ensembled encoders against direct computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmir.errors import XmirError
from xmir.evaluate.encoding import encode_texts
from xmir.models.combined import parse_combined_spec
from xmir.models.registry import load_model
from xmir.models.spec import model_label
from xmir.models.tiny import build_tiny_encoder

TEXTS = ["Wer schrieb Faust?", "Goethe schrieb Faust.", "¿Dónde está Lima?", "Lima is in Peru."]


@pytest.fixture(scope="module")
def second_model_dir(tmp_path_factory: pytest.TempPathFactory, xlmr_tokenizer_dir: Path) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-b") / "model", seed=1)


@pytest.mark.slow
def test_weight_average_is_the_convex_combination(tiny_model_dir: Path, second_model_dir: Path):
    a = load_model(str(tiny_model_dir)).model.state_dict()
    b = load_model(str(second_model_dir)).model.state_dict()
    mixed = load_model(f"wavg:0.25:{tiny_model_dir},{second_model_dir}")
    for name, tensor in mixed.model.state_dict().items():
        if tensor.is_floating_point():
            expected = 0.25 * a[name] + 0.75 * b[name]
            assert np.allclose(tensor.numpy(), expected.numpy(), atol=1e-6), name
    assert mixed.weights_sha256 != load_model(str(tiny_model_dir)).weights_sha256
    same = load_model(f"wavg:1:{tiny_model_dir},{second_model_dir}")
    assert same.weights_sha256 == load_model(str(tiny_model_dir)).weights_sha256


@pytest.mark.slow
def test_ensemble_scores_are_the_weighted_similarities(
    tiny_model_dir: Path, second_model_dir: Path
) -> None:
    first, second = load_model(str(tiny_model_dir)), load_model(str(second_model_dir))
    ensemble = load_model(f"ensemble:0.3:{tiny_model_dir},{second_model_dir}")
    e = encode_texts(ensemble.model, TEXTS, prefix="query: ", show_progress=False)
    a = encode_texts(first.model, TEXTS, prefix="query: ", show_progress=False)
    b = encode_texts(second.model, TEXTS, prefix="query: ", show_progress=False)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert np.allclose(e @ e.T, 0.3 * (a @ a.T) + 0.7 * (b @ b.T), atol=1e-5)
    assert ensemble.total_params == first.total_params + second.total_params
    assert (
        ensemble.weights_sha256
        != load_model(f"ensemble:0.7:{tiny_model_dir},{second_model_dir}").weights_sha256
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wavg:1.5:a,b", "in \\[0, 1\\]"),
        ("wavg:x:a,b", "in \\[0, 1\\]"),
        ("ensemble:0.5:a", "exactly two models"),
        ("ensemble:0.5:a,b,c", "exactly two models"),
    ],
)
def test_malformed_combined_specs_are_refused(text: str, message: str) -> None:
    with pytest.raises(XmirError, match=message):
        parse_combined_spec(text)


def test_combined_specs_have_readable_labels() -> None:
    assert parse_combined_spec("e5-small-q4:layers=2") is None
    label = model_label("wavg:0.5:e5-small-q4:layers=2,e5-small-q4:layers=2")
    assert label == "wavg0.5-e5-small-q4-L2-e5-small-q4-L2"


@pytest.mark.slow
def test_ensemble_reuses_its_members_cached_embeddings(
    tiny_model_dir: Path,
    second_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xmir.evaluate.encoding import cached_encode

    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))
    first, second = load_model(str(tiny_model_dir)), load_model(str(second_model_dir))
    ensemble = load_model(f"ensemble:0.5:{tiny_model_dir},{second_model_dir}")
    common = {"prefix": "passage: ", "show_progress": False}
    cold, from_cache = cached_encode(
        ensemble.model, TEXTS, weights_sha256=ensemble.weights_sha256, **common
    )
    assert not from_cache
    a, a_cached = cached_encode(first.model, TEXTS, weights_sha256=first.weights_sha256, **common)
    b, b_cached = cached_encode(second.model, TEXTS, weights_sha256=second.weights_sha256, **common)
    assert a_cached and b_cached  # the ensemble cached each member under its own key
    warm, from_cache = cached_encode(
        ensemble.model, TEXTS, weights_sha256=ensemble.weights_sha256, **common
    )
    assert from_cache
    assert np.allclose(warm, cold) and np.allclose(warm @ warm.T, 0.5 * (a @ a.T + b @ b.T))


@pytest.mark.slow
def test_xmir_eval_accepts_combined_model_specs(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from xmir.cli import app

    for kind in ("wavg", "ensemble"):
        out = tmp_path / f"{kind}.json"
        args = ["eval", "--model", f"{kind}:0.5:{tiny_model_dir},{tiny_model_dir}"]
        args += ["--dataset", "xquad-r", "--max-questions", "8", "--languages", "en,de"]
        result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir), "--out", str(out)])
        assert result.exit_code == 0, result.output
        document = json.loads(out.read_text())
        assert document["model"]["spec"].startswith(f"{kind}:0.5:")
        assert 0.0 < document["settings"]["multi"]["map"] <= 1.0
