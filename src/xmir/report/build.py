"""``xmir report``: a sweep folder -> Markdown (+ HTML) report with PNG figures and a CSV.

report/
  report.md, report.html   the self-contained report (the HTML embeds its figures)
  results.csv              one row per (run, dataset): every number the tables use
  figures/*.png
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.io import atomic_write_text
from xmir.models.combined import COMBINE_KINDS
from xmir.report import figures
from xmir.report.aggregate import Summary
from xmir.report.bias_summary import BiasComparison, BiasRow, bias_comparisons, bias_rows
from xmir.report.compute_section import compute_section
from xmir.report.export import write_csv, write_html
from xmir.report.figure_section import batch_mix_section, draw_figures, figure_section
from xmir.report.method import method_paragraph
from xmir.report.narrative import STANDING_NOTE, answer
from xmir.report.protocol_note import protocol_notes
from xmir.report.results import SweepResults, load_results
from xmir.report.stats.comparisons import HYBRID_FAMILY, SYNERGY_FAMILY, UNTRAINED_FAMILY
from xmir.report.stats.study import BUDGET_FAMILY, STANDING_FAMILY, StudyStats, study_stats
from xmir.report.stats.trends import MIN_SIZES, TREND_FAMILY
from xmir.report.study_tables import (
    all_round_table,
    bias_table,
    budget_change_table,
    differences_table,
    frontier_table,
    headline_table,
    md_table,
    standing_table,
    trends_table,
)
from xmir.report.table import MainTable, format_cell, main_table, row_label
from xmir.report.tuning_section import tuning_section


@dataclass(frozen=True)
class Report:
    """What was written, and the pieces the CLI prints."""

    markdown: Path
    html: Path | None
    csv: Path | None
    figures: list[Path]
    table: MainTable | None
    summary: Summary | None
    answer: list[str]
    stats: StudyStats | None = None


def build_report(sweep_dir: Path, out_dir: Path | None = None, *, html: bool = True) -> Report:
    """Read the sweep (or study) in ``sweep_dir`` and write the report into ``out_dir``
    (default DIR/report)."""
    out_dir = Path(out_dir) if out_dir is not None else Path(sweep_dir) / "report"
    tuning = tuning_section(Path(sweep_dir))
    try:
        results = load_results(sweep_dir)
    except XmirError:
        if not tuning:
            raise
        return _tuning_only_report(Path(sweep_dir), out_dir, tuning, html=html)
    main = results.main_budget
    summary = Summary(results.at_budget(main))
    table = main_table(summary)
    stats = study_stats(results)
    biases = bias_rows(results)
    hybrids = sorted(
        {label for c in stats.cells for label in c.labels if label.startswith("hybrid")}
    )
    comparisons = bias_comparisons(biases, hybrids)
    paragraphs = answer(stats, comparisons, main)
    written = draw_figures(results, summary, stats, biases, out_dir / "figures")
    markdown = _markdown(
        results, summary, table, stats, biases, comparisons, written, paragraphs, out_dir
    )
    if tuning:  # after the setup: how each cell's learning rate was chosen
        head, setup_end = markdown.split("## How certain", 1)
        markdown = head + "\n".join(tuning) + "\n## How certain" + setup_end
    md_path = out_dir / "report.md"
    atomic_write_text(md_path, markdown)
    csv_path = write_csv(results, out_dir / "results.csv")
    html_path = write_html(markdown, out_dir, results.name) if html else None
    return Report(
        md_path, html_path, csv_path, list(written.values()), table, summary, paragraphs, stats
    )


def _tuning_only_report(root: Path, out_dir: Path, tuning: list[str], *, html: bool) -> Report:
    """A study whose test runs have not started yet: the tuning section alone."""
    lines = [
        f"# Study report: {root.name}",
        "",
        "No test run has finished yet: this report shows only how the settings are being "
        "chosen on the development split.",
        "",
        *tuning,
        *compute_section(root),
    ]
    markdown = "\n".join(lines)
    md_path = out_dir / "report.md"
    atomic_write_text(md_path, markdown)
    html_path = write_html(markdown, out_dir, root.name) if html else None
    return Report(md_path, html_path, None, [], None, None, [], None)


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
        f"once per budget). Generated by `xmir report` from results finished by "
        f"{_latest_finish(results)}.",
        "",
        "## Setup",
        "",
        *_setup_lines(results, summary),
        "",
    ]
    notes = protocol_notes(spec, results.specs, _trained_settings(results)[0])
    if notes:
        parts += [f"> {note}\n" for note in notes]
    parts += ["## How certain: the interval method", "", method_paragraph(stats), ""]
    parts += _answer_sections(paragraphs, stats, main)
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
    parts += _statistics_sections(stats)
    parts += _section(
        "Language bias, raw and after post-hoc language centering",
        "Own-language share of the top 10 (next to the languages' pool share), rank distance "
        "(lower = less bias) and Mean Rank Correlation (higher = less bias), mean ± seed std; "
        "centred = each language's mean embedding subtracted (queries and candidates "
        "separately, no labels) and renormalised.",
        bias_table(biases),
    )
    parts += ["## Figures", ""]
    parts += figure_section(written, out_dir)
    parts += batch_mix_section(summary)
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
    parts += compute_section(results.root)
    if results.failed or results.unfinished:
        parts += ["## Runs without results", ""]
        parts += [f"- `{run_id}`: failed: {error}" for run_id, error in results.failed.items()]
        parts += [f"- `{run_id}`: not finished" for run_id in results.unfinished]
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _answer_sections(paragraphs: list[str], stats: StudyStats, main: int | None) -> list[str]:
    """The answer's paragraphs, then its headline table (the answer at a glance)."""
    parts = ["## Answer (computed from the tables below)", "", *[p + "\n" for p in paragraphs]]
    return parts + _section(
        f"Headline: worst-case regret per size ({main} steps)",
        "Each compared model's worst-case regret over the mono, cross and multi settings (the "
        "largest gap to the best compared model in a setting; 95% interval over paired seeds "
        "and question clusters, method above; bold: lowest), and hybrid's standing (its worst "
        "regret minus the best other model's) with its Holm p and verdict, from the tables "
        "below.",
        headline_table(stats.all_round, main),
    )


