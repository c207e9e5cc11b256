"""MIRACL dev, monolingual: nDCG@10 and Recall@100 per language over the passage corpus.

Per language: read topics and qrels, stream the corpus into the verified embedding cache
(:mod:`xmir.evaluate.embedding_store`), encode the queries, take the top 100 passages
(:mod:`xmir.evaluate.corpus_search`) and score them; BM25 on the same corpus
(:mod:`xmir.evaluate.bm25`) is scored the same way and reported side by side. The options and
the evaluated topics are in :mod:`xmir.evaluate.miracl_inputs`, the scoring in
:mod:`xmir.evaluate.miracl_scoring`, the result's parts and TREC run files in
:mod:`xmir.evaluate.miracl_results`.

Judgement bookkeeping (all counted in the result): topics without qrels, qrels without a
topic and topics whose judgements hold no relevant passage are skipped; judged-relevant
passages missing from the corpus still count as relevant (nDCG's ideal ranking and Recall's
denominator use every judged-relevant passage, as trec_eval does) but can never be retrieved.
"""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING, Any

from xmir.data.miracl import MiraclJudgements, check_languages
from xmir.data.miracl_corpus import CorpusShards
from xmir.evaluate.bm25 import Bm25Options, bm25_search
from xmir.evaluate.corpus_search import SearchOptions, search, search_record
from xmir.evaluate.embedding_store import EncodingKey, PassageEncodeFn, open_or_encode
from xmir.evaluate.encoding import cached_encode, module_config_sha256
from xmir.evaluate.lareqa import model_record
from xmir.evaluate.miracl_inputs import MiraclOptions, QuerySet, prepare_language
from xmir.evaluate.miracl_results import (
    bm25_block,
    dataset_record,
    per_query_table,
    setting_summary,
    write_trec_run,
)
from xmir.evaluate.miracl_scoring import DEPTH, locate_relevant, score_rankings
from xmir.evaluate.passage_encoder import passage_encoder
from xmir.evaluate.result import EvalResult
from xmir.licenses import evaluation_licenses
from xmir.models.registry import as_loaded_model
from xmir.provenance import library_versions, utc_now

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel


def evaluate_miracl(
    loaded: LoadedModel | SentenceTransformer, options: MiraclOptions
) -> EvalResult:
    """Evaluate ``loaded`` (a :class:`LoadedModel` or a plain ``SentenceTransformer``) on
    MIRACL dev and return the result document (LAReQA family)."""
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
    document = {
        "xmir_result": EvalResult.SCHEMA_VERSION,
        "task": "miracl",
        "dataset": dataset_record(outcomes, options),
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
        "settings": {"mono": setting_summary(outcomes, "dense")},
        **({"bm25": bm25_block(outcomes)} if options.bm25 else {}),
        "per_query": per_query_table(outcomes, options.bm25),
    }
    return EvalResult.model_validate(document)


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
    relevant_rows, num_relevant, counts = locate_relevant(store, judged, queries, lang)
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
    write_trec_run(options.run_dir, lang, "dense", store, queries.qids, hits.rows, hits.scores)
    if options.bm25:
        bm25_rows, bm25_scores, from_cache = bm25_search(
            shards, corpus_sha256, queries.texts, DEPTH,
            Bm25Options(with_title=options.with_title, show_progress=options.show_progress),
        )  # fmt: skip
        outcome["bm25"] = score_rankings(bm25_rows, relevant_rows, num_relevant)
        outcome["bm25_index_from_cache"] = from_cache
        write_trec_run(options.run_dir, lang, "bm25", store, queries.qids, bm25_rows, bm25_scores)
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
