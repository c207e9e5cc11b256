"""Mean Rank Correlation against scipy's spearmanr; language centering on hand-built cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import spearmanr

from xmir.data.lareqa import RetrievalSet
from xmir.evaluate.bias import mean_rank_correlation
from xmir.evaluate.centering import center_by_language
from xmir.evaluate.lareqa import centered_scores, score_settings


def _brute_force_mrc(scores: np.ndarray, ids: list[str], langs: list[str]) -> dict[str, float]:
    """Per language pair: mean over ids of spearmanr between the two queries' score rows."""
    per_pair: dict[str, list[float]] = {}
    for i, j in itertools.combinations(range(len(ids)), 2):
        if ids[i] != ids[j]:
            continue
        a, b = sorted((langs[i], langs[j]), key=["en", "de", "th"].index)
        if np.ptp(scores[i]) == 0 or np.ptp(scores[j]) == 0:
            continue  # undefined for a constant ranking (scipy gives NaN): skipped
        rho = spearmanr(scores[i], scores[j]).statistic
        per_pair.setdefault(f"{a}-{b}", []).append(float(rho))
    return {pair: float(np.mean(values)) for pair, values in per_pair.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mrc_matches_spearmanr_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    languages = ["en", "de", "th"]
    ids = [f"q{i}" for i in range(7) for _ in range(3)]
    langs = [lang for _ in range(7) for lang in languages]
    keep = rng.random(len(ids)) > 0.2  # some ids miss a language
    ids = [x for x, k in zip(ids, keep, strict=True) if k]
    langs = [x for x, k in zip(langs, keep, strict=True) if k]
    # Integer-valued embeddings give exact score ties, which spearmanr ranks on average.
    query_emb = rng.integers(-2, 3, size=(len(ids), 4)).astype(np.float32)
    cand_emb = rng.integers(-2, 3, size=(30, 4)).astype(np.float32)
    lang_index = np.array([languages.index(lang) for lang in langs])
    got = mean_rank_correlation(query_emb, cand_emb, ids, lang_index, languages, block_queries=4)
    expected = _brute_force_mrc(query_emb @ cand_emb.T, ids, langs)
    assert got["per_pair"].keys() == expected.keys()
    for pair, value in expected.items():
        assert got["per_pair"][pair] == pytest.approx(value, abs=1e-9)
    assert got["value"] == pytest.approx(np.mean(list(expected.values())), abs=1e-9)


def test_mrc_is_one_for_identical_rankings_and_minus_one_for_reversed() -> None:
    cand = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [-1.0, 0.2]], dtype=np.float32)
    same = np.array([[1.0, 0.1], [2.0, 0.2]], dtype=np.float32)  # one ranking, scaled
    got = mean_rank_correlation(same, cand, ["a", "a"], np.array([0, 1]), ["en", "de"])
    assert got["value"] == pytest.approx(1.0)
    reversed_ = np.array([[1.0, 0.1], [-1.0, -0.1]], dtype=np.float32)
    got = mean_rank_correlation(reversed_, cand, ["a", "a"], np.array([0, 1]), ["en", "de"])
    assert got["value"] == pytest.approx(-1.0)
    assert got["question_ids"] == 1 and set(got["per_pair"]) == {"en-de"}


def test_centering_removes_each_language_mean_and_renormalises() -> None:
    emb = np.array([[3.0, 1.0], [1.0, 1.0], [0.0, 5.0], [0.0, 3.0]], dtype=np.float32)
    langs = np.array(["en", "en", "de", "de"])
    got = center_by_language(emb, langs)
    # en mean (2, 1): rows become (1, 0) and (-1, 0); de mean (0, 4): (0, 1) and (0, -1).
    np.testing.assert_allclose(got, [[1, 0], [-1, 0], [0, 1], [0, -1]], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


def _biased_set() -> tuple[RetrievalSet, np.ndarray, np.ndarray]:
    """Two languages whose embeddings carry a language offset stronger than the content."""
    content = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    offset = {"en": np.array([0, 0, 3.0]), "de": np.array([0, 0, -3.0])}
    rset = RetrievalSet(
        name="toy",
        languages=("en", "de"),
        query_ids=["a", "b", "a", "b"],
        query_langs=["en", "en", "de", "de"],
        query_texts=["qa", "qb", "qa-de", "qb-de"],
        candidate_texts=["ca", "cb", "ca-de", "cb-de"],
        candidate_langs=["en", "en", "de", "de"],
        candidate_contexts=[""] * 4,
        relevant=[[0, 2], [1, 3], [0, 2], [1, 3]],
        gold_own_language=[0, 1, 2, 3],
    )
    rows = [content[i] + offset[lang] for i, lang in [(0, "en"), (1, "en"), (0, "de"), (1, "de")]]
    emb = np.array(rows, dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return rset, emb, emb.copy()


def test_centering_removes_a_pure_language_offset() -> None:
    rset, query_emb, cand_emb = _biased_set()
    raw = score_settings(rset, query_emb, cand_emb)
    centered = centered_scores(rset, query_emb, cand_emb)
    # Raw: the other language's relevant item ranks below the own-language distractor.
    assert raw["bias"]["rank_distance"] == pytest.approx(2.0)
    assert raw["settings"]["multi"]["map"] < 1.0
    # Centred: only content is left, both relevant items come first for every query.
    assert centered["bias"]["rank_distance"] == pytest.approx(1.0)
    assert centered["settings"]["multi"]["map"] == pytest.approx(1.0)
    assert centered["bias"]["mrc"]["value"] == pytest.approx(1.0)
    assert raw["bias"]["mrc"]["value"] < centered["bias"]["mrc"]["value"]
