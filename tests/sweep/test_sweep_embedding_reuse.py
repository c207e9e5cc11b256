"""Embeddings are reused across runs only for identical weights (the key is the weights hash)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmir.evaluate.encoding import cached_encode, embedding_cache_key


class CountingEncoder:
    """A stand-in for a SentenceTransformer that counts encode calls."""

    max_seq_length = 128

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.calls += 1
        return np.ones((len(texts), 4), dtype=np.float32) * self.calls


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_two_fine_tuned_models_never_share_entries(cache: Path) -> None:
    texts = ["passage one", "passage two"]
    encoder = CountingEncoder()
    first, hit_first = cached_encode(encoder, texts, prefix="passage: ", weights_sha256="a" * 64)  # type: ignore[arg-type]
    second, hit_second = cached_encode(encoder, texts, prefix="passage: ", weights_sha256="b" * 64)  # type: ignore[arg-type]
    assert (hit_first, hit_second) == (False, False)
    assert encoder.calls == 2
    assert not np.array_equal(first, second)
    assert len(list((cache / "embeddings").glob("*.npy"))) == 2
    assert embedding_cache_key("a" * 64, "passage: ", 128, texts) != embedding_cache_key(
        "b" * 64, "passage: ", 128, texts
    )


def test_the_same_weights_reuse_their_embeddings(cache: Path) -> None:
    texts = ["passage one", "passage two"]
    encoder = CountingEncoder()
    first, _ = cached_encode(encoder, texts, prefix="passage: ", weights_sha256="c" * 64)  # type: ignore[arg-type]
    again, hit = cached_encode(encoder, texts, prefix="passage: ", weights_sha256="c" * 64)  # type: ignore[arg-type]
    assert hit is True
    assert encoder.calls == 1
    np.testing.assert_array_equal(first, again)
