"""The common base of the batch samplers: one global batch per step, shared by every rank.

Per optimizer step a sampler builds ONE global batch of ``world_size * batch_size`` pairs and
rank ``r`` trains on slice ``r`` of it. So all ranks share the batch at every step, their
slices are disjoint, and no item id occurs twice across the whole global batch (two
translations of one item would be false negatives of each other once negatives are gathered
across devices), nor two items with the same positive text.

A plan is a pure function of (items, languages, strategy, alpha, sizes, seed): every rank
computes the same plan without communication, and a resumed run replays it exactly. A
strategy subclasses :class:`BatchSampler` and says how the next global batch is drawn
(:meth:`BatchSampler.next_batch`) from the epoch's random streams and item queues.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from xmir.errors import XmirError
from xmir.train.sampling.batches import BatchKind, GlobalBatch, PlannedPair
from xmir.train.sampling.pool import ItemPool

_KIND_STREAM, _MONO_STREAM, _CROSS_STREAM = 0, 1, 2


@dataclass
class EpochDraws:
    """One epoch's random streams and cycling item queues. Batch kinds, monolingual pairs and
    cross-lingual pairs each draw from their own stream, so the pairs a strategy draws do not
    depend on how often it draws kinds."""

    kind: np.random.Generator
    mono: np.random.Generator
    cross: np.random.Generator
    mono_queues: dict[str, deque[int]]
    cross_queue: deque[int]


class BatchSampler(ABC):
    """Deterministic global batches for one strategy; ``epoch_batches(e)`` is set_epoch-style
    (each epoch reshuffles from ``(seed, epoch)`` alone). ``alpha`` is the probability that a
    unit the strategy draws (a batch or a pair) is monolingual; build samplers through
    :func:`xmir.train.strategies.build_sampler`, which sets it from the strategy."""

    name: ClassVar[str]

    def __init__(
        self,
        pool: ItemPool,
        *,
        batch_size: int,
        world_size: int = 1,
        alpha: float = 0.5,
        seed: int = 0,
    ) -> None:
        check_alpha(alpha)
        if batch_size < 1 or world_size < 1:
            raise XmirError(
                f"batch size and world size must be >= 1, got {batch_size}, {world_size}"
            )
        self.pool = pool
        self.alpha = float(alpha)
        self.batch_size = batch_size
        self.world_size = world_size
        self.seed = seed
        self.global_size = batch_size * world_size
        self.cross_items = pool.cross_items
        self._check_feasible()

    @property
    def strategy(self) -> str:
        """The registry name of this sampler's strategy."""
        return self.name

    @abstractmethod
    def next_batch(self, draws: EpochDraws) -> tuple[BatchKind, tuple[PlannedPair, ...]]:
        """The kind and the ``global_size`` pairs of the epoch's next global batch."""

    def _check_feasible(self) -> None:
        need = self.global_size
        scope = f"{self.batch_size} per rank x {self.world_size} rank(s)"
        if self.alpha > 0.0:
            for lang, members in self.pool.by_language.items():
                distinct = self.pool.distinct_groups(members)
                if distinct < need:
                    raise XmirError(
                        f"monolingual pairs need {need} distinct items per language ({scope}) "
                        f"but language {lang} has only {distinct} (items with the same positive "
                        f"text count once); lower --batch-size or leave {lang} out with --languages"
                    )
        if self.alpha < 1.0:
            if len(self.pool.languages) < 2 or not self.cross_items:
                raise XmirError(
                    "cross-lingual pairs need items in at least two languages, but "
                    f"the pool ({', '.join(self.pool.languages)}) has none; use --strategy mono"
                )
            if self.pool.distinct_groups(self.cross_items) < need:
                raise XmirError(
                    f"cross-lingual pairs need {need} distinct items ({scope}) that exist in two "
                    f"or more languages, but only {self.pool.distinct_groups(self.cross_items)} "
                    "do (items with the same positive text count once); lower --batch-size"
                )

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps that use about every item id once."""
        return max(1, len(self.pool) // self.global_size)

    def epoch_batches(self, epoch: int) -> Iterator[GlobalBatch]:
        """The ``steps_per_epoch`` global batches of epoch ``epoch`` (0-based)."""
        draws = EpochDraws(
            kind=self._rng(epoch, _KIND_STREAM),
            mono=self._rng(epoch, _MONO_STREAM),
            cross=self._rng(epoch, _CROSS_STREAM),
            mono_queues={lang: deque[int]() for lang in self.pool.languages},
            cross_queue=deque[int](),
        )
        first_step = epoch * self.steps_per_epoch + 1
        for offset in range(self.steps_per_epoch):
            kind, pairs = self.next_batch(draws)
            yield GlobalBatch(first_step + offset, kind, pairs)

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

    # Building blocks of the strategies.

    def mono_batch(self, draws: EpochDraws) -> tuple[PlannedPair, ...]:
        """A whole batch in one language, drawn uniformly per batch."""
        lang = self.pool.languages[int(draws.mono.integers(len(self.pool.languages)))]
        chosen = take_distinct(
            draws.mono_queues[lang],
            self.pool.by_language[lang],
            self.global_size,
            draws.mono,
            self.pool.text_group,
        )
        return tuple(PlannedPair(item, lang, lang) for item in chosen)

    def cross_pairs(
        self, draws: EpochDraws, count: int, taken: set[int] | None = None
    ) -> list[PlannedPair]:
        """``count`` cross-lingual pairs: items in two or more languages (of groups not in
        ``taken``), each with a query language and a different passage language drawn from
        the languages its item exists in."""
        chosen = take_distinct(
            draws.cross_queue, self.cross_items, count, draws.cross, self.pool.text_group, taken
        )
        pairs = []
        for item in chosen:
            langs = self.pool.languages_of[item]
            query_lang = langs[int(draws.cross.integers(len(langs)))]
            others = [lang for lang in langs if lang != query_lang]
            passage_lang = others[int(draws.cross.integers(len(others)))]
            pairs.append(PlannedPair(item, query_lang, passage_lang))
        return pairs


def check_alpha(alpha: float) -> None:
    """Refuse an ``alpha`` outside [0, 1] (a probability)."""
    if not 0.0 <= alpha <= 1.0:
        raise XmirError(f"--alpha must lie in [0, 1], got {alpha}")


def take_distinct(
    queue: deque[int],
    members: list[int],
    count: int,
    rng: np.random.Generator,
    group: Sequence[int] | None = None,
    taken: set[int] | None = None,
) -> list[int]:
    """Pop ``count`` members of distinct groups (default: distinct members) from a cycling
    shuffled queue (refilled with a fresh permutation when empty); members whose group is
    already in the batch are put back at the front, so they lead the next batch. ``taken``
    holds the groups already in the batch and gains the chosen ones."""
    chosen: list[int] = []
    taken = set() if taken is None else taken
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
