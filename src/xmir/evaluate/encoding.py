"""Encode texts once (deduplicated), optionally reusing a cache keyed by the exact weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from xmir.paths import cache_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def encode_texts(
    model: SentenceTransformer,
    texts: list[str],
    *,
    prefix: str,
    batch_size: int = 64,
    show_progress: bool = True,
) -> np.ndarray:
    """L2-normalised float32 embeddings of ``prefix + text`` for each text (each unique text once)."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    embeddings = model.encode(
        [str(t) for t in unique],
        prompt=prefix or None,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(embeddings, dtype=np.float32)[inverse.reshape(-1)]


def embedding_cache_key(
    weights_sha256: str, prefix: str, max_seq_length: int, texts: list[str]
) -> str:
    """A key that changes with the weights, the prefix, the truncation length or any text."""
    digest = hashlib.sha256()
    digest.update(json.dumps([weights_sha256, prefix, max_seq_length]).encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def cached_encode(
    model: SentenceTransformer,
    texts: list[str],
    *,
    prefix: str,
    weights_sha256: str,
    batch_size: int = 64,
    show_progress: bool = True,
    use_cache: bool = True,
) -> tuple[np.ndarray, bool]:
    """Embeddings of ``texts``, from the cache when these exact weights encoded them before.

    Returns the embeddings and whether they came from the cache. A cache file that fails to
    load or has the wrong shape is re-encoded and overwritten, never trusted.
    """
    key = embedding_cache_key(weights_sha256, prefix, int(model.max_seq_length or 0), texts)
    path = cache_dir() / "embeddings" / f"{key}.npy"
    if use_cache and path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                return cached, True
        except (OSError, ValueError):
            pass
    embeddings = encode_texts(
        model, texts, prefix=prefix, batch_size=batch_size, show_progress=show_progress
    )
    if use_cache:
        _atomic_save(path, embeddings)
    return embeddings, False


def _atomic_save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    tmp.replace(path)
