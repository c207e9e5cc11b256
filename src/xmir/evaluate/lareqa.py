"""The LAReQA protocol on a :class:`RetrievalSet`: mono, cross and multi settings plus bias.

All queries and candidates are encoded once; each setting is the same score matrix with the
candidate pool restricted by language (see :mod:`xmir.evaluate.retrieval`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from xmir.data.datasets import find_dataset
from xmir.data.lareqa import RetrievalSet
from xmir.evaluate import metrics
from xmir.evaluate.bias import (
    macro_by_language,
    mean_rank_correlation,
    own_language_share,
    rank_distance,
)
from xmir.evaluate.centering import center_by_language
from xmir.evaluate.encoding import cached_encode, encoding_progress, unique_count
from xmir.evaluate.result import EvalResult, query_keys
from xmir.evaluate.retrieval import LanguageCounts, count_above_by_language, pad_relevant
from xmir.licenses import evaluation_licenses
from xmir.models.registry import as_loaded_model
from xmir.provenance import library_versions, utc_now

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from xmir.models.registry import LoadedModel

RECALL_CUTOFFS = (1, 10)


@dataclass(frozen=True)
class EvalOptions:
    """How a LAReQA evaluation encodes its texts."""

    query_prefix: str | None = None
    passage_prefix: str | None = None
    with_context: bool = False
    batch_size: int = 64
    use_cache: bool = True
    show_progress: bool = True
    seed: int = 0


def evaluate_lareqa(
    loaded: LoadedModel | SentenceTransformer,
    rset: RetrievalSet,
    options: EvalOptions | None = None,
) -> EvalResult:
    """Encode ``rset`` with ``loaded`` (a :class:`LoadedModel` or a plain
    ``SentenceTransformer``) and return the result (see the README)."""
    loaded = as_loaded_model(loaded)
    options = options or EvalOptions()
    started, clock = utc_now(), time.perf_counter()
    query_prefix = loaded.query_prefix if options.query_prefix is None else options.query_prefix
    passage_prefix = (
        loaded.passage_prefix if options.passage_prefix is None else options.passage_prefix
    )
    passages = (
        [f"{s} {c}" for s, c in zip(rset.candidate_texts, rset.candidate_contexts, strict=True)]
        if options.with_context
        else rset.candidate_texts
    )
    encode = {"weights_sha256": loaded.weights_sha256, "batch_size": options.batch_size}
    counts = (unique_count(rset.query_texts), unique_count(passages))
    label = f"encoding {rset.name} (queries, then passages)"
    with encoding_progress(
        loaded.model, sum(counts), label, enabled=options.show_progress
    ) as progress:
        query_emb, q_cached = cached_encode(
            loaded.model,
            rset.query_texts,
            prefix=query_prefix,
            use_cache=options.use_cache,
            show_progress=False,
            **encode,
        )
        progress.skip(counts[0] if q_cached else 0)
        cand_emb, c_cached = cached_encode(
            loaded.model,
            passages,
            prefix=passage_prefix,
            use_cache=options.use_cache,
            show_progress=False,
            **encode,
        )
        progress.skip(counts[1] if c_cached else 0)
    encoded = time.perf_counter()
    scores = score_settings(rset, query_emb, cand_emb)
    variants = {"centered": centered_scores(rset, query_emb, cand_emb)}
    finished = time.perf_counter()
    document = {
        "xmir_result": EvalResult.SCHEMA_VERSION,
        "task": "lareqa",
        "dataset": _dataset_record(rset, options),
        "model": model_record(loaded),
        "licenses": evaluation_licenses(rset.name, loaded.license),
        "prefixes": {"query": query_prefix, "passage": passage_prefix},
        "max_seq_length": loaded.max_seq_length,
        "seed": options.seed,
        "versions": library_versions(),
        "started": started,
        "time_s": {
            "encode": round(encoded - clock, 3),
            "score_and_metrics": round(finished - encoded, 3),
            "total": round(finished - clock, 3),
        },
        "embeddings_from_cache": {"queries": q_cached, "candidates": c_cached},
        **scores,
        "variants": variants,
    }
    return EvalResult.model_validate(document)


def centered_scores(
    rset: RetrievalSet, query_emb: np.ndarray, cand_emb: np.ndarray
) -> dict[str, Any]:
    """:func:`score_settings` after post-hoc language centering (see
    :mod:`xmir.evaluate.centering`): queries and candidates are centred separately."""
    query_langs = np.array(rset.query_langs)
    cand_langs = np.array(rset.candidate_langs)
    return {
        "description": "per-language mean embedding subtracted (queries and candidates "
        "separately, estimated from the evaluated pool without labels), then renormalised",
        **score_settings(
            rset,
            center_by_language(query_emb, query_langs),
            center_by_language(cand_emb, cand_langs),
        ),
    }


def score_settings(
    rset: RetrievalSet, query_emb: np.ndarray, cand_emb: np.ndarray
) -> dict[str, Any]:
    """The ``settings``, ``bias`` and ``per_query`` parts of a result from the embeddings."""
    languages = list(rset.languages)
    lang_id = {lang: i for i, lang in enumerate(languages)}
    query_lang = np.array([lang_id[lang] for lang in rset.query_langs])
    cand_lang = np.array([lang_id[lang] for lang in rset.candidate_langs])
    counts = count_above_by_language(
        query_emb, cand_emb, cand_lang, len(languages), pad_relevant(rset.relevant)
    )
    n_queries, n_langs = len(query_lang), len(languages)
    own_pool = np.eye(n_langs, dtype=bool)[query_lang]
    mono_ranks = counts.ranks_in_pool(own_pool)
    multi_ranks = counts.ranks_in_pool(np.ones((n_queries, n_langs), dtype=bool))
    mono = _setting(mono_ranks, query_lang, languages)
    multi = _setting(multi_ranks, query_lang, languages)
    cross, cross_ap = _cross_setting(counts, query_lang, languages)
    return {
        "settings": {"mono": mono, "cross": cross, "multi": multi},
        "bias": {
            **_rank_distance_fields(multi_ranks, query_lang, languages),
            "own_language_share@10": own_language_share(
                counts.top_langs, query_lang, cand_lang, counts.relevant_lang, languages
            ),
            "mrc": mean_rank_correlation(
                query_emb, cand_emb, list(rset.query_ids), query_lang, languages
            ),
        },
        "per_query": {
            "keys": query_keys(list(rset.query_ids), list(rset.query_langs)),
            "mono_ap": _rounded(_ap_or_nan(mono_ranks)),
            "cross_ap": _rounded(cross_ap),
            "multi_ap": _rounded(_ap_or_nan(multi_ranks)),
        },
    }


def _ap_or_nan(ranks: np.ndarray) -> np.ndarray:
    """Per-query AP, NaN where the pool holds none of the query's relevant items."""
    return np.where((ranks > 0).any(axis=1), metrics.average_precision(ranks), np.nan)


