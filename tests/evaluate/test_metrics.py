"""Metrics from ranks against pytrec_eval (trec_eval) and ranx on real LAReQA rankings."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval
from ranx import Qrels, Run, evaluate

from xmir.data.lareqa import load_lareqa
from xmir.evaluate import metrics
from xmir.evaluate.lareqa import score_settings
from xmir.evaluate.retrieval import count_above_by_language, pad_relevant


def _doc_id(index: int, total: int) -> str:
    # trec_eval breaks score ties by docid, descending; xmir by candidate index, ascending.
    return f"d{total - index:07d}"


def _reference(rset, query_emb, cand_emb, pools, measures):
    """Per-query trec_eval scores with each query restricted to its own candidate pool."""
    scores = query_emb @ cand_emb.T
    n = len(cand_emb)
    qrels, run = {}, {}
    for q, pool in enumerate(pools):
        relevant = [c for c in rset.relevant[q] if c in pool]
        if not relevant:
            continue
        qrels[str(q)] = {_doc_id(c, n): 1 for c in relevant}
        run[str(q)] = {_doc_id(c, n): float(scores[q, c]) for c in pool}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, set(measures))
    return evaluator.evaluate(run)


@pytest.fixture
def small_set(data_dir):
    return load_lareqa("mlqa-r", data_dir, max_questions=25)


@pytest.fixture
def embeddings(small_set):
    rng = np.random.default_rng(7)
    # Shared item directions make relevant items rank high, as a trained encoder would.
    ids = sorted(set(small_set.query_ids))
    item = {i: rng.standard_normal(16) for i in ids}
    gold_item = {}
    for q, rel in enumerate(small_set.relevant):
        for c in rel:
            gold_item[c] = small_set.query_ids[q]
    q = np.stack([item[i] + rng.standard_normal(16) for i in small_set.query_ids])
    c = np.stack(
        [
            item[gold_item[j]] * 0.8 + rng.standard_normal(16)
            if j in gold_item
            else rng.standard_normal(16)
            for j in range(small_set.num_candidates)
        ]
    )
    c[5] = c[6]  # an exact tie between two candidates
    return q.astype(np.float32), c.astype(np.float32)


def _pools(rset, setting):
    langs = np.array(rset.candidate_langs)
    if setting == "multi":
        return [list(range(len(langs)))] * rset.num_queries
    return [list(np.flatnonzero(langs == lang)) for lang in rset.query_langs]


@pytest.mark.parametrize("setting", ["mono", "multi"])
def test_settings_match_trec_eval_per_query(small_set, embeddings, setting):
    result = score_settings(small_set, *embeddings)
    reference = _reference(
        small_set, *embeddings, _pools(small_set, setting), ["map", "recall_1", "recall_10"]
    )
    ours = np.array(result["per_query"][f"{setting}_ap"], dtype=float)
    for q, values in reference.items():
        assert ours[int(q)] == pytest.approx(values["map"], abs=1e-6)
    by_lang: dict[str, list[float]] = {}
    for q, values in reference.items():
        by_lang.setdefault(small_set.query_langs[int(q)], []).append(values["recall_10"])
    expected_r10 = np.mean([np.mean(v) for v in by_lang.values()])
    assert result["settings"][setting]["recall@10"] == pytest.approx(expected_r10, abs=1e-9)


def test_cross_matrix_matches_trec_eval(small_set, embeddings):
    result = score_settings(small_set, *embeddings)
    langs = np.array(small_set.candidate_langs)
    for source, target in [("en", "de"), ("zh", "en"), ("ar", "hi")]:
        queries = [q for q, lang in enumerate(small_set.query_langs) if lang == source]
        pool = list(np.flatnonzero(langs == target))
        pools = [pool if q in queries else [] for q in range(small_set.num_queries)]
        ref = _reference(small_set, *embeddings, pools, ["map", "recall_1"])
        cell = result["settings"]["cross"]["matrix"][source][target]
        assert cell == pytest.approx(np.mean([v["map"] for v in ref.values()]), abs=1e-9)
        r1 = result["settings"]["cross"]["matrix_recall@1"][source][target]
        assert r1 == pytest.approx(np.mean([v["recall_1"] for v in ref.values()]), abs=1e-9)


def test_ndcg_and_mrr_match_ranx(small_set, embeddings):
    q_emb, c_emb = embeddings
    cand_lang = np.zeros(small_set.num_candidates, dtype=int)
    counts = count_above_by_language(q_emb, c_emb, cand_lang, 1, pad_relevant(small_set.relevant))
    ranks = counts.ranks_in_pool(np.ones((small_set.num_queries, 1), dtype=bool))
    n = small_set.num_candidates
    scores = q_emb @ c_emb.T
    qrels = Qrels(
        {f"q{q:05d}": {_doc_id(c, n): 1 for c in rel} for q, rel in enumerate(small_set.relevant)}
    )
    run = Run(
        {
            f"q{q:05d}": {_doc_id(c, n): float(scores[q, c]) for c in range(n)}
            for q in range(len(q_emb))
        }
    )
    expected = evaluate(qrels, run, ["ndcg@10", "mrr", "map"], return_mean=False)
    assert metrics.ndcg_at_k(ranks, 10) == pytest.approx(expected["ndcg@10"], abs=1e-6)
    assert metrics.reciprocal_rank(ranks) == pytest.approx(expected["mrr"], abs=1e-6)
    assert metrics.average_precision(ranks) == pytest.approx(expected["map"], abs=1e-6)


def test_metrics_on_hand_built_ranks():
    ranks = np.array([[1, 3, 0], [2, 0, 0], [0, 0, 0]])
    assert metrics.average_precision(ranks) == pytest.approx([(1 + 2 / 3) / 2, 0.5, 0.0])
    assert metrics.recall_at_k(ranks, 2) == pytest.approx([0.5, 1.0, 0.0])
    assert metrics.reciprocal_rank(ranks) == pytest.approx([1.0, 0.5, 0.0])
    ideal = 1 + 1 / np.log2(3)
    assert metrics.ndcg_at_k(ranks, 10) == pytest.approx(
        [(1 + 1 / np.log2(4)) / ideal, 1 / np.log2(3), 0.0]
    )
    spread = metrics.rank_spread(ranks)
    assert spread[0] == 2 and np.isnan(spread[1]) and np.isnan(spread[2])
