"""The report's statistics against scipy and brute force: bootstrap over question ids and
seeds, fits per doubling, chord distance, regret, Pareto, verdict words, Benjamini-Hochberg."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from xmir.report.results import RunResult
from xmir.report.stats.multiplicity import fdr_adjust
from xmir.report.stats.resampling import (
    HierarchicalBootstrap,
    QidMatrix,
    interval,
    qid_level_ap,
    resampled_means,
)
from xmir.report.stats.study import Cellwise, all_round, chord_distance, fit_per_doubling
from xmir.report.verdicts import AHEAD, BEHIND, LEVEL, NOISE, movement, pooled_spread, verdict


def _run(per_query: dict[str, list[float | None]], keys: list[str]) -> RunResult:
    return RunResult(
        run_id="r", model="m", model_label="m", strategy="mono", alpha=None, batch_size=8,
        seed=0, total_params=1, non_embedding_params=1, model_description=None,
        evals={"xquad-r": {"per_query": {"keys": keys, **per_query}}}, batch_mix=None, steps=4,
    )  # fmt: skip


def test_question_id_level_ap_averages_the_translations() -> None:
    keys = ["a|en", "a|de", "b|en", "b|de", "c|en"]
    run = _run({"mono_ap": [0.2, 0.4, 1.0, None, 0.5]}, keys)
    assert qid_level_ap(run, "xquad-r", "mono") == pytest.approx({"a": 0.3, "b": 1.0, "c": 0.5})


def test_resampled_means_against_a_brute_force_loop() -> None:
    rng = np.random.default_rng(0)
    values = rng.random((3, 7))
    qid_draws = rng.integers(0, 7, size=(5, 7))
    seed_draws = rng.integers(0, 3, size=(5, 3))
    qid_w = np.array([np.bincount(d, minlength=7) / 7 for d in qid_draws])
    seed_w = np.array([np.bincount(d, minlength=3) / 3 for d in seed_draws])
    expected = [values[seed_draws[b]].mean(axis=0)[qid_draws[b]].mean() for b in range(5)]
    assert resampled_means(values, qid_w, seed_w) == pytest.approx(expected)


def test_bootstrap_over_question_ids_matches_the_standard_error() -> None:
    """One seed: the replicates' spread is the standard error of the mean over question ids."""
    values = np.random.default_rng(1).normal(0.5, 0.2, size=(1, 400))
    boot = HierarchicalBootstrap(400, n_resamples=4000, seed=3)
    reps = boot.replicates("a", QidMatrix((0,), values))
    assert reps.std() == pytest.approx(stats.sem(values[0]), rel=0.08)
    assert reps.mean() == pytest.approx(values.mean(), abs=0.005)


def test_seed_resampling_adds_the_seed_variance() -> None:
    """Two seeds apart by d add about d^2 / 8 of variance (the mean of 2 draws of +-d/2)."""
    base = np.random.default_rng(2).normal(0.5, 0.05, size=400)
    d = 0.04
    values = np.stack([base + d / 2, base - d / 2])
    boot = HierarchicalBootstrap(400, n_resamples=6000, seed=5)
    reps = boot.replicates("a", QidMatrix((0, 1), values))
    expected = stats.sem(base) ** 2 + d**2 / 8
    assert reps.var() == pytest.approx(expected, rel=0.15)


def test_interval_p_value_and_percentiles() -> None:
    reps = np.linspace(-1, 3, 4001)  # a quarter at or below zero
    found = interval(1.0, reps)
    assert (found.low, found.high) == pytest.approx(np.quantile(reps, [0.025, 0.975]))
    assert found.p == pytest.approx(2 * (np.sum(reps <= 0) + 1) / (reps.size + 1))
    assert interval(0.0, np.zeros(100)).p == 1.0
    assert interval(1.0, np.ones(100)).excludes_zero


def test_fit_per_doubling_against_least_squares_on_log2() -> None:
    params = [1.8e6, 3.5e6, 7.2e6, 10.8e6, 21.3e6]
    y = [0.01, -0.002, 0.015, 0.02, 0.03]
    slope, low, high, p = fit_per_doubling(list(zip(params, y, strict=True)))  # type: ignore[misc]
    x = np.log2(params)
    design = np.column_stack([np.ones_like(x), x])
    coef, residual, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert slope == pytest.approx(coef[1])
    sigma2 = residual[0] / (len(y) - 2)  # k - 2 degrees of freedom
    se = np.sqrt(sigma2 / np.sum((x - x.mean()) ** 2))
    t = stats.t.ppf(0.975, len(y) - 2)
    assert (low, high) == pytest.approx((coef[1] - t * se, coef[1] + t * se))
    assert p == pytest.approx(2 * stats.t.sf(abs(coef[1] / se), len(y) - 2))
    assert fit_per_doubling([(1.0, 0.0), (2.0, 1.0)]) is None


