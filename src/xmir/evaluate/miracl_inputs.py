"""What a MIRACL evaluation reads: its options, and per language the judgements, the
evaluated topics (optionally a seeded sample) and the corpus shards."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from xmir.data.miracl import MiraclJudgements, load_judgements
from xmir.data.miracl_corpus import CorpusShards, resolve_corpus
from xmir.errors import XmirError


@dataclass(frozen=True)
class MiraclOptions:
    """What a MIRACL evaluation reads and how it encodes and searches.

    ``corpus`` is a folder/file (``{lang}`` placeholder allowed) or ``"hub"``; ``topics`` and
    ``qrels`` default to ``$XMIR_DATA_DIR/miracl`` (see :func:`load_judgements`).
    ``max_topics`` evaluates a seeded sample of at most that many topics per language (drawn
    with ``seed``); ``keep_embeddings=False`` deletes each language's passage embeddings once
    searched (for a model that is evaluated once, such as a sweep's fine-tuned model).
    """

    corpus: Path | str
    languages: tuple[str, ...] | None = None
    topics: Path | str | None = None
    qrels: Path | str | None = None
    data_dir: Path | None = None
    search: str = "auto"
    bm25: bool = True
    dtype: str = "float16"
    with_title: bool = True
    query_prefix: str | None = None
    passage_prefix: str | None = None
    batch_size: int = 64
    chunk_rows: int = 16384
    devices: tuple[str, ...] | None = None
    use_cache: bool = True
    show_progress: bool = True
    run_dir: Path | None = None
    seed: int = 0
    max_topics: int | None = None
    keep_embeddings: bool = True


@dataclass(frozen=True)
class QuerySet:
    """The evaluated topics of one language, with their relevant docids and skip counts."""

    qids: list[str]
    texts: list[str]
    relevant: list[list[str]]
    counts: dict[str, int]

    @classmethod
    def from_judgements(cls, judged: MiraclJudgements) -> QuerySet:
        qids = [q for q in judged.topics if q in judged.qrels and judged.relevant(q)]
        return cls(
            qids=qids,
            texts=[judged.topics[q] for q in qids],
            relevant=[judged.relevant(q) for q in qids],
            counts={
                "topics": len(judged.topics),
                "topics_without_judgements": sum(q not in judged.qrels for q in judged.topics),
                "judgements_without_topic": sum(q not in judged.topics for q in judged.qrels),
                "topics_without_relevant": sum(
                    q in judged.qrels and not judged.relevant(q) for q in judged.topics
                ),
            },
        )

    def sample(self, max_topics: int, seed: int, language: str) -> QuerySet:
        """At most ``max_topics`` of these topics, drawn uniformly with ``seed`` (the stream
        also depends on ``language``, so languages get independent draws), in topic order."""
        if max_topics < 1:
            raise XmirError(f"max_topics must be >= 1, got {max_topics}")
        available = len(self.qids)
        counts = {**self.counts, "topics_not_sampled": max(0, available - max_topics)}
        if available <= max_topics:
            return replace(self, counts=counts)
        rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(language.encode())]))
        keep = np.sort(rng.choice(available, size=max_topics, replace=False)).tolist()
        return QuerySet(
            qids=[self.qids[i] for i in keep],
            texts=[self.texts[i] for i in keep],
            relevant=[self.relevant[i] for i in keep],
            counts=counts,
        )


TOPIC_SAMPLE_METHOD = "uniform without replacement per language, seeded, kept in topic order"


def prepare_language(
    lang: str, options: MiraclOptions
) -> tuple[MiraclJudgements, QuerySet, CorpusShards]:
    """Judgements, evaluated queries and corpus shards of ``lang`` (cheap; checks the inputs)."""
    judged = load_judgements(
        lang, topics=options.topics, qrels=options.qrels, data_dir=options.data_dir
    )
    queries = QuerySet.from_judgements(judged)
    if not queries.qids:
        raise XmirError(f"MIRACL {lang}: no topic has a relevant judgement; check --topics/--qrels")
    if options.max_topics is not None:
        queries = queries.sample(options.max_topics, options.seed, lang)
    return judged, queries, resolve_corpus(options.corpus, lang)
