"""The report's PNG figures (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from xmir.report.aggregate import CORPUS_DATASETS, SETTINGS, Group, Summary, dataset_metrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SETTING_TITLES = {
    "mono": "monolingual",
    "cross": "cross-lingual",
    "multi": "multilingual",
    "ndcg@10": "nDCG@10",
    "recall@100": "Recall@100",
}
DATASET_TITLES = {"xquad-r": "XQuAD-R", "mlqa-r": "MLQA-R", "miracl": "MIRACL"}
PARAMS_LABEL = "non-embedding parameters (log scale)"
_FIXED_COLOURS = {"none": "#7f7f7f", "mono": "#1f77b4", "cross": "#ff7f0e"}
_HYBRID_COLOURS = ("#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf")
_BASELINE_COLOURS = {"wavg": "#bcbd22", "ensemble": "#393b79"}  # built from mono and cross


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def colour(label: str, labels: Sequence[str]) -> str:
    """A fixed colour per strategy label (hybrids in alpha order)."""
    if label in _FIXED_COLOURS:
        return _FIXED_COLOURS[label]
    for prefix, shade in _BASELINE_COLOURS.items():
        if label.startswith(prefix):
            return shade
    hybrids = [x for x in labels if x.startswith("hybrid")]
    return _HYBRID_COLOURS[hybrids.index(label) % len(_HYBRID_COLOURS)] if label in hybrids else "k"


def format_params(value: float) -> str:
    """``1.8M``, ``86M``, ``1.2B``."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            scaled = value / scale
            return f"{scaled:.1f}{unit}" if scaled < 10 else f"{scaled:.0f}{unit}"
    return f"{value:.0f}"


