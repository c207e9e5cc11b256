"""The realised batch mix of a training run, summarised from its ``batches.jsonl``
(:class:`~xmir.train.record.BatchMix`)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

from xmir.errors import XmirError
from xmir.train.record import BatchMix


def summarise_batches(path: Path, max_step: int | None = None) -> BatchMix:
    """Counts that show what the sampler really did: batch types, languages, pairs.

    ``mono_share`` and ``mixed_share`` are the shares of (step, rank) batches that were
    monolingual, and that mixed monolingual and cross-lingual pairs (``mixed`` strategy);
    ``same_language_pair_share`` is the share of monolingual pairs, the realised alpha of every
    strategy (the monolingual-batch share too, for the batch-level ones); the language shares
    are over all (query, passage) pairs. ``max_step`` keeps the first steps only (the mix a
    shorter budget's snapshot was trained on); a ``.gz`` file is read as well.
    """
    types: Counter[str] = Counter()
    query_langs: Counter[str] = Counter()
    passage_langs: Counter[str] = Counter()
    mono_langs: Counter[str] = Counter()
    steps: set[int] = set()
    ranks: set[int] = set()
    pairs = same_language_pairs = 0
    opener = gzip.open if Path(path).suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                kind, queries, passages = (
                    record["type"],
                    record["query_langs"],
                    record["passage_langs"],
                )
                steps.add(int(record["step"]))
                ranks.add(int(record.get("rank", 0)))
            except (ValueError, KeyError, TypeError):
                raise XmirError(f"{path}:{number}: not a batches.jsonl record") from None
            if max_step is not None and int(record["step"]) > max_step:
                steps.discard(int(record["step"]))
                continue
            types[kind] += 1
            query_langs.update(queries)
            passage_langs.update(passages)
            pairs += len(queries)
            same_language_pairs += sum(q == p for q, p in zip(queries, passages, strict=False))
            if kind == "mono" and queries:
                mono_langs[queries[0]] += 1
    batches = sum(types.values())
    return BatchMix(
        steps=len(steps),
        ranks=len(ranks),
        batches=batches,
        pairs=pairs,
        mono_share=types["mono"] / batches if batches else None,
        mixed_share=types["mixed"] / batches if batches else None,
        same_language_pair_share=same_language_pairs / pairs if pairs else None,
        query_language_share=_shares(query_langs),
        passage_language_share=_shares(passage_langs),
        mono_batch_languages=dict(sorted(mono_langs.items())),
    )


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {lang: round(n / total, 6) for lang, n in sorted(counts.items())} if total else {}
