"""Figures of the answer: all-round regret, the alpha frontier, size x budget, bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xmir.report.aggregate import strategy_order
from xmir.report.bias_summary import BiasRow
from xmir.report.figures import (
    PARAMS_LABEL,
    SETTING_TITLES,
    _params_axis,
    _pyplot,
    _save,
    colour,
    display_label,
    format_params,
)
from xmir.report.results import SweepResults
from xmir.report.stats.study import AllRoundCell, Cellwise, StudyStats


def _labels(stats: StudyStats) -> list[str]:
    return sorted({label for c in stats.cells for label in c.matrices}, key=strategy_order)


def plot_all_round(rounds: list[AllRoundCell], stats: StudyStats, path: Path) -> Path | None:
    """Worst-case regret (95% interval) against size, one line per strategy."""
    if not rounds:
        return None
    plt = _pyplot()
    labels = _labels(stats)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label in rounds[0].compared:
        pts = sorted((r.cell.params, row) for r in rounds for row in r.rows if row.label == label)
        if not pts:
            continue
        x = np.array([p for p, _ in pts])
        y = np.array([row.worst.estimate for _, row in pts])
        err = np.array(
            [
                [row.worst.estimate - row.worst.low for _, row in pts],
                [row.worst.high - row.worst.estimate for _, row in pts],
            ]
        )
        ax.errorbar(
            x,
            y,
            yerr=np.maximum(err, 0),
            marker="o",
            capsize=3,
            label=label,
            color=colour(label, labels),
        )
        pareto = [(p, row.worst.estimate) for p, row in pts if row.pareto]
        if pareto:
            ax.scatter(
                *zip(*pareto, strict=True),
                s=110,
                facecolors="none",
                edgecolors=colour(label, labels),
            )
    _params_axis(ax, [r.cell.params for r in rounds])
    ax.set_xlabel(PARAMS_LABEL)
    ax.set_ylabel("worst-case regret over settings (mAP)")
    ax.set_title(f"All-round standing at {rounds[0].cell.steps} steps (circled: Pareto-optimal)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_frontier(cells: list[Cellwise], stats: StudyStats, path: Path) -> Path | None:
    """Per size: mono mAP against multi mAP of every strategy (seed std bars) and the chord
    from cross to mono."""
    cells = [c for c in cells if "mono" in c.matrices and "cross" in c.matrices]
    if not cells:
        return None
    plt = _pyplot()
    labels = _labels(stats)
    cols = min(3, len(cells))
    rows = int(np.ceil(len(cells) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax, cell in zip(axes.ravel(), cells, strict=False):
        ends = [(cell.mean(s, "mono"), cell.mean(s, "multi")) for s in ("cross", "mono")]
        ax.plot(*zip(*ends, strict=True), color="grey", linestyle="--", linewidth=1, label="chord")
        for label in cell.labels:
            x, y = cell.mean(label, "mono"), cell.mean(label, "multi")
            xerr, yerr = cell.seed_std(label, "mono") or 0.0, cell.seed_std(label, "multi") or 0.0
            ax.errorbar(
                x,
                y,
                xerr=xerr,
                yerr=yerr,
                marker="o",
                capsize=3,
                color=colour(label, labels),
                label=label,
            )
        ax.set_title(f"{format_params(cell.params)}, {cell.steps} steps", fontsize=9)
        ax.set_xlabel("mono mAP", fontsize=8)
        ax.set_ylabel("multi mAP", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(cells) :]:
        ax.axis("off")
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(6, len(names)), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _save(fig, path)


def plot_standing(rounds: list[AllRoundCell], path: Path) -> Path | None:
    """Hybrid's all-round standing over size (one line per budget) and over budget (one line
    per size), with 95% intervals."""
    rounds = [r for r in rounds if r.standing is not None]
    if not rounds:
        return None
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    budgets = sorted({r.cell.steps for r in rounds})
    cmap = plt.get_cmap("viridis")
    for i, steps in enumerate(budgets):
        pts = sorted(
            (r.cell.params, r.standing) for r in rounds if r.cell.steps == steps and r.standing
        )
        x = [p for p, _ in pts]
        y = [s.estimate for _, s in pts]
        err = [[s.estimate - s.low for _, s in pts], [s.high - s.estimate for _, s in pts]]
        left.errorbar(
            x,
            y,
            yerr=np.maximum(err, 0),
            marker="o",
            capsize=3,
            label=f"{steps} steps",
            color=cmap(i / max(1, len(budgets) - 1)),
        )
    _params_axis(left, [r.cell.params for r in rounds])
    left.axhline(0, color="k", linewidth=0.8)
    left.set_xlabel(PARAMS_LABEL)
    left.set_ylabel("hybrid's standing (< 0: best all-rounder)")
    left.legend(fontsize=8)
    models = sorted({(r.cell.params, r.cell.model) for r in rounds})
    for i, (params, model) in enumerate(models):
        pts = sorted(
            (r.cell.steps, r.standing) for r in rounds if r.cell.model == model and r.standing
        )
        if len(pts) < 2:
            continue
        right.errorbar(
            [s for s, _ in pts],
            [v.estimate for _, v in pts],
            yerr=np.maximum(
                [[v.estimate - v.low for _, v in pts], [v.high - v.estimate for _, v in pts]], 0
            ),
            marker="o",
            capsize=3,
            label=format_params(params),
            color=cmap(i / max(1, len(models) - 1)),
        )
    right.set_xscale("log", base=2)
    right.axhline(0, color="k", linewidth=0.8)
    right.set_xlabel("training steps (log2)")
    if right.get_legend_handles_labels()[0]:
        right.legend(fontsize=8, title="size")
    fig.suptitle("Hybrid's all-round standing over size and budget")
    fig.tight_layout()
    return _save(fig, path)


def plot_map_vs_steps(results: SweepResults, dataset: str, path: Path) -> Path | None:
    """mAP against training steps per strategy, one row per size with several budgets."""
    steps_of: dict[str, set[int]] = {}
    for run in results.runs:
        if not run.is_baseline and dataset in run.evals:
            steps_of.setdefault(run.model, set()).add(run.steps)
    models = sorted(
        (m for m, s in steps_of.items() if len(s) > 1),
        key=lambda m: next(r.non_embedding_params or 0 for r in results.runs if r.model == m),
    )
    if not models:
        return None
    plt = _pyplot()
    labels = sorted(
        {r.strategy_label for r in results.runs if not r.is_baseline}, key=strategy_order
    )
    fig, axes = plt.subplots(len(models), 3, figsize=(11, 2.8 * len(models)), squeeze=False)
    for row, model in enumerate(models):
        for col, setting in enumerate(("mono", "cross", "multi")):
            ax = axes[row][col]
            for label in labels:
                pts: dict[int, list[float]] = {}
                for r in results.runs:
                    if r.model == model and r.strategy_label == label and dataset in r.evals:
                        pts.setdefault(r.steps, []).append(
                            r.evals[dataset]["settings"][setting]["map"]
                        )
                if len(pts) > 1:
                    xs = sorted(pts)
                    ax.plot(
                        xs,
                        [np.mean(pts[x]) for x in xs],
                        marker="o",
                        label=label,
                        color=colour(label, labels),
                    )
            ax.set_xscale("log", base=2)
            size = format_params(
                next(r.non_embedding_params or 0 for r in results.runs if r.model == model)
            )
            ax.set_title(f"{size}: {SETTING_TITLES[setting]}", fontsize=9)
            ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("training steps (log2)", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_bias(rows: list[BiasRow], steps: int | None, path: Path) -> Path | None:
    """Rank distance and Mean Rank Correlation against size, raw (solid) and centred (dashed)."""
    chosen = [r for r in rows if r.steps in (steps, 0)]
    if not chosen:
        return None
    plt = _pyplot()
    labels = sorted({r.label for r in chosen}, key=strategy_order)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for label in labels:
        mine = sorted((r for r in chosen if r.label == label), key=lambda r: r.params)
        x = [r.params for r in mine]
        for ax, metric in zip(axes, ("rank_distance", "mrc", "own_share@10"), strict=True):
            c = colour(label, labels)
            name = display_label(label)
            ax.plot(x, [r.raw[metric].mean for r in mine], marker="o", color=c, label=name)
            ax.plot(
                x,
                [r.centered[metric].mean for r in mine],
                marker="x",
                linestyle="--",
                color=c,
                label=f"{name} centred",
            )
    for ax, title in zip(
        axes,
        (
            "rank distance (lower = less bias)",
            "Mean Rank Correlation (higher = less bias)",
            "own-language share@10",
        ),
        strict=True,
    ):
        _params_axis(ax, [r.params for r in chosen])
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(PARAMS_LABEL, fontsize=8)
    pool = [r.raw["pool_share"].mean for r in chosen if not np.isnan(r.raw["pool_share"].mean)]
    if pool:
        axes[2].axhline(
            float(np.mean(pool)), color="k", linewidth=0.8, linestyle=":", label="pool share"
        )
    handles, names = axes[2].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(6, len(names)), fontsize=7)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return _save(fig, path)
