"""Statistics of the report: paired tests over queries and the log-linear gap trend (scipy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedTest:
    """Hybrid vs a baseline on the same queries: mean difference (a - b) and two p-values."""

    n: int
    mean_diff: float
    ci_low: float
    ci_high: float
    t_p: float
    randomisation_p: float


def paired_test(
    a: np.ndarray, b: np.ndarray, *, n_resamples: int = 10_000, seed: int = 0
) -> PairedTest:
    """Paired t-test and paired randomisation (sign-flip) test of mean(a - b) = 0.

    Pairs with a NaN on either side are dropped. The randomisation test swaps the two
    labels within each pair at random (``scipy.stats.permutation_test`` with
    ``permutation_type='samples'``; exact when 2**n <= n_resamples); both are two-sided.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n < 2:
        return PairedTest(n, float(np.mean(a - b)) if n else float("nan"), *(float("nan"),) * 4)
    diff = a - b
    t_result = stats.ttest_rel(a, b)
    interval = t_result.confidence_interval(CONFIDENCE)
    if np.all(diff == 0):
        randomisation_p = 1.0
    else:
        randomisation_p = stats.permutation_test(
            (a, b),
            _mean_difference,
            permutation_type="samples",
            vectorized=True,
            n_resamples=n_resamples,
            alternative="two-sided",
            random_state=np.random.default_rng(seed),
            batch=max(1, 2_000_000 // n),
        ).pvalue
    t_p = float(t_result.pvalue) if np.isfinite(t_result.pvalue) else 1.0
    return PairedTest(
        n=n,
        mean_diff=float(diff.mean()),
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        t_p=t_p,
        randomisation_p=float(randomisation_p),
    )


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def fdr_adjust(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), NaN kept as NaN."""
    values = np.asarray(p_values, dtype=float)
    finite = np.isfinite(values)
    adjusted = np.full(values.shape, np.nan)
    if finite.any():
        adjusted[finite] = stats.false_discovery_control(values[finite], method="bh")
    return adjusted.tolist()


@dataclass(frozen=True)
class LogLinearFit:
    """y = intercept + slope * log10(x), fitted by ordinary least squares."""

    slope: float
    intercept: float
    slope_ci: tuple[float, float]
    slope_p: float
    r_squared: float
    n: int
    x_log_mean: float
    x_log_ss: float
    residual_sd: float

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fitted mean and its pointwise confidence band (for the mean, not for new points)."""
        log_x = np.log10(np.asarray(x, dtype=float))
        mean = self.intercept + self.slope * log_x
        t = stats.t.ppf(0.5 + CONFIDENCE / 2, self.n - 2)
        half = (
            t
            * self.residual_sd
            * np.sqrt(1 / self.n + (log_x - self.x_log_mean) ** 2 / self.x_log_ss)
        )
        return mean, mean - half, mean + half


def fit_log_linear(x: np.ndarray, y: np.ndarray) -> LogLinearFit | None:
    """OLS of y on log10(x); None with fewer than 3 points or fewer than 2 distinct x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 3 or np.unique(x).size < 2:
        return None
    log_x = np.log10(x)
    fit = stats.linregress(log_x, y)
    n = int(x.size)
    residuals = y - (fit.intercept + fit.slope * log_x)
    residual_sd = float(np.sqrt(np.sum(residuals**2) / (n - 2)))
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 2)
    return LogLinearFit(
        slope=float(fit.slope),
        intercept=float(fit.intercept),
        slope_ci=(float(fit.slope - t * fit.stderr), float(fit.slope + t * fit.stderr)),
        slope_p=float(fit.pvalue),
        r_squared=float(fit.rvalue**2),
        n=n,
        x_log_mean=float(log_x.mean()),
        x_log_ss=float(np.sum((log_x - log_x.mean()) ** 2)),
        residual_sd=residual_sd,
    )
