"""Language-bias metrics in the multilingual (pooled) setting.

- Rank distance (Huang et al. 2023): per query, max - min rank of its relevant candidates
  across languages; mean over the queries of a language, then macro over query languages.
- Own-language share@k: share of the top-k results written in the query's language, next to
  that language's share of the pool and of the query's relevant items (the unbiased levels).
- Mean Rank Correlation: Spearman correlation of the rankings of the whole pool that
  parallel queries (one question id, two languages) produce; 1 = language-independent.
"""

from __future__ import annotations

import numpy as np

from xmir.evaluate.metrics import rank_spread


def macro_by_language(
    values: np.ndarray, query_lang: np.ndarray, languages: list[str]
) -> tuple[float, dict[str, float]]:
    """Mean of ``values`` per query language (NaNs skipped) and the macro mean over languages."""
    per_language: dict[str, float] = {}
    for lang_id, lang in enumerate(languages):
        chosen = values[(query_lang == lang_id) & ~np.isnan(values)]
        if len(chosen):
            per_language[lang] = float(chosen.mean())
    macro = float(np.mean(list(per_language.values()))) if per_language else float("nan")
    return macro, per_language


def rank_distance(
    multi_ranks: np.ndarray, query_lang: np.ndarray, languages: list[str]
) -> dict[str, object]:
    """Rank distance from pooled ranks ``(queries, relevant)`` (0 = padding)."""
    spread = rank_spread(multi_ranks)
    macro, per_language = macro_by_language(spread, query_lang, languages)
    return {
        "value": macro,
        "per_language": per_language,
        "queries": int((~np.isnan(spread)).sum()),
    }


def own_language_share(
    top_langs: np.ndarray,
    query_lang: np.ndarray,
    cand_lang: np.ndarray,
    relevant_lang: np.ndarray,
    languages: list[str],
) -> dict[str, object]:
    """Share of the top-k in the query's language vs its share of the pool and of the relevant."""
    k = top_langs.shape[1]
    observed = (top_langs == query_lang[:, None]).mean(axis=1)
    pool_share = np.bincount(cand_lang, minlength=len(languages)) / len(cand_lang)
    valid = relevant_lang >= 0
    relevant_share = ((relevant_lang == query_lang[:, None]) & valid).sum(axis=1) / np.maximum(
        valid.sum(axis=1), 1
    )
    macro, per_language = macro_by_language(observed, query_lang, languages)
    macro_relevant, per_language_relevant = macro_by_language(relevant_share, query_lang, languages)
    present = [i for i, lang in enumerate(languages) if lang in per_language]
    return {
        "k": k,
        "value": macro,
        "expected_from_pool": float(np.mean(pool_share[present])) if present else float("nan"),
        "expected_from_relevant": macro_relevant,
        "per_language": {
            lang: {
                "share": per_language[lang],
                "pool_share": float(pool_share[languages.index(lang)]),
                "relevant_share": per_language_relevant[lang],
            }
            for lang in per_language
        },
    }


def mean_rank_correlation(
    query_emb: np.ndarray,
    cand_emb: np.ndarray,
    query_ids: list[str],
    query_lang: np.ndarray,
    languages: list[str],
    *,
    block_queries: int = 512,
) -> dict[str, object]:
    """Mean Rank Correlation over the pooled candidates (multilingual setting).

    For every question id asked in two languages X and Y, the Spearman correlation of the
    two queries' rankings of the whole pool (average ranks for ties, as scipy's
    ``spearmanr``); the mean over ids gives the value of the pair X-Y, and the macro mean over
    pairs the headline value. 1 means the parallel queries rank the pool identically: the
    ranking does not depend on the query's language.
    """
    from scipy.stats import rankdata

    by_id: dict[str, list[int]] = {}
    for row, qid in enumerate(query_ids):
        by_id.setdefault(qid, []).append(row)
    groups = [rows for rows in by_id.values() if len(rows) > 1]
    n_langs = len(languages)
    sums, counts = np.zeros((n_langs, n_langs)), np.zeros((n_langs, n_langs))
    start = 0
    while start < len(groups):
        chunk, size = [], 0
        while start < len(groups) and (not chunk or size + len(groups[start]) <= block_queries):
            chunk.append(groups[start])
            size += len(groups[start])
            start += 1
        rows = np.array([r for group in chunk for r in group])
        scores = (
            np.asarray(query_emb[rows], dtype=np.float64) @ np.asarray(cand_emb, dtype=np.float64).T
        )
        ranks = rankdata(scores, axis=1)
        ranks -= ranks.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(ranks, axis=1)
        constant = norms == 0  # a query that scores every candidate alike: undefined, skipped
        ranks /= np.where(constant, 1.0, norms)[:, None]
        offset = 0
        for group in chunk:
            block = ranks[offset : offset + len(group)]
            corr = block @ block.T
            langs = query_lang[group]
            skip = constant[offset : offset + len(group)]
            for i in range(len(group)):
                for j in range(i + 1, len(group)):
                    if skip[i] or skip[j]:
                        continue
                    a, b = sorted((int(langs[i]), int(langs[j])))
                    sums[a, b] += corr[i, j]
                    counts[a, b] += 1
            offset += len(group)
    per_pair = {
        f"{languages[a]}-{languages[b]}": float(sums[a, b] / counts[a, b])
        for a in range(n_langs)
        for b in range(a + 1, n_langs)
        if counts[a, b] > 0
    }
    return {
        "value": float(np.mean(list(per_pair.values()))) if per_pair else float("nan"),
        "per_pair": per_pair,
        "question_ids": len(groups),
        "pool": "all candidates (multilingual setting)",
    }
