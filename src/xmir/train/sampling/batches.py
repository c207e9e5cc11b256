"""What a batch plan is made of: pairs, global batches, per-rank records, and the realised
mix of a plan (what the sampler really did, as the run metadata and the CLI report it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from xmir.train.sampling.pool import ItemPool

# mono: every pair in one language; cross: every pair's query and passage languages differ;
# mixed: monolingual and cross-lingual pairs in one batch.
BatchKind = Literal["mono", "cross", "mixed"]


@dataclass(frozen=True)
class PlannedPair:
    """One training pair: item index in the pool, query language, passage language."""

    item: int
    query_lang: str
    passage_lang: str

    @property
    def monolingual(self) -> bool:
        return self.query_lang == self.passage_lang


@dataclass(frozen=True)
class GlobalBatch:
    """Everything all ranks train on at one optimizer step (``step`` counts from 1)."""

    step: int
    kind: BatchKind
    pairs: tuple[PlannedPair, ...]

    def rank_pairs(self, rank: int, world_size: int) -> tuple[PlannedPair, ...]:
        """The consecutive slice of this batch that rank ``rank`` trains on."""
        size = len(self.pairs) // world_size
        return self.pairs[rank * size : (rank + 1) * size]

    @cached_property
    def mono_pairs(self) -> int:
        """How many of its pairs are monolingual (computed once: progress logs ask often)."""
        return sum(pair.monolingual for pair in self.pairs)


@dataclass(frozen=True)
class BatchRecord:
    """What one rank trains on at one step; one line of ``batches.jsonl``."""

    step: int
    rank: int
    type: BatchKind
    query_langs: list[str]
    passage_langs: list[str]
    item_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "rank": self.rank,
            "type": self.type,
            "query_langs": self.query_langs,
            "passage_langs": self.passage_langs,
            "item_ids": self.item_ids,
        }


def batch_records(batch: GlobalBatch, pool: ItemPool, world_size: int) -> list[BatchRecord]:
    """One record per rank for ``batch`` (the lists in batch order)."""
    records = []
    for rank in range(world_size):
        pairs = batch.rank_pairs(rank, world_size)
        records.append(
            BatchRecord(
                step=batch.step,
                rank=rank,
                type=batch.kind,
                query_langs=[pair.query_lang for pair in pairs],
                passage_langs=[pair.passage_lang for pair in pairs],
                item_ids=[pool.item_ids[pair.item] for pair in pairs],
            )
        )
    return records


def summarise_mix(batches: Sequence[GlobalBatch], languages: Sequence[str]) -> dict[str, Any]:
    """The realised mix: batch kinds, monolingual pairs, mono languages, cross language
    pairs, coverage.

    ``realised_alpha`` is the share of monolingual pairs. Under a batch-level strategy every
    batch is all-monolingual or all-cross-lingual and of one size, so it equals the share of
    monolingual steps; under a pair-level one (``mixed``) it is the share that strategy draws.
    """
    kinds = Counter(batch.kind for batch in batches)
    mono_langs = Counter(batch.pairs[0].query_lang for batch in batches if batch.kind == "mono")
    pairs = [pair for batch in batches for pair in batch.pairs]
    mono_pairs = Counter(pair.query_lang for pair in pairs if pair.monolingual)
    cross_pairs = Counter(
        f"{pair.query_lang}->{pair.passage_lang}" for pair in pairs if not pair.monolingual
    )
    reached = sorted({p.query_lang for p in pairs} | {p.passage_lang for p in pairs})
    steps = len(batches)
    return {
        "steps": steps,
        "mono_steps": kinds.get("mono", 0),
        "cross_steps": kinds.get("cross", 0),
        "mixed_steps": kinds.get("mixed", 0),
        "pairs": len(pairs),
        "mono_pairs": mono_pairs.total(),
        "realised_alpha": round(mono_pairs.total() / len(pairs), 4) if pairs else None,
        "mono_steps_per_language": {lang: mono_langs.get(lang, 0) for lang in languages},
        "mono_pairs_per_language": {lang: mono_pairs.get(lang, 0) for lang in languages},
        "cross_pairs_per_language_pair": dict(sorted(cross_pairs.items())),
        "languages_reached": reached,
        "languages_not_reached": [lang for lang in languages if lang not in reached],
    }
