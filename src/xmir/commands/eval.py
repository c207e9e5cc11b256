"""``xmir eval``: zero-shot evaluation of one encoder on one dataset, one result JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from xmir.commands.common import console, parse_languages, user_errors, write_and_print_result
from xmir.commands.eval_miracl import run_miracl_eval
from xmir.commands.typer_options import options_from, parse_options
from xmir.data.holdout import DEFAULT_FRACTION, Holdout
from xmir.data.lareqa import load_lareqa
from xmir.evaluate.config import EvalConfig
from xmir.evaluate.result import Bias, EvalResult, OwnLanguageShare
from xmir.models.registry import load_model
from xmir.models.spec import model_label
from xmir.output_guard import check_output_file, is_xmir_result

DEFAULT_RESULTS = Path("results")


def check_output_path(out: Path | None, dataset: str, model: str) -> Path:
    """The result file: ``out``, or a new ``results/<dataset>-<model>.json``; fails before any
    work when it could not be written or would replace a file that is not an xmir result."""
    if out is None:
        out = default_output(dataset, model)
        console.print(f"no --out given: the result will be written to {out}", highlight=False)
    return check_output_file(out, owned=is_xmir_result, what="an xmir result")


def default_output(dataset: str, model: str, folder: Path = DEFAULT_RESULTS) -> Path:
    """``results/xquad-r-e5-small-q4-L2.json``, or ``...-2.json`` and on when it exists: a
    result written without --out never replaces an earlier one."""
    stem = f"{dataset}-{model_label(model)}"
    path, number = folder / f"{stem}.json", 2
    while path.exists():
        path, number = folder / f"{stem}-{number}.json", number + 1
    return path


@options_from(EvalConfig)
@user_errors
def eval_command(**values: Any) -> None:
    """Evaluate an encoder zero-shot (LAReQA: mono, cross, multi mAP, R@1, R@10, bias;
    MIRACL: nDCG@10 and R@100 per language over the corpus, with BM25 side by side)."""
    config = parse_eval_options(values)
    out = check_output_path(config.out, config.dataset, config.model)
    if config.is_corpus:
        return run_miracl_eval(config, out)
    # evaluate.lareqa imports torch: not at the top, for a fast xmir --help
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa

    split = config.split
    holdout = Holdout(config.holdout or DEFAULT_FRACTION, config.holdout_seed or 0)
    languages = None if config.languages is None else list(config.languages)
    rset = load_lareqa(
        config.dataset, config.data_dir, languages, max_questions=config.max_questions,
        subset_seed=config.seed or 0, split=split, holdout=None if split == "all" else holdout,
    )  # fmt: skip
    console.print(
        f"[bold]{config.dataset}[/]: {rset.num_queries:,} queries, {rset.num_candidates:,} "
        f"candidates, {len(rset.languages)} languages"
        + (f" ({rset.subset})" if rset.subset else "")
    )
    loaded = load_model(config.model, device=config.device)
    if config.max_seq_length is not None:
        loaded.model.max_seq_length = config.max_seq_length
        loaded.max_seq_length = config.max_seq_length
    console.print(
        f"[bold]{loaded.spec}[/]: {loaded.description} "
        f"({loaded.total_params / 1e6:.1f}M params, {loaded.non_embedding_params / 1e6:.1f}M non-embedding)"
    )
    options = EvalOptions(
        query_prefix=config.query_prefix,
        passage_prefix=config.passage_prefix,
        with_context=config.with_context,
        batch_size=config.batch_size,
        use_cache=config.cache,
        seed=config.seed or 0,
    )
    result = evaluate_lareqa(loaded, rset, options)
    write_and_print_result(result, out, print_lareqa_result)


def parse_eval_options(values: dict[str, Any]) -> EvalConfig:
    """The checked config of ``xmir eval``'s option values (as Typer passes them)."""
    return parse_options(EvalConfig, values, {"languages": parse_languages})


def print_lareqa_result(result: EvalResult) -> None:
    """Rich tables: the three settings with bias, then one row per language."""
    settings, bias = result.settings, result.bias or Bias()
    summary = Table(title=f"{result.dataset.name} — {result.model.spec}")
    for column in ("setting", "mAP", "R@1", "R@10", "queries"):
        summary.add_column(column, justify="right" if column != "setting" else "left")
    for name in ("mono", "cross", "multi"):
        s = settings[name]
        count = s.queries if s.queries is not None else s.pairs
        label = f"{count} pairs" if name == "cross" else f"{count:,}"
        scores = [f"{s.metric(metric):.3f}" for metric in ("map", "recall@1", "recall@10")]
        summary.add_row(name, *scores, label)
    console.print(summary)
    share = bias.own_language_share or OwnLanguageShare()
    console.print(
        f"rank distance (multi, lower is better): [bold]{bias.metric('rank_distance'):.1f}[/]   "
        f"own-language share@{share.k}: [bold]{share.value:.3f}[/] "
        f"(pool share {share.expected_from_pool:.3f}, relevant share {share.expected_from_relevant:.3f})"
    )
    centered = result.variants.get("centered")
    if centered:
        console.print(
            f"mean rank correlation: [bold]{bias.metric('mrc'):.3f}[/]   after language "
            f"centering: multi mAP {centered.metric('multi'):.3f}, rank distance "
            f"{centered.bias_metric('rank_distance'):.1f}, MRC {centered.bias_metric('mrc'):.3f}"
        )
    per_language = Table(title="per query language")
    for column in ("lang", "mono mAP", "cross mAP (as query)", "multi mAP", "rank distance"):
        per_language.add_column(column, justify="right" if column != "lang" else "left")
    for lang in result.dataset.languages:
        mono = settings["mono"].per_language.get(lang, {}).get("map")
        row = (settings["cross"].matrix or {}).get(lang, {})
        multi = settings["multi"].per_language.get(lang, {}).get("map")
        distance = bias.rank_distance_per_language.get(lang)
        per_language.add_row(
            lang,
            _fmt(mono),
            _fmt(sum(row.values()) / len(row) if row else None),
            _fmt(multi),
            "-" if distance is None else f"{distance:.1f}",
        )
    console.print(per_language)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
