"""The record of a training run (``xmir-train.json`` in the output folder), typed.

:class:`TrainRecord` reads and writes what ``xmir train`` writes: ``status`` (``running``
until the model is saved, then ``finished``), the config and its fingerprint, the base model,
the batch plan with its realised mix (:class:`RealisedMix`), loss, optimizer, licences,
versions, resumptions and, once finished, the outcome. :class:`BatchMix` is the other view of
the mix: the counts a sweep summarises from the run's ``batches.jsonl``. Files without
``xmir_train`` are read as schema version 1, the format of every committed run.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from xmir.evaluate.result import ModelRecord
from xmir.records import Record, VersionedRecord

TRAIN_RECORD_KEY = "xmir_train"
RUNNING, FINISHED = "running", "finished"
Number = int | float


class RealisedMix(Record):
    """What the planned batches hold: batch kinds, monolingual pairs, languages reached.

    ``realised_alpha`` is the share of monolingual pairs (older records lack the pair
    counts and ``mixed_steps``).
    """

    steps: int | None = None
    mono_steps: int | None = None
    cross_steps: int | None = None
    mixed_steps: int | None = None
    pairs: int | None = None
    mono_pairs: int | None = None
    realised_alpha: Number | None = None
    mono_steps_per_language: dict[str, int] = Field(default_factory=dict)
    mono_pairs_per_language: dict[str, int] | None = None
    cross_pairs_per_language_pair: dict[str, int] = Field(default_factory=dict)
    languages_reached: list[str] = Field(default_factory=list)
    languages_not_reached: list[str] = Field(default_factory=list)


class BatchMix(Record):
    """The mix summarised from ``batches.jsonl`` over (step, rank) batches: batch-type
    shares, the same-language pair share (the realised alpha) and language shares."""

    steps: int | None = None
    ranks: int | None = None
    batches: int | None = None
    pairs: int | None = None
    mono_share: Number | None = None
    mixed_share: Number | None = None
    same_language_pair_share: Number | None = None
    query_language_share: dict[str, Number] = Field(default_factory=dict)
    passage_language_share: dict[str, Number] = Field(default_factory=dict)
    mono_batch_languages: dict[str, int] = Field(default_factory=dict)


class PlanRecord(Record):
    """The batch plan: data, languages, batch sizes, steps and the realised mix."""

    data: Record | None = None
    languages: list[str] = Field(default_factory=list)
    world_size: int | None = None
    per_device_batch_size: int | None = None
    global_batch_size: int | None = None
    total_steps: int | None = None
    effective_alpha: Number | None = None
    realised_mix: RealisedMix | None = None


class LossEntry(Record):
    step: int
    loss: Number


class TrainingOutcome(Record):
    """What the last session of the run did (written when it finishes)."""

    steps_this_session: int | None = None
    seconds_this_session: Number | None = None
    pairs_per_second: Number | None = None
    train_loss_mean: Number | None = None
    loss_log: list[LossEntry] = Field(default_factory=list)


class TrainLicenses(Record):
    trained_model: Record | None = None
    note: str | None = None


class TrainRecord(VersionedRecord):
    """``xmir-train.json``: one training run, written at its start and rewritten at its end."""

    SCHEMA_VERSION: ClassVar[int] = 1
    VERSION_KEY: ClassVar[str] = TRAIN_RECORD_KEY
    WHAT: ClassVar[str] = "an xmir training record"

    schema_version: int = Field(1, alias=TRAIN_RECORD_KEY)
    status: str = RUNNING
    started: str | None = None
    finished: str | None = None
    config: Record = Record()
    config_fingerprint: str | None = None
    model: ModelRecord = ModelRecord()  # the model the run started from
    plan: PlanRecord | None = None
    licenses: TrainLicenses | None = None
    seed: int | None = None
    versions: dict[str, str | None] = Field(default_factory=dict)
    resumed_from: list[Record] = Field(default_factory=list)
    training: TrainingOutcome | None = None
    evaluations: list[Record] = Field(default_factory=list)

    @field_validator("status")
    @classmethod
    def _known_status(cls, status: str) -> str:
        if status not in (RUNNING, FINISHED):
            raise ValueError(f"status {status!r} is not {RUNNING} or {FINISHED}")
        return status

    @property
    def is_finished(self) -> bool:
        return self.status == FINISHED
