"""The restricted-vocabulary build of e5-small-q4 encodes its texts exactly as the full model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmir.errors import XmirError
from xmir.models.e5s1 import bundled_model_path
from xmir.models.restricted import (
    INDEX_FILE,
    build_restricted_bundle,
    check_coverage,
    expand_restricted_bundle,
)


@pytest.mark.slow  # loads the real offline encoder as the reference
def test_the_restricted_build_gives_the_full_models_embeddings(
    e5_small_q4_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    from xmir.data.lareqa import load_lareqa

    rset = load_lareqa("xquad-r", data_dir, max_questions=6)  # all 11 languages and scripts
    queries, passages = rset.query_texts[:80], rset.candidate_texts[:80]
    texts = [f"query: {q}" for q in queries] + [f"passage: {p}" for p in passages]
    record = build_restricted_bundle(texts, tmp_path / "bundle")
    size = sum(f.stat().st_size for f in (tmp_path / "bundle").iterdir())
    assert size < bundled_model_path().stat().st_size / 3
    assert record["texts"] == len(texts) and 100 < record["kept_tokens"] < 20_000
    folder = expand_restricted_bundle(tmp_path / "bundle", tmp_path / "model")
    restricted = SentenceTransformer(str(folder), device="cpu")
    full = SentenceTransformer(str(e5_small_q4_dir), device="cpu")
    for prompt, batch in (("query: ", queries), ("passage: ", passages)):
        ours = restricted.encode(batch, prompt=prompt, convert_to_numpy=True)
        theirs = full.encode(batch, prompt=prompt, convert_to_numpy=True)
        assert np.array_equal(ours, theirs)  # bit for bit, not merely close
    assert check_coverage(folder, texts) == len(texts)
    assert (folder / INDEX_FILE).is_file()
    with pytest.raises(XmirError, match=r"outside the restricted vocabulary"):
        check_coverage(folder, ["query: Quetzalcoatlus northropi wingspan"])
