"""The MIRACL branch of ``xmir eval``: load the model, call :func:`evaluate_miracl`, print."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from xmir.commands.common import console, write_and_print_result
from xmir.data.miracl import check_languages
from xmir.evaluate.config import EvalConfig
from xmir.evaluate.corpus_search import choose_method
from xmir.models.registry import load_model

if TYPE_CHECKING:
    from xmir.evaluate.result import EvalResult, SettingMetrics


def run_miracl_eval(config: EvalConfig, out: Path) -> None:
    """Evaluate ``config.model`` on MIRACL dev and print one row per language (dense and
    BM25) and write the result to ``out``."""
    # evaluate.miracl imports torch: not at the top, for a fast xmir --help
    from xmir.evaluate.miracl import MiraclOptions, evaluate_miracl

    languages = None if config.languages is None else list(config.languages)
    search = config.search or "auto"
    check_languages(languages)
    choose_method(0, search)  # an unknown method fails before the model loads
    loaded = load_model(config.model, device=config.device)
    if config.max_seq_length is not None:
        loaded.model.max_seq_length = config.max_seq_length
        loaded.max_seq_length = config.max_seq_length
    assert config.corpus is not None  # EvalConfig requires it for MIRACL
    options = MiraclOptions(
        corpus=config.corpus,
        languages=tuple(languages) if languages else None,
        topics=config.topics,
        qrels=config.qrels,
        data_dir=config.data_dir,
        search=search,
        bm25=config.bm25 is not False,
        query_prefix=config.query_prefix,
        passage_prefix=config.passage_prefix,
        batch_size=config.batch_size,
        use_cache=config.cache,
        seed=config.seed or 0,
        max_topics=config.max_topics,
        keep_embeddings=config.keep_embeddings,
    )
    result = evaluate_miracl(loaded, options)
    write_and_print_result(result, out, print_miracl_result)


def print_miracl_result(result: EvalResult) -> None:
    """One row per language and the mean (dense and BM25 nDCG@10 / Recall@100), then counts."""
    mono = result.settings["mono"]
    bm25 = result.bm25.settings.get("mono") if result.bm25 is not None else None
    table = Table(title=f"MIRACL dev — {result.model.spec}")
    columns = ["lang", "queries", "nDCG@10", "R@100"]
    columns += ["BM25 nDCG@10", "BM25 R@100"] if bm25 else []
    for column in columns:
        table.add_column(column, justify="left" if column == "lang" else "right", no_wrap=True)
    for lang in result.dataset.languages:
        table.add_row(lang, *_cells(mono.per_language[lang], bm25 and bm25.per_language[lang]))
    table.add_row("mean", *_cells(_means(mono), bm25 and _means(bm25)), style="bold")
    console.print(table)
    sample = result.dataset.extra("topic_sample")
    if sample:
        console.print(
            f"topic sample: at most {sample['max_topics']} topics per language "
            f"(seed {sample['seed']})"
        )
    counts_of = result.counts or {}
    search = result.search or {}
    for lang, counts in counts_of.items():
        console.print(
            f"{lang}: {counts['corpus_passages']:,} passages, "
            f"{counts['relevant_missing_from_corpus']:,} of {counts['relevant_judgements']:,} "
            f"judged-relevant missing from the corpus, search {search[lang].extra('method')}"
        )
    skipped = {
        name: sum(c[name] for c in counts_of.values())
        for name in (
            "topics_without_judgements",
            "judgements_without_topic",
            "topics_without_relevant",
        )
    }
    if any(skipped.values()):
        console.print(
            "skipped: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in skipped.items())
        )


Scores = Mapping[str, "int | float | None"]


def _means(setting: SettingMetrics) -> Scores:
    return {"queries": setting.queries, **{m: setting.metric(m) for m in ("ndcg@10", "recall@100")}}


def _cells(dense: Scores, lexical: Scores | None) -> list[str]:
    cells = [f"{dense['queries']:,}", f"{dense['ndcg@10']:.3f}", f"{dense['recall@100']:.3f}"]
    if lexical:
        cells += [f"{lexical['ndcg@10']:.3f}", f"{lexical['recall@100']:.3f}"]
    return cells
