"""The report's one paragraph on how its intervals, p-values and verdicts are computed."""

from __future__ import annotations

from xmir.report.stats.clusters import PARAGRAPHS
from xmir.report.stats.study import FAMILIES, StudyStats


def method_paragraph(stats: StudyStats) -> str:
    """What the intervals rest on: paired seeds, question clusters, t quantiles, Holm."""
    clusters = sorted({(c.dataset, c.clusters, c.cluster_kind) for c in stats.cells})
    where = "; ".join(
        f"{dataset}: {n} {kind}"
        + (
            " (recorded by the evaluation, or read from the very dataset files it used)"
            if kind == PARAGRAPHS
            else " (no paragraph record: each question id alone)"
        )
        for dataset, n, kind in clusters
    )
    return (
        "Every estimate is a function of setting means at the question-id level (AP averaged "
        "over a question's translations, then over question ids and seeds). Seeds are paired: "
        "seed s of every strategy is drawn together, so a statistic uses the seeds all its "
        "strategies share, and a non-linear one (worst-case regret, standing) is linearised at "
        "the means. Its variance has two parts: training noise, the variance over the paired "
        "seeds of the per-seed statistic divided by their number; and question sampling, the "
        f"cluster-robust variance over clusters of question ids ({where}), with the "
        "seed x question part counted once. The 95% interval is estimate ± "
        "sqrt(t²(seeds − 1) · training part + t²(clusters − 1) · question part), each part "
        "scaled by the t quantile of its own degrees of freedom, and the p-value is the level "
        "at which that interval reaches 0. With one seed the training noise is unknown: the "
        "interval covers question sampling only and the verdict is *1 seed: training noise "
        "unknown*. The coverage of these intervals on simulated studies with a known truth "
        "(2, 3 and 5 seeds) is in `docs/coverage.md` (`python -m xmir.report.stats.coverage`). "
        "The primary test is given first with its own p-value; every other p-value is "
        "exploratory and Holm-adjusted within its family: " + "; ".join(FAMILIES) + "."
    )
