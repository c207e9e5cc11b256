"""``mixed``: each pair is monolingual with probability ``alpha``, independently, so one
batch mixes monolingual and cross-lingual pairs. At the same alpha it has the share of
monolingual pairs of ``hybrid``, which mixes per whole batch: comparing the two asks whether
mixing at the batch level matters.

A monolingual pair's language is drawn uniformly per pair and its item from that language's
cycling queue (as a mono batch draws them per step); a cross-lingual pair is drawn as in a
cross batch. The global batch is drawn whole and sliced per rank, so each rank's slice holds
its share of both kinds, and no item id nor positive text occurs twice in the global batch.
"""

from __future__ import annotations

from xmir.train.sampling.base import BatchSampler, EpochDraws, take_distinct
from xmir.train.sampling.batches import BatchKind, PlannedPair


class MixedSampler(BatchSampler):
    """Pair-level mixing: one coin per pair decides monolingual or cross-lingual."""

    name = "mixed"

    def next_batch(self, draws: EpochDraws) -> tuple[BatchKind, tuple[PlannedPair, ...]]:
        mono = draws.kind.random(self.global_size) < self.alpha
        taken: set[int] = set()  # shared-positive groups already in this global batch
        cross = iter(self.cross_pairs(draws, int((~mono).sum()), taken))
        languages = self.pool.languages
        mono_langs = [languages[i] for i in draws.mono.integers(len(languages), size=mono.sum())]
        items = {
            lang: iter(
                take_distinct(
                    draws.mono_queues[lang],
                    self.pool.by_language[lang],
                    mono_langs.count(lang),
                    draws.mono,
                    self.pool.text_group,
                    taken,
                )
            )
            for lang in languages
        }
        langs = iter(mono_langs)
        pairs = []
        for is_mono in mono:
            if is_mono:
                lang = next(langs)
                pairs.append(PlannedPair(next(items[lang]), lang, lang))
            else:
                pairs.append(next(cross))
        return "mixed", tuple(pairs)
