"""MIRACL dev, monolingual: nDCG@10 and Recall@100 per language over the passage corpus.

Per language: read topics and qrels, stream the corpus into the verified embedding cache
(:mod:`xmir.evaluate.embedding_store`), encode the queries, take the top 100 passages
(:mod:`xmir.evaluate.corpus_search`) and score them; BM25 on the same corpus
(:mod:`xmir.evaluate.bm25`) is scored the same way and reported side by side.

Judgement bookkeeping (all counted in the result): topics without qrels, qrels without a
topic and topics whose judgements hold no relevant passage are skipped; judged-relevant
passages missing from the corpus still count as relevant (nDCG's ideal ranking and Recall's
denominator use every judged-relevant passage, as trec_eval does) but can never be retrieved.
"""

from __future__ import annotations

import shutil
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xmir.data.miracl import MIRACL_VERSION, MiraclJudgements, check_languages, load_judgements
from xmir.data.miracl_corpus import CorpusShards, resolve_corpus
from xmir.errors import XmirError
from xmir.evaluate import metrics
from xmir.evaluate.bm25 import Bm25Options, bm25_search
from xmir.evaluate.corpus_search import SearchOptions, search, search_record
from xmir.evaluate.embedding_store import (
    EmbeddingStore,
    EncodingKey,
    PassageEncodeFn,
    open_or_encode,
)
from xmir.evaluate.encoding import cached_encode, module_config_sha256
from xmir.evaluate.lareqa import model_record
from xmir.evaluate.passage_encoder import passage_encoder
from xmir.io import atomic_write_text
from xmir.licenses import evaluation_licenses
from xmir.provenance import library_versions, utc_now

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel

DEPTH = 100
NDCG_CUTOFF = 10
RECALL_CUTOFF = 100
METRICS = (f"ndcg@{NDCG_CUTOFF}", f"recall@{RECALL_CUTOFF}")


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


def evaluate_miracl(
    loaded: LoadedModel | SentenceTransformer, options: MiraclOptions
) -> dict[str, Any]:
    """Evaluate ``loaded`` (a :class:`LoadedModel` or a plain ``SentenceTransformer``) on
    MIRACL dev and return the result document (LAReQA family)."""
    from xmir.models.registry import as_loaded_model

    loaded = as_loaded_model(loaded)
    languages = check_languages(list(options.languages) if options.languages else None)
    started, clock = utc_now(), time.perf_counter()
    query_prefix = loaded.query_prefix if options.query_prefix is None else options.query_prefix
    passage_prefix = (
        loaded.passage_prefix if options.passage_prefix is None else options.passage_prefix
    )
    prefixes = {"query": query_prefix, "passage": passage_prefix}
    inputs = {lang: prepare_language(lang, options) for lang in languages}  # fail before encoding
    outcomes: dict[str, dict[str, Any]] = {}
    with passage_encoder(
        loaded.model, prefix=passage_prefix, batch_size=options.batch_size, devices=options.devices
    ) as encode:
        for lang, (judged, queries, shards) in inputs.items():
            outcomes[lang] = _evaluate_language(
                loaded, judged, queries, shards, encode, prefixes, options
            )
    return {
        "xmir_result": 1,
        "task": "miracl",
        "dataset": _dataset_record(outcomes, options),
        "model": model_record(loaded),
        "licenses": evaluation_licenses("miracl", loaded.license),
        "prefixes": prefixes,
        "max_seq_length": loaded.max_seq_length,
        "seed": options.seed,
        "versions": library_versions(),
        "started": started,
        "time_s": {
            "per_language": {lang: o["time_s"] for lang, o in outcomes.items()},
            "total": round(time.perf_counter() - clock, 3),
        },
        "embeddings": {lang: o["embeddings"] for lang, o in outcomes.items()},
        "search": {lang: o["search"] for lang, o in outcomes.items()},
        "counts": {lang: o["counts"] for lang, o in outcomes.items()},
        "settings": {"mono": _setting(outcomes, "dense")},
        **({"bm25": _bm25_block(outcomes)} if options.bm25 else {}),
        "per_query": _per_query(outcomes, options.bm25),
    }


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


