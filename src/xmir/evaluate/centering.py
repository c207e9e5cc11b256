"""Post-hoc language centering: a free, label-free baseline against language bias.

Each language's mean embedding, estimated from that language's own texts in the evaluated
pool (queries and candidates separately, no relevance labels), is subtracted and the rows are
renormalised. A training strategy's bias reduction should be read next to what this transform
alone does, and on top of it.
"""

from __future__ import annotations

import numpy as np


def center_by_language(embeddings: np.ndarray, languages: np.ndarray) -> np.ndarray:
    """Subtract each language's mean row, then scale every row to unit length."""
    centered = np.array(embeddings, dtype=np.float32, copy=True)
    for lang in np.unique(languages):
        rows = languages == lang
        centered[rows] -= centered[rows].mean(axis=0, keepdims=True)
    norms = np.linalg.norm(centered, axis=1, keepdims=True)
    return centered / np.where(norms > 0, norms, 1.0)