def _statistics_sections(stats: StudyStats) -> list[str]:
    """The tables behind the answer: all-round, standing, budget, differences, synergy, trends."""
    parts: list[str] = []
    parts += _section(
        "All-round standing (the claim: one model good in all three settings)",
        "Per size and budget, among the untrained encoder, mono, cross, the main hybrid and any "
        "baseline at its alpha: the setting means at the question-id level (AP averaged over a "
        "question's translations, then over question ids and the paired seeds), each setting's "
        "regret (the best model's mean minus this one's), the worst-case and mean regret with "
        "95% intervals (method above), the worst relative regret, and Pareto membership. "
        + STANDING_NOTE.capitalize()
        + ".",
        all_round_table(stats.all_round),
    )
    parts += _section(
        "Hybrid's all-round standing by size and budget",
        f"Standing per size (rows) and budget (columns): 95% interval, paired seeds, Holm p "
        f"(family: {STANDING_FAMILY}) and verdict for hybrid (behind: its standing is above 0, "
        "i.e. it is the worse all-rounder; ahead: the better one).",
        standing_table(stats.all_round),
    )
    parts += _section(
        "Budget: paired change of the standing",
        f"Standing at the longest budget minus at the main budget, per size, on the seeds both "
        f"share (the budgets are snapshots of one run, so the seeds pair); Holm family: "
        f"{BUDGET_FAMILY}; verdict for hybrid (behind: the standing rises with the longer "
        "budget, so hybrid falls behind; ahead: it falls).",
        budget_change_table(stats.budget_changes),
    )
    parts += _section(
        "Hybrid against each single strategy (question-id level)",
        f"Difference of setting means (hybrid minus mono or cross) on paired seeds, 95% "
        f"interval, number of paired seeds and question clusters, the share of the variance "
        f"that is training noise, p-value, Holm p (family: {HYBRID_FAMILY}) and verdict.",
        differences_table(stats.differences),
    )
    parts += _section(
        "Against the untrained encoder",
        f"Every trained model minus the untrained encoder of its size, per setting (the "
        f"untrained encoder has no training noise); Holm family: {UNTRAINED_FAMILY}.",
        differences_table(stats.untrained),
    )
    parts += _section(
        "Synergy: hybrid against the mixture of mono and cross, and the baselines",
        f"Per setting, hybrid minus the alpha-weighted mixture alpha x mono + (1 - alpha) x "
        f"cross (the null of no synergy), and minus the weight-average (wavg) and "
        f"score-ensemble (ensemble) models at the same alpha where the study has them; Holm "
        f"family: {SYNERGY_FAMILY}.",
        differences_table(stats.synergies),
    )
    parts += _section(
        "Size trends (per doubling of non-embedding parameters)",
        f"Least-squares slope of the per-size estimate on log2(non-embedding parameters), "
        f"fitted only with at least {MIN_SIZES} sizes and once per distinct series; its "
        f"interval uses the same paired-seed, clustered variance as every other estimate "
        f"(the sizes share seeds and question ids). Holm family: {TREND_FAMILY}. Slopes hold "
        "over the measured range only.",
        trends_table(stats.trends),
    )
    parts += _section(
        "Alpha frontier: setting means",
        "Setting means ± seed std per strategy where mono and cross ran (alpha = share of "
        "monolingual batches); the synergy tests above compare them.",
        frontier_table(stats),
    )
    return parts


