"""The embedding cache key covers the whole encoder, not only its weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xmir.evaluate.encoding import cached_encode, module_config_sha256
from xmir.models.registry import weights_sha256


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _load(folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


@pytest.mark.slow
def test_pooling_normalisation_and_prompts_change_the_key(
    tiny_model_dir: Path, tmp_path: Path, cache: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    model = _load(tiny_model_dir)
    base = module_config_sha256(model)
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tiny_model_dir, copy)
    assert module_config_sha256(_load(copy)) == base  # the same encoder in another folder

    cls = _load(tiny_model_dir)
    cls[1].pooling_mode = "cls"
    unnormalised = SentenceTransformer(modules=[model[0], model[1]], device="cpu")
    prompted = _load(tiny_model_dir)
    prompted.prompts["query"] = "question: "
    keys = {module_config_sha256(m) for m in (cls, unnormalised, prompted)}
    assert base not in keys and len(keys) == 3

    texts = ["a passage", "another passage"]
    sha = weights_sha256(model)
    _, hit = cached_encode(model, texts, prefix="passage: ", weights_sha256=sha)
    _, hit_again = cached_encode(model, texts, prefix="passage: ", weights_sha256=sha)
    _, hit_cls = cached_encode(cls, texts, prefix="passage: ", weights_sha256=weights_sha256(cls))
    assert weights_sha256(cls) == sha  # same weights, yet ...
    assert (hit, hit_again, hit_cls) == (False, True, False)  # ... no stale reuse