def _evaluate_language(
    loaded: LoadedModel,
    judged: MiraclJudgements,
    queries: QuerySet,
    shards: CorpusShards,
    encode: PassageEncodeFn,
    prefixes: dict[str, str],
    options: MiraclOptions,
) -> dict[str, Any]:
    clock, lang = time.perf_counter(), judged.language
    corpus_sha256 = shards.content_sha256()
    key = EncodingKey(
        weights_sha256=loaded.weights_sha256,
        corpus_sha256=corpus_sha256,
        prefix=prefixes["passage"],
        max_seq_length=int(loaded.model.max_seq_length or 0),
        dtype=options.dtype,
        with_title=options.with_title,
        modules_sha256=module_config_sha256(loaded.model),
    )
    store, status = open_or_encode(
        encode, shards, key,
        chunk_rows=options.chunk_rows, use_cache=options.use_cache,
        show_progress=options.show_progress,
    )  # fmt: skip
    encoded = time.perf_counter()
    relevant_rows, num_relevant, counts = _locate_relevant(store, judged, queries, lang)
    query_emb, _ = cached_encode(
        loaded.model, queries.texts, prefix=prefixes["query"],
        weights_sha256=loaded.weights_sha256, batch_size=options.batch_size,
        show_progress=False, use_cache=options.use_cache,
    )  # fmt: skip
    hits = search(
        store, query_emb, SearchOptions(method=options.search, depth=DEPTH, seed=options.seed)
    )
    searched = time.perf_counter()
    outcome: dict[str, Any] = {
        "qids": queries.qids,
        "dense": score_rankings(hits.rows, relevant_rows, num_relevant),
        "counts": {**queries.counts, **counts, "corpus_passages": store.rows},
        "corpus": {"source": shards.source, "sha256": corpus_sha256, "shards": len(shards.shards)},
        "embeddings": {
            "from_cache": status.from_cache,
            "resumed_at_row": status.resumed_at_row,
            "rebuilt_reason": status.rebuilt_reason,
            "dtype": options.dtype,
            "dim": store.dim,
            "cache_key": key.digest(),
        },
        "search": search_record(hits),
        "judgements": {"source": judged.source, "files_sha256": judged.files_sha256},
    }
    _write_run(options.run_dir, lang, "dense", store, queries.qids, hits.rows, hits.scores)
    if options.bm25:
        bm25_rows, bm25_scores, from_cache = bm25_search(
            shards, corpus_sha256, queries.texts, DEPTH,
            Bm25Options(with_title=options.with_title, show_progress=options.show_progress),
        )  # fmt: skip
        outcome["bm25"] = score_rankings(bm25_rows, relevant_rows, num_relevant)
        outcome["bm25_index_from_cache"] = from_cache
        _write_run(options.run_dir, lang, "bm25", store, queries.qids, bm25_rows, bm25_scores)
    if not options.keep_embeddings:
        shutil.rmtree(store.folder, ignore_errors=True)
        outcome["embeddings"]["deleted_after_use"] = True
    finished = time.perf_counter()
    outcome["time_s"] = {
        "encode_corpus": round(encoded - clock, 3),
        "search": round(searched - encoded, 3),
        "bm25": round(finished - searched, 3),
    }
    return outcome


def _locate_relevant(
    store: EmbeddingStore, judged: MiraclJudgements, queries: QuerySet, lang: str
) -> tuple[list[list[int]], np.ndarray, dict[str, int]]:
    """Corpus rows of each query's relevant docids, relevant counts, and missing-doc counts."""
    judged_docids = judged.judged_docids
    rows_of = store.find_rows(judged_docids)
    if not rows_of:
        raise XmirError(
            f"the {lang} corpus holds none of the {len(judged_docids)} passages the {lang} qrels "
            "judge; is --corpus the corpus of this language?"
        )
    relevant_rows = [[rows_of[d] for d in docs if d in rows_of] for docs in queries.relevant]
    num_relevant = np.array([len(docs) for docs in queries.relevant], dtype=np.int64)
    found = np.array([len(rows) for rows in relevant_rows], dtype=np.int64)
    return (
        relevant_rows,
        num_relevant,
        {
            "queries": len(queries.qids),
            "relevant_judgements": int(num_relevant.sum()),
            "relevant_missing_from_corpus": int((num_relevant - found).sum()),
            "queries_with_missing_relevant": int((found < num_relevant).sum()),
            "queries_without_relevant_in_corpus": int((found == 0).sum()),
            "judged_missing_from_corpus": len(judged_docids) - len(rows_of),
        },
    )


