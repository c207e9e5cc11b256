"""Score queries against a pooled candidate set once and derive every setting's ranks from it.

The rank of a relevant candidate inside any sub-pool is one plus the number of sub-pool
candidates ranked above it. So for each query and each of its relevant candidates we count,
per candidate language, the candidates scored strictly higher (ties broken by candidate
index, as a stable sort would). Mono, cross and multi ranks are then sums of those counts:
no full sort of the score matrix, and no re-encoding per setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class LanguageCounts:
    """``counts[q, j, l]``: candidates of language ``l`` ranked above query q's j-th relevant.

    ``relevant`` is the padded candidate index array (-1 = padding) and ``relevant_lang`` the
    language id of each relevant slot (-1 = padding). ``top_langs[q]`` holds the language ids
    of the top-``top_k`` candidates of the pooled ranking.
    """

    counts: np.ndarray
    relevant: np.ndarray
    relevant_lang: np.ndarray
    top_langs: np.ndarray

    def ranks_in_pool(self, pool_langs: np.ndarray) -> np.ndarray:
        """Ranks of each relevant slot within the pool of the given language ids per query.

        ``pool_langs`` is a boolean ``(queries, languages)`` mask; slots whose candidate is not
        in the pool, and padding, get rank 0 (ignored by the metrics).
        """
        above = np.einsum("qjl,ql->qj", self.counts, pool_langs.astype(self.counts.dtype))
        in_pool = (self.relevant_lang >= 0) & np.take_along_axis(
            pool_langs, np.maximum(self.relevant_lang, 0), axis=1
        )
        return np.where(in_pool, above + 1, 0)


def pad_relevant(relevant: list[list[int]]) -> np.ndarray:
    """Relevant-candidate lists as a ``(queries, max_relevant)`` int array padded with -1."""
    width = max((len(r) for r in relevant), default=0)
    padded = np.full((len(relevant), max(width, 1)), -1, dtype=np.int64)
    for row, items in enumerate(relevant):
        padded[row, : len(items)] = items
    return padded


def count_above_by_language(
    query_emb: np.ndarray,
    cand_emb: np.ndarray,
    cand_lang: np.ndarray,
    num_langs: int,
    relevant: np.ndarray,
    *,
    top_k: int = 10,
    block: int = 128,
) -> LanguageCounts:
    """Count, per language, the candidates scored above each relevant candidate of each query.

    Scores are dot products (cosine for normalised embeddings). Cost is one pass over the
    ``queries x candidates`` score matrix in blocks of ``block`` queries.
    """
    order = np.argsort(cand_lang, kind="stable")
    starts = np.searchsorted(cand_lang[order], np.arange(num_langs + 1))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    cands = torch.from_numpy(np.ascontiguousarray(cand_emb[order], dtype=np.float32))
    rel_sorted = np.where(relevant >= 0, position[np.maximum(relevant, 0)], -1)
    rel_lang = np.where(relevant >= 0, cand_lang[np.maximum(relevant, 0)], -1)
    lang_sorted = torch.from_numpy(cand_lang[order].astype(np.int64))
    counts = np.zeros((*relevant.shape, num_langs), dtype=np.int64)
    top_langs = np.zeros((len(query_emb), min(top_k, len(order))), dtype=np.int64)
    index = torch.arange(len(order))
    queries = torch.from_numpy(np.ascontiguousarray(query_emb, dtype=np.float32))
    with torch.inference_mode():
        for lo in range(0, len(queries), block):
            scores = queries[lo : lo + block] @ cands.T
            rel_idx = torch.from_numpy(rel_sorted[lo : lo + block])
            rel_score = torch.gather(scores, 1, rel_idx.clamp(min=0))
            rel_score = torch.where(rel_idx >= 0, rel_score, torch.inf)
            above = scores.unsqueeze(1) > rel_score.unsqueeze(2)
            tied = (scores.unsqueeze(1) == rel_score.unsqueeze(2)) & (
                index.view(1, 1, -1) < rel_idx.unsqueeze(2)
            )
            above |= tied
            for lang in range(num_langs):
                segment = above[:, :, starts[lang] : starts[lang + 1]]
                counts[lo : lo + block, :, lang] = segment.sum(dim=2).numpy()
            top = torch.topk(scores, top_langs.shape[1], dim=1).indices
            top_langs[lo : lo + block] = lang_sorted[top].numpy()
    return LanguageCounts(counts, relevant, rel_lang, top_langs)
