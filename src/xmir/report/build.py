"""``xmir report``: a sweep folder -> Markdown (+ HTML) report with PNG figures and a CSV.

report/
  report.md, report.html   the self-contained report (the HTML embeds its figures)
  results.csv              one row per (run, dataset): every number the tables use
  figures/*.png
"""

from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from xmir.io import atomic_write_text
from xmir.provenance import utc_now
from xmir.report import figures, study_figures
from xmir.report.aggregate import METRICS, Summary
from xmir.report.bias_summary import BiasComparison, BiasRow, bias_comparisons, bias_rows
from xmir.report.narrative import STANDING_NOTE, answer
from xmir.report.protocol_note import protocol_notes
from xmir.report.results import SweepResults, load_results
from xmir.report.stats.study import StudyStats, study_stats
from xmir.report.study_tables import (
    all_round_table,
    bias_table,
    budget_table,
    differences_table,
    frontier_table,
    md_table,
    trends_table,
)
from xmir.report.table import MainTable, format_cell, main_table, row_label


@dataclass(frozen=True)
class Report:
    """What was written, and the pieces the CLI prints."""

    markdown: Path
    html: Path | None
    csv: Path
    figures: list[Path]
    table: MainTable
    summary: Summary
    answer: list[str]
    stats: StudyStats | None = None


def build_report(
    sweep_dir: Path, out_dir: Path | None = None, *, html: bool = True, n_resamples: int = 2000
) -> Report:
    """Read the sweep (or study) in ``sweep_dir`` and write the report into ``out_dir``
    (default DIR/report)."""
    results = load_results(sweep_dir)
    out_dir = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "report"
    main = results.main_budget
    summary = Summary(results.at_budget(main))
    table = main_table(summary)
    stats = study_stats(results, n_resamples=n_resamples)
    biases = bias_rows(results)
    hybrids = sorted(
        {label for c in stats.cells for label in c.matrices if label.startswith("hybrid")}
    )
    comparisons = bias_comparisons(biases, hybrids)
    paragraphs = answer(stats, comparisons, main)
    written = _figures(results, summary, stats, biases, out_dir / "figures")
    markdown = _markdown(
        results, summary, table, stats, biases, comparisons, written, paragraphs, out_dir
    )
    md_path = out_dir / "report.md"
    atomic_write_text(md_path, markdown)
    csv_path = _write_csv(results, out_dir / "results.csv")
    html_path = _write_html(markdown, out_dir, results.name) if html else None
    return Report(
        md_path, html_path, csv_path, list(written.values()), table, summary, paragraphs, stats
    )


