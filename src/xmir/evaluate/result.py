"""The result of one evaluation (``xmir eval``; ``eval-*.json`` in a sweep run), typed.

:class:`EvalResult` reads and writes the JSON document the evaluators build (see the README):
provenance (dataset, model, licences, prefixes, versions, timings), the per-setting metrics,
the language-bias numbers, the per-query table and, for LAReQA, the language-centred variant.
Files without ``xmir_result`` are read as schema version 1, the format of every committed
result. The per-query key ``<query id>|<language>`` is made and parsed here only
(:class:`QueryKey`).
"""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

from pydantic import Field, field_validator, model_validator

from xmir.records import EVAL_RESULT_KEY, Record, VersionedRecord

KEY_SEPARATOR = "|"
TASKS = ("lareqa", "miracl")  # the protocols a result can come from
Number = int | float


class QueryKey(NamedTuple):
    """One evaluated query: its id (shared by the translations of a question) and language."""

    query_id: str
    language: str

    def format(self) -> str:
        """``q42|de``."""
        return f"{self.query_id}{KEY_SEPARATOR}{self.language}"

    @classmethod
    def parse(cls, key: str) -> QueryKey:
        """``q42|de`` -> (``q42``, ``de``); the id may itself hold the separator."""
        query_id, _, language = key.rpartition(KEY_SEPARATOR)
        return cls(query_id, language) if _ else cls(key, "")


def query_keys(query_ids: list[str], languages: list[str]) -> list[str]:
    """The ``per_query.keys`` column of aligned query ids and languages."""
    return [QueryKey(q, lang).format() for q, lang in zip(query_ids, languages, strict=True)]


class SettingMetrics(Record):
    """One setting (``mono``, ``cross``, ``multi``): macro metrics named as in the file
    (``map``, ``recall@10``, ``ndcg@10``, ...: read with :meth:`metric`), counts, and per
    query language (``cross``: per ordered language pair, ``matrix``)."""

    queries: int | None = None
    skipped_queries: int | None = None
    pairs: int | None = None
    skipped_query_pools: int | None = None
    per_language: dict[str, dict[str, Number | None]] = Field(default_factory=dict)
    matrix: dict[str, dict[str, Number]] | None = None

    def metric(self, name: str) -> float:
        """A macro metric; NaN when this setting does not report it."""
        value = self.extra(name)
        return math.nan if value is None else float(value)


class OwnLanguageShare(Record):
    """The share of own-language candidates in the top k, with what the pool would give."""

    k: int | None = None
    value: Number | None = None
    expected_from_pool: Number | None = None
    expected_from_relevant: Number | None = None


class MeanRankCorrelation(Record):
    value: Number | None = None


class Bias(Record):
    """Language-bias numbers of the ``multi`` setting."""

    rank_distance: Number | None = None
    rank_distance_per_language: dict[str, Number | None] = Field(default_factory=dict)
    own_language_share: OwnLanguageShare | None = Field(None, alias="own_language_share@10")
    mrc: MeanRankCorrelation | None = None

    def metric(self, name: str) -> float:
        """``rank_distance``, ``own_share@10``, ``pool_share`` or ``mrc``; NaN when absent."""
        share = self.own_language_share or OwnLanguageShare()
        values = {
            "rank_distance": self.rank_distance,
            "own_share@10": share.value,
            "pool_share": share.expected_from_pool,
            "mrc": (self.mrc or MeanRankCorrelation()).value,
        }
        if name not in values:
            raise ValueError(f"unknown bias metric {name}")
        value = values[name]
        return math.nan if value is None else float(value)


