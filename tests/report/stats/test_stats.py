"""Known answers for the report's statistics: question-id AP, variance parts over paired seeds
and question clusters, t intervals and their p-values, Holm, regret and Pareto, pairing, the
slope weights and the verdict words."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xmir.evaluate.result import EvalResult
from xmir.report.results import RunResult
from xmir.report.stats.allround import all_round, standing_of
from xmir.report.stats.cells import (
    UNTRAINED,
    Cellwise,
    Series,
    Term,
    gradient,
    qid_level_ap,
    statistic,
)
from xmir.report.stats.clusters import PARAGRAPHS, QUESTION_IDS, cluster_map
from xmir.report.stats.comparisons import against_untrained, differences, synergies
from xmir.report.stats.intervals import Estimate, estimate_of, one_hot, t_interval, variance_parts
from xmir.report.stats.multiplicity import holm_adjust
from xmir.report.stats.trends import slope_weights
from xmir.report.verdicts import AHEAD, BEHIND, LEVEL, ONE_SEED, movement, pooled_spread, verdict

SETTINGS = ("mono", "cross", "multi")


def _run(per_query: dict[str, list[float | None]]) -> RunResult:
    evals = {"xquad-r": EvalResult.from_dict({"per_query": per_query})}
    return RunResult("r", "m", "m", "mono", None, 16, 0, 1, 1, None, evals, None)


def test_question_id_level_ap_averages_the_translations() -> None:
    run = _run({"keys": ["q1|de", "q1|en", "q2|de", "q2|en"], "mono_ap": [0.2, 0.4, None, 1.0]})
    assert qid_level_ap(run, "xquad-r", "mono") == pytest.approx({"q1": 0.3, "q2": 1.0})


def test_one_seed_question_variance_is_the_cluster_sandwich_by_brute_force() -> None:
    rng = np.random.default_rng(1)
    codes = np.repeat(np.arange(12), rng.integers(2, 6, 12))
    z = rng.normal(0, 1, (1, codes.size)) + rng.normal(0, 1, 12)[codes]
    membership, n_c = one_hot(codes)
    v_seed, v_question = variance_parts(z, membership)
    assert np.isnan(v_seed)
    mean = z.mean()
    totals = [np.sum(z[0, codes == c] - mean) for c in range(n_c)]
    assert v_question == pytest.approx(n_c / (n_c - 1) * np.sum(np.square(totals)) / codes.size**2)


def test_question_variance_matches_a_cluster_bootstrap() -> None:
    """Equal clusters: the sandwich variance of the mean equals what resampling whole
    clusters gives (up to the C / (C - 1) factor)."""
    rng = np.random.default_rng(2)
    codes = np.repeat(np.arange(40), 5)
    z = (rng.normal(0, 1, 40)[codes] + rng.normal(0, 0.5, 200))[None, :]
    membership, _ = one_hot(codes)
    _, v_question = variance_parts(z, membership)
    clusters = z[0].reshape(40, 5).mean(axis=1)
    draws = rng.integers(0, 40, (20000, 40))
    boot = clusters[draws].mean(axis=1).var()
    assert v_question == pytest.approx(boot * 40 / 39, rel=0.05)


def test_seed_effects_alone_give_the_one_sample_t_interval() -> None:
    """A statistic constant over question ids within a seed is a t test over seeds: the
    interval and p-value equal scipy's one-sample t."""
    per_seed = np.array([0.012, 0.004, 0.020])
    z = np.repeat(per_seed[:, None], 30, axis=1)
    found = estimate_of(float(per_seed.mean()), z, one_hot(np.arange(30) // 3)[0])
    expected = stats.ttest_1samp(per_seed, 0.0)
    low, high = expected.confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((low, high))
    assert found.p == pytest.approx(expected.pvalue, abs=1e-6)
    assert found.seeds == 3 and found.seed_share == pytest.approx(1.0)


def test_p_value_is_below_005_exactly_when_the_interval_excludes_zero() -> None:
    rng = np.random.default_rng(3)
    estimate = rng.normal(0, 0.02, 400)
    v_seed, v_question = rng.uniform(0, 1e-4, 400), rng.uniform(0, 1e-4, 400)
    low, high, p, _ = t_interval(estimate, v_seed, v_question, 2, 59)
    excludes = (low > 0) | (high < 0)
    assert np.array_equal(p < 0.05, excludes)


def test_seed_x_question_noise_is_counted_once() -> None:
    """Only seed x question noise: the question part (net of it) is ~0 and the training part
    carries it, so the total is the true variance of the mean (a little above it on average:
    the question part is clipped at 0, never negative)."""
    rng = np.random.default_rng(4)
    z = rng.normal(0, 1, (4000, 3, 60))
    membership, _ = one_hot(np.arange(60) // 3)
    v_seed, v_question = variance_parts(z, membership)
    true = 1.0 / (3 * 60)
    assert true * 0.98 <= np.mean(v_seed + v_question) <= true * 1.2
    assert np.mean(v_seed) == pytest.approx(true, rel=0.05)
    assert np.mean(v_question) < 0.25 * true


def test_holm_against_the_definition() -> None:
    adjusted = holm_adjust([0.01, 0.04, 0.03, float("nan"), 0.005])
    assert np.isnan(adjusted[3])
    assert [adjusted[i] for i in (0, 1, 2, 4)] == pytest.approx([0.03, 0.06, 0.06, 0.02])


def _cell(values: dict[str, np.ndarray], seeds: dict[str, tuple[int | None, ...]]) -> Cellwise:
    """A cell from (seeds, settings, questions) arrays per label, 40 ids in 8 paragraphs."""
    series = {
        label: Series(seeds[label], {s: v[:, k, :] for k, s in enumerate(SETTINGS)})
        for label, v in values.items()
    }
    membership, _ = one_hot(np.arange(40) // 5)
    qids = [f"q{i}" for i in range(40)]
    return Cellwise("xquad-r", "m", 1e6, 64, qids, membership, QUESTION_IDS, series)


def _constant(means: dict[str, tuple[float, float, float]]) -> Cellwise:
    values = {label: np.tile(np.array(m)[None, :, None], (1, 1, 40)) for label, m in means.items()}
    seeds = {label: (None,) if label == UNTRAINED else (0,) for label in means}
    return _cell(values, seeds)


def test_regret_pareto_and_standing_on_a_hand_built_cell() -> None:
    cell = _constant(
        {
            "none": (0.50, 0.20, 0.10),
            "mono": (0.70, 0.40, 0.20),
            "cross": (0.60, 0.45, 0.30),
            "hybrid0.5": (0.66, 0.44, 0.29),
            "hybrid0.25": (0.59, 0.44, 0.29),  # not compared
        }
    )
    found = all_round(cell, "hybrid0.5")
    assert found is not None and found.compared == ["none", "mono", "cross", "hybrid0.5"]
    rows = {r.label: r for r in found.rows}
    assert rows["mono"].regrets == pytest.approx({"mono": 0.0, "cross": 0.05, "multi": 0.10})
    assert rows["hybrid0.5"].regrets == pytest.approx({"mono": 0.04, "cross": 0.01, "multi": 0.01})
    assert rows["cross"].worst.estimate == pytest.approx(0.10)
    assert rows["hybrid0.5"].mean_regret.estimate == pytest.approx(0.02)
    assert found.winner == "hybrid0.5"
    assert found.standing is not None and found.standing.estimate == pytest.approx(0.04 - 0.10)
    assert not found.standing.noise_known  # one seed: no training noise measured
    assert rows["none"].pareto is False and rows["mono"].pareto is True


def test_the_standing_gradient_picks_the_binding_settings() -> None:
    means = np.array([[0.70, 0.40, 0.22], [0.60, 0.45, 0.30], [0.66, 0.44, 0.29]])
    weights = gradient(standing_of(2), means)
    # hybrid's worst regret is in mono: mono[mono] - hybrid[mono]; the best other is mono
    # (worst regret 0.08, in multi): minus (cross[multi] - mono[multi]).
    expected = np.zeros((3, 3))
    expected[0, 0], expected[2, 0] = 1.0, -1.0
    expected[1, 2], expected[0, 2] = -1.0, 1.0
    assert weights == pytest.approx(expected, abs=1e-6)


def test_paired_seeds_cancel_a_shared_seed_effect() -> None:
    """Seed s moves both strategies by the same large amount: the paired difference has no
    training noise left, and a known +0.02 lead is found with a tight interval."""
    rng = np.random.default_rng(5)
    shared = np.array([0.0, 0.1, -0.1])[:, None, None]
    noise = rng.normal(0, 0.01, (3, 3, 40))
    base = 0.5 + shared + rng.normal(0, 0.1, (1, 1, 40))
    cell = _cell(
        {
            "mono": base + noise,
            "cross": base + noise[::-1] + 0.01,
            "hybrid0.5": base + noise + 0.02,
        },
        {"mono": (0, 1, 2), "cross": (0, 1, 2), "hybrid0.5": (0, 1, 2)},
    )
    found = {(d.other, d.setting): d for d in differences([cell])}
    d = found[("mono", "mono")]
    assert d.diff.estimate == pytest.approx(0.02)
    assert d.diff.high - d.diff.low < 0.005 and d.verdict == AHEAD


def test_a_common_seed_is_required_and_one_seed_has_no_verdict() -> None:
    values = np.full((1, 3, 40), 0.5)
    cell = _cell(
        {"mono": values, "cross": values + 0.1, "hybrid0.5": values + 0.2},
        {"mono": (0,), "cross": (1,), "hybrid0.5": (0,)},
    )
    assert statistic([Term(cell, ("mono", "cross"), lambda m: m[..., 0, 0] - m[..., 1, 0])]) is None
    found = [d for d in differences([cell]) if d.other == "mono"]
    assert found and all(d.verdict == ONE_SEED and d.seeds == 1 for d in found)


def test_untrained_and_synergy_differences() -> None:
    cell = _constant(
        {
            "none": (0.80, 0.50, 0.40),
            "mono": (0.70, 0.40, 0.20),
            "cross": (0.60, 0.45, 0.30),
            "hybrid0.5": (0.66, 0.44, 0.29),
            "wavg0.5": (0.64, 0.43, 0.26),
        }
    )
    below = {(d.label, d.setting): d.diff.estimate for d in against_untrained([cell])}
    assert below[("mono", "mono")] == pytest.approx(-0.10)
    syn = {(d.other, d.setting): d.diff.estimate for d in synergies([cell])}
    assert syn[("mixture", "mono")] == pytest.approx(0.66 - 0.65)
    assert syn[("mixture", "multi")] == pytest.approx(0.29 - 0.25)
    assert syn[("wavg0.5", "cross")] == pytest.approx(0.01)
    assert ("ensemble0.5", "cross") not in syn  # absent baseline: no row
    found = all_round(cell, "hybrid0.5")
    assert found is not None and found.compared == ["none", "mono", "cross", "hybrid0.5", "wavg0.5"]


def test_slope_weights_are_least_squares_on_log2() -> None:
    params = [1e6, 2e6, 4e6, 1.2e7]
    y = np.array([0.1, 0.15, 0.13, 0.3])
    assert float(slope_weights(params) @ y) == pytest.approx(np.polyfit(np.log2(params), y, 1)[0])


def test_verdict_words_follow_the_rules() -> None:
    def e(value: float, seeds: int) -> Estimate:
        return Estimate(value, value - 0.01, value + 0.01, 0.001, 0.005, seeds, 50, 0.8)

    assert verdict(e(0.02, 2), 0.01) == AHEAD
    assert verdict(e(-0.02, 3), 0.01) == BEHIND
    assert verdict(e(0.02, 2), 0.2) == LEVEL
    assert verdict(e(0.02, 1), 0.001) == ONE_SEED
    assert pooled_spread(0.003, 0.004) == pytest.approx(np.sqrt((0.003**2 + 0.004**2) / 2))
    assert pooled_spread(None, None) is None
    assert movement(AHEAD) == "improves"
    assert movement(AHEAD, lower_is_better=True) == "worsens"
    assert movement(LEVEL) == "does not move distinguishably"


def test_clusters_come_from_the_record_else_each_question_id_alone() -> None:
    keys = ["q1|de", "q1|en", "q2|de", "q3|de"]
    recorded = {"per_query": {"keys": keys, "paragraphs": ["p0", "p0", "p0", "p1"]}}
    assert cluster_map(EvalResult.from_dict(recorded)) == (
        {"q1": "p0", "q2": "p0", "q3": "p1"},
        PARAGRAPHS,
    )
    unknown = {"per_query": {"keys": keys}, "dataset": {"name": "elsewhere"}}
    assert cluster_map(EvalResult.from_dict(unknown)) == (
        {"q1": "q1", "q2": "q2", "q3": "q3"},
        QUESTION_IDS,
    )
