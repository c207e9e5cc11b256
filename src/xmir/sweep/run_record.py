"""A sweep run's summary (``result.json`` in its folder), typed.

:class:`RunRecord` is what the runner writes once a run's steps all succeeded: the run's
config and fingerprint, the evaluated model, which ``eval-*.json`` file holds each
evaluation (per budget), the kept training records with the realised batch mix, and
timings. Files without ``xmir_sweep_run`` are read as schema version 1.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from xmir.evaluate.result import ModelRecord
from xmir.records import Record, VersionedRecord
from xmir.train.record import BatchMix, TrainingOutcome

RUN_RECORD_KEY = "xmir_sweep_run"
Number = int | float


class RunBudget(Record):
    steps: int | None = None
    lr: Number | None = None
    temperature: Number | None = None


class RunConfig(Record):
    """The planned run (see :mod:`xmir.sweep.plan`); the fields a report groups by."""

    run_id: str | None = None
    model: str | None = None
    strategy: str | None = None
    alpha: Number | None = None
    batch_size: int | None = None
    seed: int | None = None
    budget: RunBudget | None = None


class KeptTraining(Record):
    """The training records kept next to the results, and what they say."""

    metadata: str | None = None
    batches: str | None = None
    status: str | None = None
    training: TrainingOutcome | None = None
    batch_mix: BatchMix | None = None


class RunRecord(VersionedRecord):
    """``result.json``: one finished sweep run."""

    SCHEMA_VERSION: ClassVar[int] = 1
    VERSION_KEY: ClassVar[str] = RUN_RECORD_KEY
    WHAT: ClassVar[str] = "an xmir sweep run result"

    schema_version: int = Field(1, alias=RUN_RECORD_KEY)
    sweep: str | None = None
    run_id: str | None = None
    config_sha: str | None = None
    config: RunConfig = RunConfig()
    model_label: str | None = None
    strategy_label: str | None = None
    model: ModelRecord | None = None
    evals: dict[str, str] = Field(default_factory=dict)
    budgets: dict[str, dict[str, str]] = Field(default_factory=dict)
    train: KeptTraining | None = None
    time_s: dict[str, Number] = Field(default_factory=dict)
    finished: str | None = None
