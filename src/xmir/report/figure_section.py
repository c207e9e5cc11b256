"""The report's figures: which are drawn, and their section with captions."""

from __future__ import annotations

from pathlib import Path

from xmir.report import figures, study_figures
from xmir.report.aggregate import Summary
from xmir.report.bias_summary import BiasRow
from xmir.report.results import SweepResults
from xmir.report.stats.study import StudyStats
from xmir.report.study_tables import md_table
from xmir.train.record import BatchMix


def draw_figures(
    results: SweepResults,
    summary: Summary,
    stats: StudyStats,
    biases: list[BiasRow],
    folder: Path,
) -> dict[str, Path]:
    main = results.main_budget
    candidates: dict[str, Path | None] = {
        "map": figures.plot_map_vs_params(summary, folder / "map_vs_params.png"),
        "all_round": study_figures.plot_all_round(
            [r for r in stats.all_round if r.cell.steps == main], stats, folder / "all_round.png"
        ),
        "standing": study_figures.plot_standing(
            stats.all_round, folder / "standing_size_budget.png"
        ),
        "frontier": study_figures.plot_frontier(
            [c for c in stats.cells if c.steps == main], stats, folder / "alpha_frontier.png"
        ),
        "bias": study_figures.plot_bias(
            biases, main, stats.hybrid, folder / "bias_raw_vs_centered.png"
        ),
        "rank_distance": figures.plot_rank_distance(
            summary, folder / "rank_distance_vs_params.png"
        ),
    }
    for dataset in summary.datasets:
        candidates[f"steps:{dataset}"] = study_figures.plot_map_vs_steps(
            results, dataset, folder / f"map_vs_steps_{dataset}.png"
        )
        candidates[f"heatmap:{dataset}"] = figures.plot_cross_heatmaps(
            summary, dataset, summary.models[-1], folder / f"cross_heatmap_{dataset}.png"
        )
    candidates["batch_mix"] = figures.plot_batch_mix(summary, folder / "batch_mix.png")
    return {key: path for key, path in candidates.items() if path is not None}


_CAPTIONS = {
    "map": "mAP against non-embedding parameters (log scale) at the main budget, one panel per "
    "dataset and setting; error bars are the std over seeds, the dashed grey line the untrained "
    "encoder.",
    "all_round": "Worst-case regret over the three settings against size at the main budget "
    "(95% intervals over paired seeds and question clusters, as in the method paragraph); "
    "circled: Pareto-optimal; a model best in every setting sits at 0 without a bar (how sure "
    "that is, is the standing's test).",
    "standing": "Hybrid's all-round standing (its worst-case regret minus the best other "
    "model's; below 0 it is the best all-rounder) over size per budget, and over budget per "
    "size, with 95% intervals; filled markers and solid bars: two or more paired seeds; open "
    "markers and dotted bars: one seed (training noise unknown, the interval covers question "
    "sampling only).",
    "frontier": "The alpha frontier per size: mono mAP against multi mAP (seed std bars); the "
    "dashed chord joins cross (alpha 0) and mono (alpha 1). The synergy table tests each "
    "setting against the alpha-weighted mixture.",
    "bias": "Language bias against size for the untrained encoder, mono, cross and the main "
    "hybrid: rank distance, Mean Rank Correlation and own-language share@10 (rows), raw and "
    "after post-hoc language centering (columns); bars: seed std.",
    "rank_distance": "Rank distance (pooled multilingual setting; max − min rank of a query's "
    "relevant items across languages; lower means less language bias) against parameters.",
    "batch_mix": "Realised batch mix of every training run over the steps of the evaluated "
    "(main) budget (from its batches.jsonl): share of monolingual batches against the target, "
    "and the query languages of the training pairs.",
}


def figure_section(written: dict[str, Path], out_dir: Path) -> list[str]:
    parts: list[str] = []
    for key, path in written.items():
        relative = path.relative_to(out_dir).as_posix()
        if key.startswith("steps:"):
            caption = (
                "mAP against training steps per strategy for the sizes with long runs (error "
                "bars: std over seeds where a budget has two or more)."
            )
        elif key.startswith("heatmap:"):
            dataset = key.split(":", 1)[1]
            caption = (
                f"Cross-lingual mAP per (query language, candidate language) on "
                f"{figures.DATASET_TITLES.get(dataset, dataset)} for the largest model, one panel per "
                "strategy (seed means)."
            )
        else:
            caption = _CAPTIONS.get(key, key)
        parts += [f"![{key}]({relative})", "", f"*{caption}*", ""]
    return parts


def batch_mix_section(summary: Summary) -> list[str]:
    runs = [r for g in summary.groups() for r in summary.runs(g) if r.batch_mix]
    if not runs:
        return []
    rows = []
    for run in runs:
        mix = run.batch_mix or BatchMix()
        target = {"mono": "1", "cross": "0"}.get(
            run.strategy, f"{run.alpha:g}" if run.alpha is not None else "?"
        )
        share, same = mix.mono_share, mix.same_language_pair_share
        rows.append(
            [
                run.run_id,
                str(mix.steps),
                str(mix.pairs),
                target,
                "–" if share is None else f"{share:.3f}",
                "–" if same is None else f"{same:.3f}",
            ]
        )
    headers = [
        "run",
        "steps",
        "pairs",
        "target mono share",
        "realised mono share",
        "same-language pairs",
    ]
    return ["## Realised batch mix", "", md_table(headers, rows), ""]
