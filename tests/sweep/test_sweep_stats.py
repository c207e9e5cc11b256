"""The report's statistics against scipy, numpy and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from xmir.sweep.stats import fdr_adjust, fit_log_linear, paired_test


def test_paired_t_test_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, 200)
    b = np.clip(a - 0.03 + rng.normal(0, 0.1, 200), 0, 1)
    result = paired_test(a, b, n_resamples=2000)
    reference = stats.ttest_rel(a, b)
    assert result.n == 200
    assert result.mean_diff == pytest.approx(np.mean(a - b))
    assert result.t_p == pytest.approx(reference.pvalue)
    diff = a - b
    half = stats.t.ppf(0.975, 199) * diff.std(ddof=1) / np.sqrt(200)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (diff.mean() - half, diff.mean() + half)
    )


def test_randomisation_test_is_exact_for_small_samples() -> None:
    a = np.array([0.9, 0.5, 0.7, 0.2, 0.65, 0.4, 0.8, 0.3])
    b = np.array([0.6, 0.55, 0.4, 0.1, 0.6, 0.45, 0.5, 0.35])
    diff = a - b
    observed = abs(diff.mean())
    flips = [np.mean(diff * np.array(signs)) for signs in itertools.product((1, -1), repeat=8)]
    brute_force = np.mean([abs(f) >= observed - 1e-12 for f in flips])
    assert paired_test(a, b).randomisation_p == pytest.approx(brute_force)


def test_pairs_with_a_missing_side_are_dropped() -> None:
    a = np.array([0.5, np.nan, 0.7, 0.2, 0.9])
    b = np.array([0.4, 0.3, np.nan, 0.1, 0.5])
    result = paired_test(a, b)
    assert result.n == 3
    assert result.t_p == pytest.approx(stats.ttest_rel([0.5, 0.2, 0.9], [0.4, 0.1, 0.5]).pvalue)


def test_identical_inputs_are_not_significant() -> None:
    a = np.array([0.1, 0.2, 0.3])
    result = paired_test(a, a.copy())
    assert result.mean_diff == 0.0
    assert result.randomisation_p == 1.0
    assert result.t_p == 1.0


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


def test_log_linear_fit_and_band_against_least_squares() -> None:
    x = np.array([1e6, 1e6, 2e6, 2e6, 4e6, 4e6, 8e6])
    y = np.array([0.01, 0.015, 0.02, 0.018, 0.03, 0.034, 0.041])
    fit = fit_log_linear(x, y)
    assert fit is not None
    slope, intercept = np.polyfit(np.log10(x), y, 1)
    assert (fit.slope, fit.intercept) == pytest.approx((slope, intercept))
    design = np.column_stack([np.ones_like(x), np.log10(x)])
    residuals = y - design @ np.array([intercept, slope])
    sigma2 = residuals @ residuals / (len(x) - 2)
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    t = stats.t.ppf(0.975, len(x) - 2)
    assert fit.slope_ci == pytest.approx(
        (slope - t * np.sqrt(covariance[1, 1]), slope + t * np.sqrt(covariance[1, 1]))
    )
    probe = np.array([5e5, 3e6, 2e7])
    rows = np.column_stack([np.ones_like(probe), np.log10(probe)])
    half = t * np.sqrt(np.einsum("ij,jk,ik->i", rows, covariance, rows))
    mean, low, high = fit.predict(probe)
    assert mean == pytest.approx(rows @ np.array([intercept, slope]))
    assert low == pytest.approx(mean - half)
    assert high == pytest.approx(mean + half)


def test_no_fit_without_enough_points() -> None:
    assert fit_log_linear(np.array([1e6, 2e6]), np.array([0.1, 0.2])) is None
    assert fit_log_linear(np.array([1e6, 1e6, 1e6]), np.array([0.1, 0.2, 0.3])) is None