def _figures(
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
        "bias": study_figures.plot_bias(biases, main, folder / "bias_raw_vs_centered.png"),
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


def _markdown(
    results: SweepResults,
    summary: Summary,
    table: MainTable,
    stats: StudyStats,
    biases: list[BiasRow],
    comparisons: list[BiasComparison],
    written: dict[str, Path],
    paragraphs: list[str],
    out_dir: Path,
) -> str:
    spec = results.spec
    main = results.main_budget
    planned = (
        len({(r.sweep, r.run_id) for r in results.runs})
        + len(results.failed)
        + len(results.unfinished)
    )
    finished = len({(r.sweep, r.run_id) for r in results.runs})
    parts = [f"# Study report: {results.name}", ""]
    for one in results.specs or [spec]:
        if one.get("description"):
            parts += [f"- **{one.get('name')}**: {str(one['description']).strip()}"]
    parts += [
        "",
        f"{finished} of {planned} planned runs finished"
        + (f", {len(results.failed)} failed" if results.failed else "")
        + (f", {len(results.unfinished)} not run yet" if results.unfinished else "")
        + f"; {len(results.runs)} evaluated models (a run evaluated at several budgets counts "
        f"once per budget). Generated by `xmir report` on {utc_now()[:10]}.",
        "",
        "## Setup",
        "",
        *_setup_lines(results, summary),
        "",
    ]
    notes = protocol_notes(spec, results.specs)
    if notes:
        parts += [f"> {note}\n" for note in notes]
    parts += ["## Answer (computed from the tables below)", "", *[p + "\n" for p in paragraphs]]
    parts += [
        f"## Table 1: mAP per model size and strategy ({main} steps)",
        "",
        "Mean ± sample std over seeds (untrained: the encoder before fine-tuning, evaluated once). "
        "Bold: best in its column within one model size (highest mAP; lowest rank distance, RD).",
        "",
        _table_markdown(table, summary),
        "",
    ]
    for steps in [b for b in results.budgets if b != main]:
        other = Summary(results.at_budget(steps))
        parts += [
            f"### Table 1 at {steps} steps",
            "",
            _table_markdown(main_table(other), other),
            "",
        ]
    parts += _section(
        "All-round standing (the claim: one model good in all three settings)",
        "Per size and budget, among mono, cross and the main hybrid: the setting means at the "
        "question-id level (AP averaged over a question's translations, then over question ids "
        "and seeds), each setting's regret (the best strategy's mean minus this one's), the "
        "worst-case and mean regret with 95% intervals from a hierarchical bootstrap over "
        "question ids and seeds, the worst relative regret, and Pareto membership. "
        + STANDING_NOTE.capitalize()
        + ".",
        all_round_table(stats.all_round),
    )
    parts += _section(
        "Size x budget: hybrid's all-round standing",
        "Standing per size (rows) and budget (columns) with its 95% interval; budgets above "
        "the main one come from snapshots of single-seed long runs.",
        budget_table(stats.all_round),
    )
    parts += _section(
        "Hybrid against each single strategy (question-id level)",
        "Difference of setting means (hybrid minus mono or cross), 95% interval and p-value of a "
        "hierarchical bootstrap over question ids and seeds (2,000 replicates), a paired t-test "
        "on seed-averaged question-id AP as a classical check, Benjamini-Hochberg q over every "
        "row, the seed-to-seed spread (root mean square of the two strategies' seed stds; a "
        "single-seed budget takes the spread measured for the same comparison at another "
        "budget), and the verdict.",
        differences_table(stats.differences),
    )
    parts += _section(
        "Size trends (per doubling of non-embedding parameters)",
        "OLS of the per-size means on log2(non-embedding parameters), so the degrees of freedom "
        "are sizes - 2; slopes hold over the measured range only.",
        trends_table(stats.trends),
    )
    parts += _section(
        "Alpha frontier: synergy or mixture",
        "Setting means ± seed std per strategy; synergy = signed distance above the chord from "
        "cross (alpha 0) to mono (alpha 1) in (mono mAP, multi mAP), with its 95% interval.",
        frontier_table(stats),
    )
    parts += _section(
        "Language bias, raw and after post-hoc language centering",
        "Own-language share of the top 10 (next to the languages' pool share), rank distance "
        "(lower = less bias) and Mean Rank Correlation (higher = less bias), mean ± seed std; "
        "centred = each language's mean embedding subtracted (queries and candidates "
        "separately, no labels) and renormalised.",
        bias_table(biases),
    )
    parts += ["## Figures", ""]
    parts += _figure_section(written, out_dir)
    parts += _batch_mix_section(summary)
    if results.duplicates:
        gaps = [
            d["max_abs_map_difference"]
            for d in results.duplicates
            if d["max_abs_map_difference"] is not None
        ]
        parts += [
            "## Reproducibility check",
            "",
            f"{len(results.duplicates)} evaluated model(s) were produced twice by different "
            f"sweeps of the study; the largest mAP difference between the copies is "
            f"{max(gaps) if gaps else float('nan'):.2g}.",
            "",
        ]
    if results.failed or results.unfinished:
        parts += ["## Runs without results", ""]
        parts += [f"- `{run_id}`: failed: {error}" for run_id, error in results.failed.items()]
        parts += [f"- `{run_id}`: not finished" for run_id in results.unfinished]
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _section(title: str, caption: str, body: str) -> list[str]:
    if not body:
        return []
    return [f"## {title}", "", caption, "", body, ""]


def _setup_lines(results: SweepResults, summary: Summary) -> list[str]:
    specs = results.specs or [results.spec]
    spec = results.spec
    budget = spec.get("budget", {})
    models = sorted(
        {r.model: r for r in results.runs}.values(), key=lambda r: r.non_embedding_params or 0
    )
    lines = ["Models (smallest first):", ""]
    for run in models:
        description = re.sub(r", fine-tuned \([^)]*\)$", "", run.model_description or "")
        lines.append(
            f"- `{run.model}`: {description or 'no description'}; "
            f"{_params(run.total_params)} parameters, {_params(run.non_embedding_params)} non-embedding"
        )
    evals = ", ".join(
        figures.DATASET_TITLES.get(e["dataset"], e["dataset"])
        + (
            f" (a sample of about {e['max_questions']} question ids, seed {e.get('subset_seed', 0)})"
            if e.get("max_questions")
            else " (full)"
        )
        for e in spec.get("eval", [])
    )
    labels = sorted({r.strategy_label for r in results.runs if not r.is_baseline})
    seeds = sorted({r.seed for r in results.runs if r.seed is not None})
    batches = sorted({r.batch_size for r in results.runs if r.batch_size is not None})
    schedule = (
        f"{budget.get('warmup_steps')} warmup steps then a constant rate"
        if budget.get("lr_schedule") == "constant"
        else "linear warmup and decay"
    )
    lines += [
        "",
        f"- Training data: `{spec.get('train_data')}`; strategies: {', '.join(labels)}",
        f"- Batch sizes: {', '.join(map(str, batches))}; seeds: {', '.join(map(str, seeds))}",
        f"- Budgets evaluated: {', '.join(map(str, results.budgets))} steps (main: "
        f"{results.main_budget}); lr {budget.get('lr')} ({schedule}), temperature "
        f"{budget.get('temperature')}, word embeddings "
        f"{'frozen' if budget.get('freeze_embeddings') else 'trained'}"
        + (
            f", Adam beta2 rescaled to batch size (reference {budget['beta2_reference_batch']})"
            if budget.get("beta2_reference_batch")
            else ""
        ),
        f"- Evaluation (LAReQA protocol, mAP over the full ranking): {evals}",
        f"- Sweeps of this study: {', '.join(str(s.get('name')) for s in specs)}",
    ]
    return lines


def _params(value: int | None) -> str:
    return figures.format_params(value) if value else "?"


def _table_markdown(table: MainTable, summary: Summary) -> str:
    many = len(summary.batch_sizes()) > 1
    headers = ["model", "strategy", "seeds", *table.headers()]
    rows, previous = [], None
    for row in table.rows:
        cells = [
            f"**{format_cell(cell, metric)}**" if best else format_cell(cell, metric)
            for cell, best, (_, metric) in zip(row.cells, row.best, table.columns, strict=True)
        ]
        rows.append(
            [row.size if row.size != previous else "", row_label(row, many), str(row.seeds), *cells]
        )
        previous = row.size
    return md_table(headers, rows, ["---", "---", "---:"] + ["---:"] * len(table.columns))


_CAPTIONS = {
    "map": "mAP against non-embedding parameters (log scale) at the main budget, one panel per "
    "dataset and setting; error bars are the std over seeds, the dashed grey line the untrained "
    "encoder.",
    "all_round": "Worst-case regret over the three settings (95% interval, hierarchical "
    "bootstrap over question ids and seeds) against size; circled: Pareto-optimal.",
    "standing": "Hybrid's all-round standing (its worst-case regret minus the best other "
    "strategy's; below 0 it is the best all-rounder) over size per budget, and over budget per "
    "size.",
    "frontier": "The alpha frontier per size: mono mAP against multi mAP (seed std bars); the "
    "dashed chord joins cross (alpha 0) and mono (alpha 1). Points above it show synergy.",
    "bias": "Language bias against size, raw (solid) and after post-hoc language centering "
    "(dashed): rank distance, Mean Rank Correlation and own-language share@10.",
    "rank_distance": "Rank distance (pooled multilingual setting; max − min rank of a query's "
    "relevant items across languages; lower means less language bias) against parameters.",
    "batch_mix": "Realised batch mix of every training run (from its batches.jsonl): share of "
    "monolingual batches against the target, and the query languages of the training pairs.",
}


def _figure_section(written: dict[str, Path], out_dir: Path) -> list[str]:
    parts: list[str] = []
    for key, path in written.items():
        relative = path.relative_to(out_dir).as_posix()
        if key.startswith("steps:"):
            caption = "mAP against training steps per strategy for the sizes with long runs."
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


def _batch_mix_section(summary: Summary) -> list[str]:
    runs = [r for g in summary.groups() for r in summary.runs(g) if r.batch_mix]
    if not runs:
        return []
    rows = []
    for run in runs:
        mix = run.batch_mix or {}
        target = {"mono": "1", "cross": "0"}.get(
            run.strategy, f"{run.alpha:g}" if run.alpha is not None else "?"
        )
        share = mix.get("mono_share")
        rows.append(
            [
                run.run_id,
                str(mix.get("steps")),
                str(mix.get("pairs")),
                target,
                "–" if share is None else f"{share:.3f}",
                "–"
                if mix.get("same_language_pair_share") is None
                else f"{mix['same_language_pair_share']:.3f}",
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


def _write_csv(results: SweepResults, path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "run_id",
            "model",
            "total_params",
            "non_embedding_params",
            "strategy",
            "alpha",
            "batch_size",
            "seed",
            "steps",
            "sweep",
            "dataset",
            *METRICS,
        ]
    )
    for run in results.runs:
        for dataset, document in run.evals.items():
            writer.writerow(
                [
                    run.run_id,
                    run.model,
                    run.total_params,
                    run.non_embedding_params,
                    run.strategy,
                    "" if run.alpha is None else run.alpha,
                    "" if run.batch_size is None else run.batch_size,
                    "" if run.seed is None else run.seed,
                    run.steps,
                    run.sweep,
                    dataset,
                    *(f"{read(document):.6f}" for read in METRICS.values()),
                ]
            )
    atomic_write_text(path, buffer.getvalue())
    return path


def _write_html(markdown: str, out_dir: Path, title: str) -> Path:
    """The Markdown rendered by markdown-it (tables on), figures embedded as data URIs."""
    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def embed(match: re.Match[str]) -> str:
        source = out_dir / match.group(1)
        if not source.is_file():
            return match.group(0)
        data = base64.b64encode(source.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', embed, body)
    page = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n{body}</body></html>\n"
    )
    path = out_dir / "report.html"
    atomic_write_text(path, page)
    return path


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;"
    "line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px}th{background:#f3f3f3}img{max-width:100%}"
    "blockquote{border-left:4px solid #e0a000;margin:1em 0;padding:0.2em 1em;background:#fffbea}"
)
