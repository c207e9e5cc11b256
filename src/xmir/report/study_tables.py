"""Markdown tables of the answer's statistics (each number the narrative quotes is here)."""

from __future__ import annotations

from xmir.report.aggregate import strategy_order
from xmir.report.bias_summary import BiasCell, BiasRow
from xmir.report.figures import SETTING_TITLES, format_params
from xmir.report.stats.allround import AllRoundCell
from xmir.report.stats.comparisons import Difference, alpha_of
from xmir.report.stats.intervals import Estimate
from xmir.report.stats.study import BudgetChange, StudyStats
from xmir.report.stats.trends import Trend
from xmir.report.verdicts import AHEAD, BEHIND, regret_verdict, verdict

SETTINGS = ("mono", "cross", "multi")
SLOPE_WORDS = {AHEAD: "rises", BEHIND: "falls"}


def md_table(headers: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(headers)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ci(value: Estimate, digits: int = 3) -> str:
    return f"{value.estimate:+.{digits}f} [{value.low:+.{digits}f}, {value.high:+.{digits}f}]"


def p_cell(p: float) -> str:
    return "–" if p != p else f"{p:.3g}"


def share_cell(e: Estimate) -> str:
    return "–" if e.seed_share != e.seed_share else f"{100 * e.seed_share:.0f}%"


BEST_EVERYWHERE = "0 (best in every setting)"


def regret_cell(e: Estimate) -> str:
    """A regret with its 95% interval. A model best in every setting has regret 0, where the
    linearised interval degenerates to [0, 0]: that is said in words, not shown as certainty
    (how sure it is, is the standing's test)."""
    if e.estimate == 0.0 and e.low == e.high:
        return BEST_EVERYWHERE
    return f"{e.estimate:.3f} [{e.low:.3f}, {e.high:.3f}]"


def all_round_table(rounds: list[AllRoundCell]) -> str:
    if not rounds:
        return ""
    rows = []
    for r in sorted(rounds, key=lambda r: (r.cell.dataset, r.cell.steps, r.cell.params)):
        for row in r.rows:
            name = "untrained" if row.label == "none" else row.label
            rows.append(
                [
                    r.cell.dataset,
                    str(r.cell.steps),
                    format_params(r.cell.params),
                    f"**{name}**" if row.label == r.winner else name,
                    str(r.seeds),
                    *(f"{row.means[s]:.3f}" for s in SETTINGS),
                    *(f"{row.regrets[s]:.3f}" for s in SETTINGS),
                    regret_cell(row.worst),
                    regret_cell(row.mean_regret),
                    f"{100 * row.relative_worst:.1f}%",
                    "yes" if row.pareto else "no",
                ]
            )
    headers = [
        "dataset",
        "steps",
        "size",
        "model (bold: lowest worst regret)",
        "paired seeds",
        "mono",
        "cross",
        "multi",
        "regret mono",
        "regret cross",
        "regret multi",
        "worst regret [95%]",
        "mean regret [95%]",
        "worst relative",
        "Pareto",
    ]
    return md_table(headers, rows, ["---"] * 4 + ["---:"] * 10 + ["---"])


def standing_cell(r: AllRoundCell, *, with_seeds: bool) -> str:
    """Hybrid's standing [95%] with (its paired seeds,) Holm p and verdict."""
    assert r.standing is not None
    word = r.standing_verdict
    if not r.standing.noise_known:
        return f"{ci(r.standing)} ({word})"
    seeds = f"{r.seeds} seeds, " if with_seeds else ""
    return f"{ci(r.standing)} ({seeds}Holm p {p_cell(r.adjusted_p)}; {word})"


def standing_table(rounds: list[AllRoundCell]) -> str:
    """Hybrid's standing per size (rows) and budget (columns) with its test and verdict."""
    with_standing = [r for r in rounds if r.standing is not None]
    budgets = sorted({r.cell.steps for r in with_standing})
    if not with_standing:
        return ""
    sizes = sorted({(r.cell.dataset, r.cell.params) for r in with_standing})
    rows = []
    for dataset, params in sizes:
        cells = []
        for steps in budgets:
            match = next(
                (
                    r
                    for r in with_standing
                    if (r.cell.dataset, r.cell.params, r.cell.steps) == (dataset, params, steps)
                ),
                None,
            )
            if match is None or match.standing is None:
                cells.append("–")
                continue
            cells.append(standing_cell(match, with_seeds=True))
        rows.append([dataset, format_params(params), *cells])
    headers = ["dataset", "size", *(f"{b} steps" for b in budgets)]
    return md_table(headers, rows)


def headline_table(rounds: list[AllRoundCell], steps: int | None) -> str:
    """Per size at ``steps``: every compared model's worst-case regret [95%] (bold: lowest)
    and hybrid's standing with its Holm p and verdict: the answer at a glance."""
    at = sorted(
        (r for r in rounds if r.cell.steps == steps and r.standing is not None),
        key=lambda r: (r.cell.dataset, r.cell.params),
    )
    if not at:
        return ""
    labels = sorted({label for r in at for label in r.compared}, key=strategy_order)
    rows = []
    for r in at:
        worst = {row.label: row.worst for row in r.rows}
        cells = []
        for label in labels:
            e = worst.get(label)
            text = "–" if e is None else regret_cell(e)
            cells.append(f"**{text}**" if label == r.winner else text)
        standing = standing_cell(r, with_seeds=False)
        rows.append([r.cell.dataset, format_params(r.cell.params), str(r.seeds), *cells, standing])
    names = ["untrained" if label == "none" else label for label in labels]
    headers = ["dataset", "size", "paired seeds", *names, f"{at[0].hybrid}'s standing"]
    return md_table(headers, rows, ["---", "---", "---:", *["---:"] * len(labels), "---"])


def budget_change_table(changes: list[BudgetChange]) -> str:
    if not changes:
        return ""
    rows = [
        [
            b.dataset,
            format_params(b.params),
            f"{b.long} − {b.short}",
            ci(b.change),
            str(b.change.seeds),
            p_cell(b.change.p) if b.change.noise_known else "–",
            p_cell(b.adjusted_p),
            regret_verdict(verdict(b.change, b.adjusted_p)),
        ]
        for b in changes
    ]
    headers = [
        "dataset",
        "size",
        "steps",
        "change of standing [95%]",
        "paired seeds",
        "p",
        "Holm p",
        "verdict",
    ]
    return md_table(headers, rows, ["---"] * 3 + ["---:"] * 4 + ["---"])


def differences_table(found: list[Difference]) -> str:
    if not found:
        return ""
    rows = [
        [
            d.dataset,
            str(d.steps),
            format_params(d.params),
            SETTING_TITLES[d.setting],
            f"{d.label} − {'untrained' if d.other == 'none' else d.other}",
            ci(d.diff, 4),
            str(d.diff.seeds),
            str(d.diff.clusters),
            share_cell(d.diff),
            p_cell(d.diff.p),
            p_cell(d.adjusted_p),
            d.verdict,
        ]
        for d in sorted(
            found,
            key=lambda d: (
                d.dataset,
                d.steps,
                d.params,
                d.label,
                d.other,
                SETTINGS.index(d.setting),
            ),
        )
    ]
    headers = [
        "dataset",
        "steps",
        "size",
        "setting",
        "difference",
        "Δ mAP [95%]",
        "paired seeds",
        "clusters",
        "training-noise share",
        "p",
        "Holm p",
        "verdict",
    ]
    return md_table(headers, rows, ["---"] * 5 + ["---:"] * 6 + ["---"])


def trends_table(trends: list[Trend]) -> str:
    if not trends:
        return ""
    rows = [
        [
            t.dataset,
            str(t.steps),
            t.quantity,
            str(t.sizes),
            f"{format_params(t.points[0][0])}–{format_params(t.points[-1][0])}",
            ci(t.slope, 4),
            str(t.slope.seeds),
            p_cell(t.slope.p),
            p_cell(t.adjusted_p),
            SLOPE_WORDS.get(t.verdict, t.verdict),
        ]
        for t in trends
    ]
    headers = [
        "dataset",
        "steps",
        "quantity",
        "sizes",
        "range",
        "slope / doubling [95%]",
        "paired seeds",
        "p",
        "Holm p",
        "verdict",
    ]
    return md_table(headers, rows, ["---"] * 5 + ["---:"] * 4 + ["---"])


def frontier_table(stats: StudyStats) -> str:
    """Setting means ± seed std of every strategy where mono and cross ran (synergy's inputs)."""
    rows = []
    for cell in stats.cells:
        if not all(x in cell.series for x in ("mono", "cross")):
            continue
        for label in cell.labels:
            alpha = {"mono": "1", "cross": "0"}.get(label, _alpha(label))
            rows.append(
                [
                    cell.dataset,
                    str(cell.steps),
                    format_params(cell.params),
                    label,
                    alpha,
                    str(cell.seeds(label)),
                    *(_mean_std(cell.mean(label, st), cell.seed_std(label, st)) for st in SETTINGS),
                ]
            )
    if not rows:
        return ""
    headers = ["dataset", "steps", "size", "strategy", "alpha", "seeds", "mono", "cross", "multi"]
    return md_table(headers, rows, ["---"] * 6 + ["---:"] * 3)


def _alpha(label: str) -> str:
    value = alpha_of(label)
    return "–" if value is None else f"{value:g}"


def _mean_std(mean: float, std: float | None) -> str:
    return f"{mean:.3f}" + ("" if std is None else f" ± {std:.3f}")


def _bias(cell: BiasCell, digits: int) -> str:
    if cell.n == 0:
        return "–"
    return f"{cell.mean:.{digits}f}" + ("" if cell.std is None else f" ± {cell.std:.{digits}f}")


def bias_table(rows: list[BiasRow]) -> str:
    if not rows:
        return ""
    body = [
        [
            r.dataset,
            "untrained" if r.label == "none" else str(r.steps),
            format_params(r.params),
            "untrained" if r.label == "none" else r.label,
            f"{_bias(r.raw['own_share@10'], 3)} ({_bias(r.raw['pool_share'], 3)})",
            _bias(r.raw["rank_distance"], 1),
            _bias(r.centered["rank_distance"], 1),
            _bias(r.raw["mrc"], 3),
            _bias(r.centered["mrc"], 3),
            _bias(r.centered["own_share@10"], 3),
        ]
        for r in rows
    ]
    headers = [
        "dataset",
        "steps",
        "size",
        "strategy",
        "own share@10 (pool)",
        "RD",
        "RD centred",
        "MRC",
        "MRC centred",
        "own share@10 centred",
    ]
    return md_table(headers, body, ["---"] * 4 + ["---:"] * 6)