def _params_axis(ax: Axes, sizes: Sequence[float]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xscale("log")
    ticks = sorted({s for s in sizes if s > 0})
    if ticks:
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([format_params(t) for t in ticks])
        low, high = min(ticks), max(ticks)
        ax.set_xlim(low / 1.25, high * 1.25)


def display_label(label: str) -> str:
    """How a strategy label reads in figures and tables (``none`` is the untrained encoder)."""
    return "untrained" if label == "none" else label


def _series_label(label: str, batch: int | None, summary: Summary) -> str:
    many_batches = len(summary.batch_sizes()) > 1
    shown = display_label(label)
    return shown if label == "none" or not many_batches else f"{shown} b{batch}"


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    _pyplot().close(fig)
    return path


def _metric_vs_params(
    summary: Summary, metric: str, ax: Axes, dataset: str, labels: Sequence[str]
) -> None:
    for label in summary.labels():
        for batch in [None] if label == "none" else summary.batch_sizes():
            xs, means, stds = [], [], []
            for model in summary.models:
                group = summary.find(model, label, batch)
                cell = summary.cell(group, dataset, metric) if group else None
                if cell is None or not summary.params.get(model):
                    continue
                xs.append(float(summary.params[model]))
                means.append(cell.mean)
                stds.append(cell.std or 0.0)
            if not xs:
                continue
            ax.errorbar(
                xs,
                means,
                yerr=stds,
                label=_series_label(label, batch, summary),
                color=colour(label, labels),
                linestyle="--" if label == "none" else "-",
                marker="o",
                markersize=4,
                capsize=3,
            )
    _params_axis(ax, [float(p) for p in summary.params.values() if p])
    ax.grid(True, alpha=0.3)


def legend_entries(axes: Iterable[Axes]) -> tuple[list[object], list[str]]:
    """Every labelled series of all ``axes``, each name once (so no panel's gap hides one)."""
    found: dict[str, object] = {}
    for ax in axes:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(name, handle)
    return list(found.values()), list(found)


def _legend_below(fig: Figure, axes: Sequence[Axes]) -> None:
    handles, names = legend_entries(axes)
    found = dict(zip(names, handles, strict=True))
    if found:
        # Wrap the legend to the figure's width so that no entry is cut off at the edges.
        columns = min(len(found), 6, max(2, int(fig.get_figwidth() // 1.6)))
        fig.legend(
            list(found.values()),
            list(found),
            loc="outside lower center",
            ncols=columns,
            frameon=False,
        )


def plot_map_vs_params(summary: Summary, path: Path) -> Path:
    """mAP vs non-embedding parameters: one panel per (dataset, setting), one line per strategy."""
    plt = _pyplot()
    rows, labels = summary.datasets, summary.labels()
    fig, grid = plt.subplots(
        len(rows), 3, figsize=(12, 3.4 * len(rows) + 0.8), squeeze=False, layout="constrained"
    )
    for r, dataset in enumerate(rows):
        metrics = dataset_metrics(dataset)
        for c in range(3):
            ax = grid[r][c]
            if c >= len(metrics):
                ax.axis("off")
                continue
            _metric_vs_params(summary, metrics[c], ax, dataset, labels)
            ax.set_title(f"{DATASET_TITLES.get(dataset, dataset)}: {SETTING_TITLES[metrics[c]]}")
            ax.set_xlabel(PARAMS_LABEL)
            unit = "mAP" if metrics == SETTINGS else SETTING_TITLES[metrics[c]]
            ax.set_ylabel(f"{unit} (mean ± std over seeds)")
    _legend_below(fig, grid[0])
    return _save(fig, path)


def plot_rank_distance(summary: Summary, path: Path) -> Path | None:
    """Rank distance (multilingual pool; lower is better) vs parameters, one panel per
    LAReQA dataset."""
    plt = _pyplot()
    labels = summary.labels()
    datasets = [d for d in summary.datasets if d not in CORPUS_DATASETS]
    if not datasets:
        return None
    fig, grid = plt.subplots(
        1,
        len(datasets),
        figsize=(5.5 * len(datasets), 4.4),
        squeeze=False,
        layout="constrained",
    )
    for c, dataset in enumerate(datasets):
        ax = grid[0][c]
        _metric_vs_params(summary, "rank_distance", ax, dataset, labels)
        ax.set_title(f"{DATASET_TITLES.get(dataset, dataset)}: rank distance (lower is better)")
        ax.set_xlabel(PARAMS_LABEL)
        ax.set_ylabel("max − min rank of relevant items")
    _legend_below(fig, grid[0])
    return _save(fig, path)


def plot_cross_heatmaps(summary: Summary, dataset: str, model: str, path: Path) -> Path | None:
    """Cross-lingual mAP per (query language, candidate language) for each strategy of ``model``."""
    plt = _pyplot()
    groups = [g for g in summary.groups(model) if _matrix(summary, g, dataset) is not None]
    if not groups:
        return None
    matrices = {g: _matrix(summary, g, dataset) for g in groups}
    languages = sorted({lang for m in matrices.values() for lang in m[1]})  # type: ignore[index]
    stacked = [_dense(matrices[g], languages) for g in groups]
    vmin, vmax = np.nanmin(stacked), np.nanmax(stacked)
    columns = 2 if len(groups) == 4 else min(3, len(groups))
    rows = -(-len(groups) // columns)
    fig, grid = plt.subplots(
        rows,
        columns,
        figsize=(4.6 * columns + 1.2, 4.3 * rows),
        squeeze=False,
        layout="constrained",
    )
    image = None
    for index, group in enumerate(groups):
        ax = grid[index // columns][index % columns]
        dense = stacked[index]
        image = ax.imshow(dense, vmin=vmin, vmax=vmax, cmap="viridis")
        ax.set_xticks(range(len(languages)), languages, fontsize=8)
        ax.set_yticks(range(len(languages)), languages, fontsize=8)
        ax.set_xlabel("candidate language")
        ax.set_ylabel("query language")
        seeds = len(summary.runs(group))
        ax.set_title(
            f"{_series_label(group.strategy_label, group.batch_size, summary)} ({seeds} seed{'s' * (seeds > 1)})"
        )
        if len(languages) <= 12:
            for i in range(len(languages)):
                for j in range(len(languages)):
                    if np.isfinite(dense[i, j]):
                        shade = "white" if dense[i, j] < (vmin + vmax) / 2 else "black"
                        ax.text(
                            j,
                            i,
                            f"{100 * dense[i, j]:.0f}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color=shade,
                        )
    for index in range(len(groups), rows * columns):
        grid[index // columns][index % columns].axis("off")
    if image is not None:
        fig.colorbar(image, ax=grid, shrink=0.8, label="cross-lingual mAP (cells: ×100)")
    fig.suptitle(
        f"{DATASET_TITLES.get(dataset, dataset)}, {model}: cross-lingual mAP by language pair"
    )
    return _save(fig, path)


def _matrix(
    summary: Summary, group: Group, dataset: str
) -> tuple[dict[tuple[str, str], float], set[str]] | None:
    """Seed-mean cross-lingual matrix of a group as {(query lang, candidate lang): mAP}."""
    sums: dict[tuple[str, str], list[float]] = {}
    for run in summary.runs(group):
        document = run.evals.get(dataset)
        cross = document.settings.get("cross") if document is not None else None
        matrix = cross.matrix if cross is not None else None
        for q_lang, row in (matrix or {}).items():
            for c_lang, value in row.items():
                sums.setdefault((q_lang, c_lang), []).append(float(value))
    if not sums:
        return None
    means = {pair: float(np.mean(values)) for pair, values in sums.items()}
    return means, {lang for pair in means for lang in pair}


def _dense(
    matrix: tuple[dict[tuple[str, str], float], set[str]] | None, languages: list[str]
) -> np.ndarray:
    dense = np.full((len(languages), len(languages)), np.nan)
    assert matrix is not None
    for (q_lang, c_lang), value in matrix[0].items():
        dense[languages.index(q_lang), languages.index(c_lang)] = value
    return dense


def plot_batch_mix(summary: Summary, path: Path) -> Path | None:
    """Per training run: share of monolingual batches (vs its target) and the query-language mix."""
    plt = _pyplot()
    runs = [r for g in summary.groups() for r in summary.runs(g) if r.batch_mix]
    if not runs:
        return None
    mixes = [r.batch_mix for r in runs if r.batch_mix is not None]
    languages = sorted({lang for mix in mixes for lang in mix.query_language_share})
    cmap = plt.get_cmap("tab20b")
    height = 0.32 * len(runs) + 1.8
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, height), sharey=True, layout="constrained")
    ys = np.arange(len(runs))
    mono = np.array([mix.mono_share or 0.0 for mix in mixes])
    left.barh(ys, mono, color=_FIXED_COLOURS["mono"], label="monolingual batches")
    left.barh(ys, 1 - mono, left=mono, color=_FIXED_COLOURS["cross"], label="cross-lingual batches")
    targets = [_target_mono_share(r.strategy, r.alpha) for r in runs]
    left.scatter(targets, ys, marker="|", s=180, color="k", zorder=3, label="target (alpha)")
    left.set_yticks(ys, [r.run_id for r in runs], fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("share of batches")
    left.set_title("batch types (realised)")
    offsets = np.zeros(len(runs))
    for index, lang in enumerate(languages):
        shares = np.array([mix.query_language_share.get(lang, 0.0) for mix in mixes])
        right.barh(ys, shares, left=offsets, color=cmap(index % 20), label=lang)
        offsets += shares
    right.set_xlim(0, 1)
    right.set_xlabel("share of training pairs")
    right.set_title("query languages (realised)")
    for ax, where in ((left, "outside lower left"), (right, "outside lower right")):
        handles, names = ax.get_legend_handles_labels()
        columns = min(len(names), 11 if ax is right else 3)
        fig.legend(handles, names, loc=where, ncols=columns, frameon=False, fontsize=8)
    return _save(fig, path)


def _target_mono_share(strategy: str, alpha: float | None) -> float:
    return {"mono": 1.0, "cross": 0.0}.get(strategy, alpha if alpha is not None else np.nan)
