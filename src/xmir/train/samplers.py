"""Mono / cross / hybrid batch plans that stay correct under data parallelism.

Per optimizer step the planner builds ONE global batch of ``world_size * batch_size`` pairs
and rank ``r`` trains on slice ``r`` of it. So at every step all ranks share the batch type
(and, for mono batches, the language), their slices are disjoint, and no item id occurs twice
across the whole global batch (two translations of one item would be false negatives of each
other once negatives are gathered across devices).

- ``mono`` (X-X): every pair has query and passage in one language, drawn uniformly per step.
- ``cross`` (X-Y): every pair has query language != passage language, drawn per pair from
  the languages its item exists in.
- ``hybrid``: each whole step is mono with probability ``alpha``, else cross.

A plan is a pure function of (items, languages, strategy, alpha, sizes, seed): every rank
computes the same plan without communication, and a resumed run replays it exactly.
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from xmir.data.parallel import ParallelItem
from xmir.errors import XmirError

STRATEGIES = ("mono", "cross", "hybrid")
BatchKind = Literal["mono", "cross"]
_KIND_STREAM, _MONO_STREAM, _CROSS_STREAM = 0, 1, 2


@dataclass(frozen=True)
class PlannedPair:
    """One training pair: item index in the pool, query language, passage language."""

    item: int
    query_lang: str
    passage_lang: str


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


class ItemPool:
    """Parallel items indexed by item id and language (restricted to ``languages``)."""

    def __init__(self, items: Sequence[ParallelItem], languages: Sequence[str] | None = None):
        present = sorted({item.language for item in items})
        chosen = list(languages) if languages else present
        empty = [lang for lang in chosen if lang not in present]
        if empty:
            raise XmirError(
                f"no training items in language(s) {', '.join(empty)}; "
                f"the data has: {', '.join(present) or 'none'}"
            )
        if not chosen:
            raise XmirError("the training data holds no items")
        self.languages: tuple[str, ...] = tuple(sorted(set(chosen)))
        by_key: dict[tuple[str, str], ParallelItem] = {}
        for item in items:
            if item.language not in self.languages:
                continue
            key = (item.item_id, item.language)
            if key in by_key:
                raise XmirError(f"item id {item.item_id} appears twice in {item.language}")
            by_key[key] = item
        self.item_ids: list[str] = sorted({item_id for item_id, _ in by_key})
        index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        langs_of: list[list[str]] = [[] for _ in self.item_ids]
        for item_id, lang in sorted(by_key):
            langs_of[index[item_id]].append(lang)
        self.languages_of: list[tuple[str, ...]] = [tuple(langs) for langs in langs_of]
        self.by_language: dict[str, list[int]] = {
            lang: [i for i, langs in enumerate(self.languages_of) if lang in langs]
            for lang in self.languages
        }
        self._items = by_key
        self.text_group: list[int] = _shared_positive_groups(self.item_ids, by_key)

    def distinct_groups(self, members: Sequence[int]) -> int:
        """How many of ``members`` can share one batch (one per shared-positive group)."""
        return len({self.text_group[i] for i in members})

    def __len__(self) -> int:
        return len(self.item_ids)

    def get(self, item: int, language: str) -> ParallelItem:
        """The item with pool index ``item`` in ``language``."""
        return self._items[(self.item_ids[item], language)]

    @property
    def cross_items(self) -> list[int]:
        """Items that exist in at least two languages (the only ones a cross pair can use)."""
        return [i for i, langs in enumerate(self.languages_of) if len(langs) >= 2]

    @property
    def all_have_negatives(self) -> bool:
        return all(item.negative is not None for item in self._items.values())


class BatchPlanner:
    """Deterministic global batches for one strategy; ``epoch_batches(e)`` is set_epoch-style
    (each epoch reshuffles from ``(seed, epoch)`` alone)."""

    def __init__(
        self,
        pool: ItemPool,
        strategy: str,
        *,
        batch_size: int,
        world_size: int = 1,
        alpha: float = 0.5,
        seed: int = 0,
    ) -> None:
        if strategy not in STRATEGIES:
            raise XmirError(
                f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}"
            )
        if not 0.0 <= alpha <= 1.0:
            raise XmirError(f"--alpha must lie in [0, 1], got {alpha}")
        if batch_size < 1 or world_size < 1:
            raise XmirError(
                f"batch size and world size must be >= 1, got {batch_size}, {world_size}"
            )
        self.pool = pool
        self.strategy = strategy
        self.alpha = {"mono": 1.0, "cross": 0.0}.get(strategy, float(alpha))
        self.batch_size = batch_size
        self.world_size = world_size
        self.seed = seed
        self.global_size = batch_size * world_size
        self._cross_items = pool.cross_items
        self._check_feasible()

    def _check_feasible(self) -> None:
        need = self.global_size
        scope = f"{self.batch_size} per rank x {self.world_size} rank(s)"
        if self.alpha > 0.0:
            for lang, members in self.pool.by_language.items():
                distinct = self.pool.distinct_groups(members)
                if distinct < need:
                    raise XmirError(
                        f"mono batches need {need} distinct items ({scope}) but language {lang} "
                        f"has only {distinct} (items with the same positive text count once); "
                        f"lower --batch-size or leave {lang} out with --languages"
                    )
        if self.alpha < 1.0:
            if len(self.pool.languages) < 2 or not self._cross_items:
                raise XmirError(
                    "cross-lingual batches need items in at least two languages, but "
                    f"the pool ({', '.join(self.pool.languages)}) has none; use --strategy mono"
                )
            if self.pool.distinct_groups(self._cross_items) < need:
                raise XmirError(
                    f"cross batches need {need} distinct items ({scope}) that exist in two or "
                    f"more languages, but only {self.pool.distinct_groups(self._cross_items)} "
                    "do (items with the same positive text count once); lower --batch-size"
                )

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps that use about every item id once."""
        return max(1, len(self.pool) // self.global_size)

    def epoch_batches(self, epoch: int) -> Iterator[GlobalBatch]:
        """The ``steps_per_epoch`` global batches of epoch ``epoch`` (0-based)."""
        kind_rng = self._rng(epoch, _KIND_STREAM)
        mono_rng = self._rng(epoch, _MONO_STREAM)
        cross_rng = self._rng(epoch, _CROSS_STREAM)
        mono_queues = {lang: deque[int]() for lang in self.pool.languages}
        cross_queue = deque[int]()
        first_step = epoch * self.steps_per_epoch + 1
        for offset in range(self.steps_per_epoch):
            mono = bool(kind_rng.random() < self.alpha)
            if mono:
                pairs = self._mono_pairs(mono_rng, mono_queues)
            else:
                pairs = self._cross_pairs(cross_rng, cross_queue)
            yield GlobalBatch(first_step + offset, "mono" if mono else "cross", pairs)

    def plan(self, num_steps: int) -> list[GlobalBatch]:
        """The first ``num_steps`` global batches of the run (epochs back to back)."""
        batches: list[GlobalBatch] = []
        epoch = 0
        while len(batches) < num_steps:
            for batch in self.epoch_batches(epoch):
                batches.append(batch)
                if len(batches) == num_steps:
                    break
            epoch += 1
        return batches

    def _rng(self, epoch: int, stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, epoch, stream]))

    def _mono_pairs(
        self, rng: np.random.Generator, queues: dict[str, deque[int]]
    ) -> tuple[PlannedPair, ...]:
        lang = self.pool.languages[int(rng.integers(len(self.pool.languages)))]
        chosen = _take_distinct(
            queues[lang], self.pool.by_language[lang], self.global_size, rng, self.pool.text_group
        )
        return tuple(PlannedPair(item, lang, lang) for item in chosen)

    def _cross_pairs(self, rng: np.random.Generator, queue: deque[int]) -> tuple[PlannedPair, ...]:
        chosen = _take_distinct(
            queue, self._cross_items, self.global_size, rng, self.pool.text_group
        )
        pairs = []
        for item in chosen:
            langs = self.pool.languages_of[item]
            query_lang = langs[int(rng.integers(len(langs)))]
            others = [lang for lang in langs if lang != query_lang]
            pairs.append(PlannedPair(item, query_lang, others[int(rng.integers(len(others)))]))
        return tuple(pairs)


