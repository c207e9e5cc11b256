"""Encode passages on every available device through sentence-transformers' own mechanisms.

One device: ``model.encode(..., device=...)`` in this process. Several devices (all GPUs by
default, or e.g. ``["cpu", "cpu"]``): one ``start_multi_process_pool`` for the whole run, and
``model.encode(..., pool=pool)`` per chunk, so the pool is started once, not per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from xmir.evaluate.embedding_store import PassageEncodeFn

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def default_devices() -> list[str]:
    """All CUDA devices when there are any; otherwise none (the model's own device, CPU)."""
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())]


@contextmanager
def passage_encoder(
    model: SentenceTransformer,
    *,
    prefix: str,
    batch_size: int = 64,
    devices: Sequence[str] | None = None,
) -> Iterator[PassageEncodeFn]:
    """A function ``texts -> L2-normalised float32 embeddings`` of ``prefix + text``.

    ``devices=None`` picks :func:`default_devices`; two or more devices use a multi-process
    pool that lives as long as the context.
    """
    chosen = list(default_devices() if devices is None else devices)
    pool = model.start_multi_process_pool(chosen) if len(chosen) > 1 else None
    device = chosen[0] if len(chosen) == 1 else None

    def encode(texts: list[str]) -> np.ndarray:
        vectors = model.encode(
            texts,
            prompt=prefix or None,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
            device=device,
            pool=pool,
        )
        return np.asarray(vectors, dtype=np.float32)

    try:
        yield encode
    finally:
        if pool is not None:
            model.stop_multi_process_pool(pool)