class PerQuery(Record):
    """One row per evaluated query: ``keys`` (:class:`QueryKey`) and aligned score columns
    (``mono_ap``, ``ndcg@10``, ``bm25_recall@100``, ...; None where a query has no score);
    ``paragraphs`` when the evaluation recorded each query's paragraph."""

    keys: list[str] = Field(default_factory=list)
    paragraphs: list[str] | None = None

    @field_validator("keys")
    @classmethod
    def _keys_have_language(cls, keys: list[str]) -> list[str]:
        bad = next((k for k in keys if KEY_SEPARATOR not in k), None)
        if bad is not None:
            raise ValueError(f"per-query key {bad!r} is not <query id>{KEY_SEPARATOR}<language>")
        return keys

    @model_validator(mode="after")
    def _columns_align_with_keys(self) -> PerQuery:
        for name, values in (self.model_extra or {}).items():
            if isinstance(values, list) and len(values) != len(self.keys):
                raise ValueError(f"column {name} has {len(values)} rows for {len(self.keys)} keys")
        return self

    def query_keys(self) -> list[QueryKey]:
        return [QueryKey.parse(key) for key in self.keys]

    def column(self, name: str) -> list[float | None]:
        """A score column aligned with ``keys`` (empty when not recorded)."""
        values = self.extra(name)
        return list(values) if isinstance(values, list) else []


class Scored(Record):
    """What a result and each of its variants share: settings, bias, per-query table."""

    settings: dict[str, SettingMetrics] = Field(default_factory=dict)
    bias: Bias | None = None
    per_query: PerQuery | None = None

    def metric(self, setting: str, name: str = "map") -> float:
        """``settings[setting][name]``; NaN when absent."""
        found = self.settings.get(setting)
        return math.nan if found is None else found.metric(name)

    def bias_metric(self, name: str) -> float:
        return math.nan if self.bias is None else self.bias.metric(name)


class Variant(Scored):
    """The same evaluation after a post-hoc change (``centered``)."""

    description: str | None = None


class Bm25Block(Record):
    """MIRACL's lexical baseline on the same queries."""

    settings: dict[str, SettingMetrics] = Field(default_factory=dict)
    parameters: Record | None = None
    tokenizer: str | None = None
    index_from_cache: dict[str, bool] = Field(default_factory=dict)


class EvaluatedDataset(Record):
    """Which data was evaluated (name, languages, file digests, subset, split, sizes)."""

    name: str | None = None
    revision: str | None = None
    languages: list[str] = Field(default_factory=list)
    files_sha256: dict[str, str] | None = None
    queries: int | None = None
    candidates: int | None = None


class ModelRecord(Record):
    """What a record says about an encoder: the one evaluated, or the one a training run
    started from (a sweep adds where it was evaluated from)."""

    spec: str | None = None
    description: str | None = None
    source: str | None = None
    total_params: int | None = None
    non_embedding_params: int | None = None
    weights_sha256: str | None = None


class Prefixes(Record):
    query: str | None = None
    passage: str | None = None


class EvalResult(Scored, VersionedRecord):
    """One evaluation of one encoder on one dataset (LAReQA family or MIRACL)."""

    SCHEMA_VERSION: ClassVar[int] = 1
    VERSION_KEY: ClassVar[str] = EVAL_RESULT_KEY
    WHAT: ClassVar[str] = "an xmir evaluation result"

    schema_version: int = Field(1, alias=EVAL_RESULT_KEY)
    task: str | None = None
    dataset: EvaluatedDataset = EvaluatedDataset()
    model: ModelRecord = ModelRecord()
    licenses: Record | None = None
    prefixes: Prefixes | None = None
    max_seq_length: int | None = None
    seed: int | None = None
    versions: dict[str, str | None] = Field(default_factory=dict)
    started: str | None = None
    time_s: Record | None = None
    embeddings_from_cache: dict[str, bool] | None = None
    embeddings: dict[str, Record] | None = None
    search: dict[str, Record] | None = None
    counts: dict[str, dict[str, int]] | None = None
    bm25: Bm25Block | None = None
    variants: dict[str, Variant] = Field(default_factory=dict)

    @field_validator("task")
    @classmethod
    def _known_task(cls, task: str | None) -> str | None:
        if task is not None and task not in TASKS:
            raise ValueError(f"task {task!r} is not one of {', '.join(TASKS)}")
        return task

    def variant(self, name: str | None) -> Scored:
        """The result itself (``None``) or a named variant (empty when not recorded)."""
        return self if name is None else self.variants.get(name, Variant())

    def without_per_query(self) -> EvalResult:
        """The same result less its per-query table (a training-time evaluation's summary)."""
        payload = self.to_dict()
        payload.pop("per_query", None)
        return EvalResult.from_dict(payload)