def _per_query_scores(ranks: np.ndarray) -> dict[str, np.ndarray]:
    scores = {"map": metrics.average_precision(ranks)}
    for k in RECALL_CUTOFFS:
        scores[f"recall@{k}"] = metrics.recall_at_k(ranks, k)
    return scores


def _setting(ranks: np.ndarray, query_lang: np.ndarray, languages: list[str]) -> dict[str, Any]:
    """Macro over query languages of per-query scores; queries without relevant are skipped."""
    answerable = (ranks > 0).any(axis=1)
    per_language: dict[str, dict[str, float]] = {}
    summary: dict[str, Any] = {}
    for name, values in _per_query_scores(ranks).items():
        macro, by_lang = macro_by_language(
            np.where(answerable, values, np.nan), query_lang, languages
        )
        summary[name] = macro
        for lang, value in by_lang.items():
            per_language.setdefault(lang, {})[name] = value
    for lang_index, lang in enumerate(languages):
        if lang in per_language:
            per_language[lang]["queries"] = int(((query_lang == lang_index) & answerable).sum())
    return {
        **summary,
        "queries": int(answerable.sum()),
        "skipped_queries": int((~answerable).sum()),
        "per_language": per_language,
    }


def _cross_setting(
    counts: LanguageCounts, query_lang: np.ndarray, languages: list[str]
) -> tuple[dict[str, Any], np.ndarray]:
    """Every ordered pair X != Y: queries in X against candidates in Y only."""
    n_queries, n_langs = len(query_lang), len(languages)
    matrices: dict[str, dict[str, dict[str, float]]] = {"map": {}}
    matrices.update({f"recall@{k}": {} for k in RECALL_CUTOFFS})
    ap_sum, ap_count = np.zeros(n_queries), np.zeros(n_queries)
    skipped = 0
    for target in range(n_langs):
        pool = np.zeros((n_queries, n_langs), dtype=bool)
        pool[:, target] = True
        ranks = counts.ranks_in_pool(pool)
        eligible = (query_lang != target) & (ranks > 0).any(axis=1)
        skipped += int(((query_lang != target) & ~eligible).sum())
        scores = _per_query_scores(ranks)
        ap_sum += np.where(eligible, scores["map"], 0.0)
        ap_count += eligible
        for source in range(n_langs):
            chosen = eligible & (query_lang == source)
            if source == target or not chosen.any():
                continue
            for name, values in scores.items():
                row = matrices[name].setdefault(languages[source], {})
                row[languages[target]] = float(values[chosen].mean())
    summary = {
        name: float(np.mean([v for row in matrix.values() for v in row.values()]))
        for name, matrix in matrices.items()
    }
    cross = {
        **summary,
        "pairs": sum(len(row) for row in matrices["map"].values()),
        "skipped_query_pools": skipped,
        "matrix": matrices["map"],
        **{f"matrix_recall@{k}": matrices[f"recall@{k}"] for k in RECALL_CUTOFFS},
    }
    per_query = np.divide(ap_sum, ap_count, out=np.full(n_queries, np.nan), where=ap_count > 0)
    return cross, per_query


def _rank_distance_fields(
    multi_ranks: np.ndarray, query_lang: np.ndarray, languages: list[str]
) -> dict[str, Any]:
    distance = rank_distance(multi_ranks, query_lang, languages)
    return {
        "rank_distance": distance["value"],
        "rank_distance_per_language": distance["per_language"],
        "rank_distance_queries": distance["queries"],
    }


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


def model_record(loaded: LoadedModel) -> dict[str, Any]:
    """What a result records about the encoder."""
    return {
        "spec": loaded.spec,
        "description": loaded.description,
        "source": loaded.source,
        "total_params": loaded.total_params,
        "non_embedding_params": loaded.non_embedding_params,
        "weights_sha256": loaded.weights_sha256,
    }


def _dataset_record(rset: RetrievalSet, options: EvalOptions) -> dict[str, Any]:
    entry = find_dataset(rset.name)
    return {
        "name": rset.name,
        "revision": entry.revision if entry else None,
        "languages": list(rset.languages),
        "files_sha256": rset.file_sha256,
        "subset": rset.subset,
        "subset_sample": rset.subset_record,
        **({"split": rset.split_record} if rset.split_record is not None else {}),
        "queries": rset.num_queries,
        "candidates": rset.num_candidates,
        "candidate_text": "sentence+context" if options.with_context else "sentence",
    }