def relevant_ranks(
    retrieved: np.ndarray, relevant_rows: list[list[int]], num_relevant: np.ndarray
) -> np.ndarray:
    """1-based ranks of each query's relevant passages, padded with 0, for :mod:`metrics`.

    ``retrieved[q]`` are the top rows (best first; -1 = no hit). A relevant passage that was
    not retrieved, or is missing from the corpus, gets a distinct rank past the depth: it
    counts as relevant but scores nothing at any cutoff within the depth.
    """
    depth = retrieved.shape[1]
    ranks = np.zeros((len(relevant_rows), max(1, int(num_relevant.max(initial=0)))), dtype=np.int64)
    for q, rows in enumerate(relevant_rows):
        position = {int(row): i + 1 for i, row in enumerate(retrieved[q]) if row >= 0}
        found = sorted(position[row] for row in rows if row in position)
        unranked = int(num_relevant[q]) - len(found)
        ranks[q, : int(num_relevant[q])] = found + list(range(depth + 1, depth + 1 + unranked))
    return ranks


def score_rankings(
    retrieved: np.ndarray, relevant_rows: list[list[int]], num_relevant: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-query nDCG@10 and Recall@100 of one ranking."""
    ranks = relevant_ranks(retrieved, relevant_rows, num_relevant)
    return {
        METRICS[0]: metrics.ndcg_at_k(ranks, NDCG_CUTOFF, num_relevant=num_relevant),
        METRICS[1]: metrics.recall_at_k(ranks, RECALL_CUTOFF),
    }


def _setting(outcomes: dict[str, dict[str, Any]], system: str) -> dict[str, Any]:
    """Per-language means and their macro average over languages."""
    per_language = {
        lang: {
            **{name: float(np.mean(o[system][name])) for name in METRICS},
            "queries": len(o["qids"]),
        }
        for lang, o in outcomes.items()
    }
    return {
        **{name: float(np.mean([v[name] for v in per_language.values()])) for name in METRICS},
        "queries": sum(v["queries"] for v in per_language.values()),
        "skipped_queries": sum(
            o["counts"]["topics_without_judgements"] + o["counts"]["topics_without_relevant"]
            for o in outcomes.values()
        ),
        "per_language": per_language,
    }


def _bm25_block(outcomes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    defaults = Bm25Options()
    return {
        "settings": {"mono": _setting(outcomes, "bm25")},
        "parameters": {"k1": defaults.k1, "b": defaults.b, "method": defaults.method},
        "tokenizer": "lowercase \\w+ words, CJK/Thai character bigrams, bm25s stopwords, no stemming",
        "index_from_cache": {lang: o["bm25_index_from_cache"] for lang, o in outcomes.items()},
    }


def _per_query(outcomes: dict[str, dict[str, Any]], with_bm25: bool) -> dict[str, Any]:
    keys = [f"{q}|{lang}" for lang, o in outcomes.items() for q in o["qids"]]
    table: dict[str, Any] = {"keys": keys}
    systems = ("dense", "bm25") if with_bm25 else ("dense",)
    for system in systems:
        for name in METRICS:
            column = name if system == "dense" else f"bm25_{name}"
            table[column] = [round(float(v), 6) for o in outcomes.values() for v in o[system][name]]
    return table


def _dataset_record(outcomes: dict[str, dict[str, Any]], options: MiraclOptions) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": "miracl",
        "version": MIRACL_VERSION,
        "split": "dev",
        "languages": list(outcomes),
        "judgements": {lang: o["judgements"] for lang, o in outcomes.items()},
        "corpus": {lang: o["corpus"] for lang, o in outcomes.items()},
        "passage_text": "title text" if options.with_title else "text",
        "depth": DEPTH,
    }
    if options.max_topics is not None:
        record["topic_sample"] = {
            "method": TOPIC_SAMPLE_METHOD,
            "max_topics": options.max_topics,
            "seed": options.seed,
            "per_language": {
                lang: {
                    "evaluable_topics": o["counts"]["queries"] + o["counts"]["topics_not_sampled"],
                    "sampled_topics": o["counts"]["queries"],
                }
                for lang, o in outcomes.items()
            },
        }
    return record


def _write_run(
    run_dir: Path | None,
    lang: str,
    system: str,
    store: EmbeddingStore,
    qids: list[str],
    rows: np.ndarray,
    scores: np.ndarray,
) -> None:
    """A TREC run file ``miracl-{lang}-{system}.trec`` (``qid Q0 docid rank score tag``)."""
    if run_dir is None:
        return
    lines = []
    for qid, q_rows, q_scores in zip(qids, rows, scores, strict=True):
        valid = q_rows >= 0
        docids = store.docids_at(q_rows[valid])
        for rank, (docid, score) in enumerate(zip(docids, q_scores[valid], strict=True), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {float(score):.6f} xmir-{system}\n")
    atomic_write_text(Path(run_dir) / f"miracl-{lang}-{system}.trec", "".join(lines))