def _shared_positive_groups(
    item_ids: list[str], by_key: dict[tuple[str, str], ParallelItem]
) -> list[int]:
    """Per pool index, the smallest index of the items it shares a positive text with
    (transitively; by text hash in any language). Two items of one group in a batch would
    each be the other's false negative, as in sentence-transformers' NoDuplicatesBatchSampler."""
    index = {item_id: i for i, item_id in enumerate(item_ids)}
    parent = list(range(len(item_ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for (item_id, _lang), item in sorted(by_key.items()):
        digest = hashlib.sha256(item.positive.encode("utf-8")).hexdigest()
        i = index[item_id]
        if digest in first_with:
            a, b = root(i), root(first_with[digest])
            parent[max(a, b)] = min(a, b)
        else:
            first_with[digest] = i
    return [root(i) for i in range(len(item_ids))]


def _take_distinct(
    queue: deque[int],
    members: list[int],
    count: int,
    rng: np.random.Generator,
    group: Sequence[int] | None = None,
) -> list[int]:
    """Pop ``count`` members of distinct groups (default: distinct members) from a cycling
    shuffled queue (refilled with a fresh permutation when empty); members whose group is
    already in the batch are put back at the front, so they lead the next batch."""
    chosen: list[int] = []
    taken: set[int] = set()
    deferred: list[int] = []
    while len(chosen) < count:
        if not queue:
            queue.extend(int(members[i]) for i in rng.permutation(len(members)))
        item = queue.popleft()
        key = item if group is None else group[item]
        if key in taken:
            deferred.append(item)
            continue
        chosen.append(item)
        taken.add(key)
    queue.extendleft(reversed(deferred))
    return chosen


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
    """The realised mix: batch types, mono languages, cross language pairs, coverage."""
    kinds = Counter(batch.kind for batch in batches)
    mono_langs = Counter(batch.pairs[0].query_lang for batch in batches if batch.kind == "mono")
    cross_pairs = Counter(
        f"{pair.query_lang}->{pair.passage_lang}"
        for batch in batches
        if batch.kind == "cross"
        for pair in batch.pairs
    )
    reached = sorted(
        {pair.query_lang for batch in batches for pair in batch.pairs}
        | {pair.passage_lang for batch in batches for pair in batch.pairs}
    )
    steps = len(batches)
    return {
        "steps": steps,
        "mono_steps": kinds.get("mono", 0),
        "cross_steps": kinds.get("cross", 0),
        "realised_alpha": round(kinds.get("mono", 0) / steps, 4) if steps else None,
        "mono_steps_per_language": {lang: mono_langs.get(lang, 0) for lang in languages},
        "cross_pairs_per_language_pair": dict(sorted(cross_pairs.items())),
        "languages_reached": reached,
        "languages_not_reached": [lang for lang in languages if lang not in reached],
    }
