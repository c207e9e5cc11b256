"""Markdown tables of the answer's statistics (each number the narrative quotes is here)."""

from __future__ import annotations

from xmir.report.bias_summary import BiasCell, BiasRow
from xmir.report.figures import SETTING_TITLES, format_params
from xmir.report.stats.resampling import Interval
from xmir.report.stats.study import AllRoundCell, Difference, StudyStats, Trend

SETTINGS = ("mono", "cross", "multi")


def md_table(headers: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(headers)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ci(value: Interval, digits: int = 3) -> str:
    return f"{value.estimate:+.{digits}f} [{value.low:+.{digits}f}, {value.high:+.{digits}f}]"


def all_round_table(rounds: list[AllRoundCell]) -> str:
    if not rounds:
        return ""
    rows = []
    for r in sorted(rounds, key=lambda r: (r.cell.dataset, r.cell.steps, r.cell.params)):
        for row in r.rows:
            winner = row.label == r.winner
            rows.append(
                [
                    r.cell.dataset,
                    str(r.cell.steps),
                    format_params(r.cell.params),
                    f"**{row.label}**" if winner else row.label,
                    *(f"{row.means[s]:.3f}" for s in SETTINGS),
                    *(f"{row.regrets[s]:.3f}" for s in SETTINGS),
                    f"{row.worst.estimate:.3f} [{row.worst.low:.3f}, {row.worst.high:.3f}]",
                    f"{row.mean_regret.estimate:.3f} [{row.mean_regret.low:.3f}, {row.mean_regret.high:.3f}]",
                    f"{100 * row.relative_worst:.1f}%",
                    "yes" if row.pareto else "no",
                ]
            )
    headers = [
        "dataset",
        "steps",
        "size",
        "strategy (bold: best all-rounder)",
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
    return md_table(headers, rows, ["---"] * 4 + ["---:"] * 9 + ["---"])


def budget_table(rounds: list[AllRoundCell]) -> str:
    with_standing = [r for r in rounds if r.standing is not None]
    budgets = sorted({r.cell.steps for r in with_standing})
    if len(budgets) < 2:
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
            cells.append(
                "–"
                if match is None or match.standing is None
                else f"{ci(match.standing)} ({match.winner})"
            )
        rows.append([dataset, format_params(params), *cells])
    headers = ["dataset", "size", *(f"{b} steps (best all-rounder)" for b in budgets)]
    return md_table(headers, rows)


def differences_table(found: list[Difference]) -> str:
    if not found:
        return ""
    rows = [
        [
            d.dataset,
            str(d.steps),
            format_params(d.params),
            SETTING_TITLES[d.setting],
            f"{d.label} − {d.other}",
            ci(d.diff, 4),
            "–" if d.seed_spread is None else f"{d.seed_spread:.4f}",
            str(d.seeds),
            str(d.qids),
            f"{d.diff.p:.3g}",
            f"{d.t_p:.3g}",
            f"{d.q_value:.3g}",
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
        "seed spread",
        "seeds",
        "question ids",
        "bootstrap p",
        "t-test p",
        "BH q",
        "verdict",
    ]
    return md_table(headers, rows, ["---"] * 5 + ["---:"] * 7 + ["---"])


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
            f"{t.slope:+.4f}",
            f"[{t.low:+.4f}, {t.high:+.4f}]",
            f"{t.p:.3g}",
        ]
        for t in trends
    ]
    headers = ["dataset", "steps", "quantity", "sizes", "range", "slope / doubling", "95% CI", "p"]
    return md_table(headers, rows, ["---"] * 5 + ["---:"] * 3)


def frontier_table(stats: StudyStats) -> str:
    synergy = {(s.dataset, s.model, s.steps, s.label): s for s in stats.synergies}
    rows = []
    for cell in stats.cells:
        if not all(x in cell.matrices for x in ("mono", "cross")):
            continue
        for label in cell.labels:
            alpha = {"mono": "1", "cross": "0"}.get(label, label.removeprefix("hybrid"))
            s = synergy.get((cell.dataset, cell.model, cell.steps, label))
            rows.append(
                [
                    cell.dataset,
                    str(cell.steps),
                    format_params(cell.params),
                    label,
                    alpha,
                    str(cell.seeds(label)),
                    *(_mean_std(cell.mean(label, st), cell.seed_std(label, st)) for st in SETTINGS),
                    "–" if s is None else ci(s.distance),
                ]
            )
    if not rows:
        return ""
    headers = [
        "dataset",
        "steps",
        "size",
        "strategy",
        "alpha",
        "seeds",
        "mono",
        "cross",
        "multi",
        "synergy [95%]",
    ]
    return md_table(headers, rows, ["---"] * 6 + ["---:"] * 4)


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
