"""Where xmir reads data and keeps its caches (all overridable by environment variables)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "XMIR_DATA_DIR"
CACHE_DIR_ENV = "XMIR_CACHE_DIR"


def cache_dir() -> Path:
    """The user cache: ``$XMIR_CACHE_DIR``, else ``$XDG_CACHE_HOME/xmir``, else ``~/.cache/xmir``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "xmir"


def data_dir_from_env() -> Path | None:
    """The data directory named by ``$XMIR_DATA_DIR``, if set."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


# The files xmir writes and reads back, named once (their models: xmir.train.record,
# xmir.evaluate.result, xmir.sweep.layout).
TRAIN_RECORD_FILE = "xmir-train.json"  # a training run's record, in its output folder
TRAIN_BATCHES_FILE = "batches.jsonl"  # a training run's planned batches, one per line
SWEEP_FILE = "sweep.json"  # a sweep folder's spec and planned runs
RUN_STATUS_FILE = "status.json"  # a sweep run's state
RUN_RESULT_FILE = "result.json"  # a sweep run's summary, written last