def _latest_finish(results: SweepResults) -> str:
    """The day the last run finished (so a rebuilt report is byte-identical)."""
    days = sorted(r.finished[:10] for r in results.runs if r.finished)
    return days[-1] if days else "an unknown date"


def _section(title: str, caption: str, body: str) -> list[str]:
    if not body:
        return []
    return [f"## {title}", "", caption, "", body, ""]


def _setup_lines(results: SweepResults, summary: Summary) -> list[str]:
    specs = results.specs or [results.spec]
    spec = results.spec
    budget = spec.get("budget", {})
    # One run per model describes it: not a combination of two models (weight average or
    # ensemble), whose description names its members.
    describing = [r for r in results.runs if r.strategy not in COMBINE_KINDS]
    models = sorted(
        {r.model: r for r in describing or results.runs}.values(),
        key=lambda r: r.non_embedding_params or 0,
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
        f"{results.main_budget}); {_rates(results, specs, schedule)}, word embeddings "
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


def _trained_settings(results: SweepResults) -> tuple[list[float], list[float]]:
    """The learning rates and the temperatures the trained runs used, sorted."""
    trained = [r for r in results.runs if r.lr is not None]
    lrs = sorted({float(r.lr) for r in trained if r.lr is not None})
    temperatures = sorted({float(r.temperature) for r in trained if r.temperature is not None})
    return lrs, temperatures


def _rates(results: SweepResults, specs: list[dict[str, Any]], schedule: str) -> str:
    """The learning rate(s) and temperature(s) the trained runs used, and where they were
    chosen when a tuned study chose them per size and strategy."""
    lrs, temperatures = _trained_settings(results)
    budget = results.spec.get("budget", {})
    text = (
        f"lr {', '.join(f'{x:g}' for x in lrs) or budget.get('lr')} ({schedule}), temperature "
        f"{', '.join(f'{x:g}' for x in temperatures) or budget.get('temperature')}"
    )
    if any(s.get("tuned_by") for s in specs):
        text += " (both chosen per size and strategy on the development split, see below)"
    return text


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
