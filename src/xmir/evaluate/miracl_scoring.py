"""Scoring MIRACL rankings: nDCG@10 and Recall@100 per query, with judged-relevant passages
missing from the corpus counted as relevant but never retrieved."""

from __future__ import annotations

import numpy as np

from xmir.data.miracl import MiraclJudgements
from xmir.errors import XmirError
from xmir.evaluate import metrics
from xmir.evaluate.embedding_store import EmbeddingStore
from xmir.evaluate.miracl_inputs import QuerySet

DEPTH = 100
NDCG_CUTOFF = 10
RECALL_CUTOFF = 100
METRICS = (f"ndcg@{NDCG_CUTOFF}", f"recall@{RECALL_CUTOFF}")


def locate_relevant(
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
