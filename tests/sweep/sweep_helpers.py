"""Shared helpers of the sweep tests: a valid spec to vary, the fake ``xmir`` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

FAKE_XMIR = Path(__file__).with_name("fake_xmir.py")
FAKE_CLI = (sys.executable, str(FAKE_XMIR))


def valid_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "tiny",
        "models": ["e5-small-q4:layers=1", "e5-small-q4:layers=2"],
        "strategies": ["mono", "cross", "hybrid"],
        "hybrid_alphas": [0.5],
        "batch_sizes": [8],
        "seeds": [0, 1],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 20}],
        "budget": {"steps": 3},
    }
    spec.update(changes)
    return spec


def small_spec(**changes: Any) -> dict[str, Any]:
    """Two sizes x {mono, hybrid 0.5} x one seed, plus baselines: six quick runs."""
    spec = valid_spec(strategies=["mono", "hybrid"], seeds=[0], batch_sizes=[4])
    spec.update(changes)
    return spec