def test_chord_distance_is_the_signed_perpendicular_distance() -> None:
    cross, mono = np.array([0.6, 0.3]), np.array([0.7, 0.2])
    assert chord_distance(np.array([0.65, 0.25]), cross, mono) == pytest.approx(0.0)
    above = np.array([0.65, 0.28])
    # Brute force: distance of a point to the line through two points, sign by the y side.
    (x0, y0), (x1, y1), (x2, y2) = above, cross, mono
    distance = abs((y2 - y1) * x0 - (x2 - x1) * y0 + x2 * y1 - y2 * x1) / np.hypot(y2 - y1, x2 - x1)
    assert chord_distance(above, cross, mono) == pytest.approx(distance)
    assert chord_distance(np.array([0.65, 0.2]), cross, mono) < 0
    # Replicated points broadcast.
    batch = chord_distance(np.array([[0.65, 0.25], [0.65, 0.28]]), cross, mono)
    assert batch == pytest.approx([0.0, distance])


def _cell(means: dict[str, dict[str, float]]) -> Cellwise:
    """Question-id matrices whose means are ``means`` (one seed, constant over 50 ids)."""
    matrices = {
        label: {s: QidMatrix((0,), np.full((1, 50), v)) for s, v in by_setting.items()}
        for label, by_setting in means.items()
    }
    return Cellwise("xquad-r", "m", 1e6, 64, [f"q{i}" for i in range(50)], matrices,
                    HierarchicalBootstrap(50, n_resamples=50))  # fmt: skip


def test_regret_and_pareto_on_a_hand_built_cell() -> None:
    cell = _cell(
        {
            "mono": {"mono": 0.70, "cross": 0.40, "multi": 0.20},
            "cross": {"mono": 0.60, "cross": 0.45, "multi": 0.30},
            "hybrid0.5": {"mono": 0.66, "cross": 0.44, "multi": 0.29},
            "hybrid0.25": {"mono": 0.59, "cross": 0.44, "multi": 0.29},  # not compared
        }
    )
    found = all_round(cell, "hybrid0.5")
    assert found is not None and found.compared == ["mono", "cross", "hybrid0.5"]
    rows = {r.label: r for r in found.rows}
    assert rows["mono"].regrets == pytest.approx({"mono": 0.0, "cross": 0.05, "multi": 0.10})
    assert rows["hybrid0.5"].regrets == pytest.approx({"mono": 0.04, "cross": 0.01, "multi": 0.01})
    assert rows["cross"].worst.estimate == pytest.approx(0.10)
    assert rows["hybrid0.5"].worst.estimate == pytest.approx(0.04)
    assert rows["hybrid0.5"].mean_regret.estimate == pytest.approx(0.02)
    assert rows["mono"].relative_worst == pytest.approx(0.10 / 0.30)
    assert found.winner == "hybrid0.5"
    assert found.standing is not None and found.standing.estimate == pytest.approx(0.04 - 0.10)
    # Brute-force Pareto: no other compared strategy at least as good everywhere.
    for label, row in rows.items():
        dominated = any(
            all(rows[o].means[s] >= row.means[s] for s in row.means)
            and any(rows[o].means[s] > row.means[s] for s in row.means)
            for o in rows
            if o != label
        )
        assert row.pareto is not dominated
    assert all(r.pareto for r in rows.values())  # each is best somewhere or in between


def test_verdict_words_follow_the_rules() -> None:
    assert verdict(0.02, 0.001, 0.005) == AHEAD
    assert verdict(-0.02, 0.001, 0.005) == BEHIND
    assert verdict(0.002, 0.001, 0.005) == NOISE  # significant over queries, inside seed noise
    assert verdict(0.02, 0.2, 0.001) == LEVEL
    assert verdict(0.02, float("nan"), None) == LEVEL
    assert verdict(-0.02, 0.01, None) == BEHIND  # no seed spread known: the test decides
    assert pooled_spread(0.003, 0.004) == pytest.approx(np.sqrt((0.003**2 + 0.004**2) / 2))
    assert pooled_spread(None, None) is None
    assert movement(0.01, 0.005, 0.02) == "improves"
    assert movement(0.01, 0.005, 0.02, lower_is_better=True) == "worsens"
    assert movement(0.01, -0.005, 0.02) == "does not move distinguishably"


def test_exact_enumeration_agrees_with_the_bootstrap_on_a_tiny_case() -> None:
    """3 question ids x 2 seeds: the mean and variance of the replicates converge to the
    exact distribution enumerated over every qid draw and seed draw."""
    values = np.array([[0.1, 0.5, 0.9], [0.3, 0.4, 0.8]])
    exact = [
        values[list(s)].mean(axis=0)[list(q)].mean()
        for q in itertools.product(range(3), repeat=3)
        for s in itertools.product(range(2), repeat=2)
    ]
    reps = HierarchicalBootstrap(3, n_resamples=40000, seed=9).replicates(
        "a", QidMatrix((0, 1), values)
    )
    assert reps.mean() == pytest.approx(np.mean(exact), abs=0.003)
    assert reps.var() == pytest.approx(np.var(exact), rel=0.05)


def test_benjamini_hochberg_against_the_definition() -> None:
    p = [0.01, 0.04, 0.03, 0.2, float("nan"), 0.001]
    finite = np.array([0.01, 0.04, 0.03, 0.2, 0.001])
    order = np.argsort(finite)
    m = finite.size
    ranked = finite[order] * m / np.arange(1, m + 1)
    monotone = np.minimum.accumulate(ranked[::-1])[::-1]
    expected = np.empty(m)
    expected[order] = np.minimum(monotone, 1)
    adjusted = fdr_adjust(p)
    assert np.isnan(adjusted[4])
    assert [adjusted[i] for i in (0, 1, 2, 3, 5)] == pytest.approx(expected.tolist())
