"""Language-bias metrics in the multilingual (pooled) setting.

- Rank distance (Huang et al. 2023): per query, max - min rank of its relevant candidates
  across languages; mean over the queries of a language, then macro over query languages.
- Own-language share@k: share of the top-k results written in the query's language, next to
  that language's share of the pool and of the query's relevant items (the unbiased levels).
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
