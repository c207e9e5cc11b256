"""Rank distance and own-language share against brute-force references on hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest

from xmir.data.lareqa import RetrievalSet
from xmir.evaluate.bias import own_language_share
from xmir.evaluate.lareqa import score_settings


def _toy_set() -> RetrievalSet:
    """Two languages, two parallel questions; candidates 0-2 are 'en', 3-5 are 'de'."""
    return RetrievalSet(
        name="toy",
        languages=("en", "de"),
        query_ids=["a", "b", "a", "b"],
        query_langs=["en", "en", "de", "de"],
        query_texts=["qa-en", "qb-en", "qa-de", "qb-de"],
        candidate_texts=[f"c{i}" for i in range(6)],
        candidate_langs=["en"] * 3 + ["de"] * 3,
        candidate_contexts=[""] * 6,
        relevant=[[0, 3], [1, 4], [0, 3], [1, 4]],
        gold_own_language=[0, 1, 3, 4],
    )


def _embeddings_for_scores(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queries as one-hot rows and candidates as the score columns: q @ c.T == scores."""
    return np.eye(len(scores), dtype=np.float32), scores.T.astype(np.float32).copy()


def _brute_force(scores, rset, k):
    order = np.argsort(-scores, axis=1, kind="stable")
    rank_of = np.empty_like(order)
    for q in range(len(scores)):
        rank_of[q, order[q]] = np.arange(1, scores.shape[1] + 1)
    distance, share = {}, {}
    for q, lang in enumerate(rset.query_langs):
        ranks = [rank_of[q, c] for c in rset.relevant[q]]
        distance.setdefault(lang, []).append(max(ranks) - min(ranks))
        top = order[q, :k]
        share.setdefault(lang, []).append(np.mean([rset.candidate_langs[c] == lang for c in top]))
    return (
        np.mean([np.mean(v) for v in distance.values()]),
        np.mean([np.mean(v) for v in share.values()]),
    )


def test_known_answer():
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.3, 0.0, 0.8],  # en a: gold en rank 1, gold de (3) rank 3 -> 2
            [0.5, 0.6, 0.1, 0.2, 0.9, 0.3],  # en b: gold de (4) rank 1, gold en (1) rank 2 -> 1
            [0.1, 0.2, 0.3, 0.9, 0.4, 0.5],  # de a: gold de rank 1, gold en (0) rank 6 -> 5
            [0.1, 0.7, 0.2, 0.3, 0.8, 0.0],  # de b: ranks 1 and 2 -> 1
        ]
    )
    result = score_settings(_toy_set(), *_embeddings_for_scores(scores))
    bias = result["bias"]
    assert bias["rank_distance_per_language"] == {"en": 1.5, "de": 3.0}
    assert bias["rank_distance"] == pytest.approx(2.25)
    share = bias["own_language_share@10"]
    assert share["k"] == 6  # k is capped by the pool size: the whole pool, so half is own
    assert share["value"] == pytest.approx(0.5)
    assert share["expected_from_pool"] == pytest.approx(0.5)
    assert share["expected_from_relevant"] == pytest.approx(0.5)
    # top-2 of each query: en a {0,5} -> 1/2 en; en b {4,1} -> 1/2; de a {3,5} -> 1; de b {4,1} -> 1/2
    top2 = np.argsort(-scores, axis=1, kind="stable")[:, :2]
    cand_lang = np.array([0, 0, 0, 1, 1, 1])
    top = own_language_share(
        cand_lang[top2],
        np.array([0, 0, 1, 1]),
        cand_lang,
        np.array([[0, 1]] * 4),
        ["en", "de"],
    )
    assert top["k"] == 2
    assert top["per_language"]["en"]["share"] == pytest.approx(0.5)
    assert top["per_language"]["de"]["share"] == pytest.approx(0.75)
    assert top["value"] == pytest.approx(0.625)


@pytest.mark.parametrize("seed", range(5))
def test_random_cases_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    rset = _toy_set()
    scores = rng.integers(0, 4, size=(4, 6)).astype(np.float64)  # many ties on purpose
    result = score_settings(rset, *_embeddings_for_scores(scores))
    distance, share = _brute_force(scores, rset, k=6)
    assert result["bias"]["rank_distance"] == pytest.approx(distance)
    assert result["bias"]["own_language_share@10"]["value"] == pytest.approx(share)


def test_top_share_with_small_k():
    rng = np.random.default_rng(3)
    n = 40
    rset = RetrievalSet(
        name="toy",
        languages=("en", "de", "fr"),
        query_ids=["a", "a", "a"],
        query_langs=["en", "de", "fr"],
        query_texts=["x", "y", "z"],
        candidate_texts=[f"c{i}" for i in range(n)],
        candidate_langs=[("en", "de", "fr")[i % 3] for i in range(n)],
        candidate_contexts=[""] * n,
        relevant=[[0, 1, 2]] * 3,
        gold_own_language=[0, 1, 2],
    )
    scores = rng.standard_normal((3, n))
    result = score_settings(rset, *_embeddings_for_scores(scores))
    distance, share = _brute_force(scores, rset, k=10)
    assert result["bias"]["own_language_share@10"]["k"] == 10
    assert result["bias"]["own_language_share@10"]["value"] == pytest.approx(share)
    assert result["bias"]["rank_distance"] == pytest.approx(distance)
