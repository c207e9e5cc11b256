"""``xmir eval``: zero-shot evaluation of one encoder on one dataset, one result JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from xmir.commands.common import console, parse_languages, user_errors, write_and_print_result
from xmir.data.datasets import CORPUS, POOLED, dataset_names, get_dataset
from xmir.data.holdout import DEFAULT_FRACTION, SPLITS, Holdout
from xmir.errors import XmirError
from xmir.evaluate.corpus_search import SEARCH_METHODS
from xmir.output_guard import check_output_file, is_xmir_result

DatasetChoice = Literal[dataset_names()]  # type: ignore[valid-type]
SearchChoice = Literal[SEARCH_METHODS]  # type: ignore[valid-type]
SplitChoice = Literal[SPLITS]  # type: ignore[valid-type]
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
    from xmir.models.spec import model_label

    stem = f"{dataset}-{model_label(model)}"
    path, number = folder / f"{stem}.json", 2
    while path.exists():
        path, number = folder / f"{stem}-{number}.json", number + 1
    return path


@user_errors
def eval_command(
    model: Annotated[
        str, typer.Option(help="Model spec: e5-small-q4[:layers=K], a local folder or a hub id.")
    ],
    dataset: Annotated[
        DatasetChoice, typer.Option(case_sensitive=False, help="The evaluation set.")
    ],
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder with the dataset files (default: $XMIR_DATA_DIR, else download)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the result JSON here (atomically) [default: "
            "results/DATASET-MODEL.json, numbered when that file exists]"
        ),
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="Comma-separated subset of languages.")
    ] = None,
    max_questions: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="A representative subset of about N question ids: whole paragraphs "
            "sampled with --seed, stratified by article.",
        ),
    ] = None,
    split: Annotated[
        SplitChoice,
        typer.Option(
            case_sensitive=False,
            help=f"{'/'.join(dataset_names(POOLED))}: all, or one side of the held-out "
            "development split (whole articles; dev = what xmir train --holdout leaves out).",
        ),
    ] = "all",
    holdout: Annotated[
        float | None,
        typer.Option(
            help=f"--split: the held-out share of question ids [default: {DEFAULT_FRACTION}]"
        ),
    ] = None,
    holdout_seed: Annotated[
        int | None, typer.Option(min=0, help="--split: seed of the held-out split [default: 0]")
    ] = None,
    query_prefix: Annotated[
        str | None, typer.Option(help="Override the model's query prompt.")
    ] = None,
    passage_prefix: Annotated[
        str | None, typer.Option(help="Override the model's passage prompt.")
    ] = None,
    with_context: Annotated[
        bool,
        typer.Option(show_default=False, help="Append the paragraph to each candidate sentence."),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Encoding batch size.")] = 64,
    max_seq_length: Annotated[
        int | None, typer.Option(min=8, help="Truncate inputs to N tokens.")
    ] = None,
    device: Annotated[str | None, typer.Option(help="torch device, e.g. cpu or cuda:0.")] = None,
    cache: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Reuse embeddings cached for this exact encoder (on by default).",
        ),
    ] = True,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0, help="Seed of the --max-questions sample, or of MIRACL's ANN index [default: 0]"
        ),
    ] = None,
    corpus: Annotated[
        str | None, typer.Option(help="MIRACL corpus folder ({lang} placeholder allowed) or 'hub'.")
    ] = None,
    topics: Annotated[
        str | None, typer.Option(help="MIRACL topics file ({lang} placeholder) or 'hub'.")
    ] = None,
    qrels: Annotated[
        str | None, typer.Option(help="MIRACL qrels file ({lang} placeholder).")
    ] = None,
    search: Annotated[
        SearchChoice | None,
        typer.Option(
            case_sensitive=False,
            help="MIRACL search: exact up to 1M passages, FAISS above [default: auto]",
        ),
    ] = None,
    bm25: Annotated[
        bool | None,
        typer.Option(show_default=False, help="MIRACL: also report BM25 (on by default)."),
    ] = None,
    max_topics: Annotated[
        int | None,
        typer.Option(
            min=1, help="MIRACL: a sample of at most N topics per language, drawn with --seed."
        ),
    ] = None,
    keep_embeddings: Annotated[
        bool,
        typer.Option(
            "--keep-embeddings/--drop-embeddings",
            help="MIRACL: keep the passage embeddings in the cache, or delete them after the "
            "search (a model evaluated once).",
        ),
    ] = True,
) -> None:
    """Evaluate an encoder zero-shot (LAReQA: mono, cross, multi mAP, R@1, R@10, bias;
    MIRACL: nDCG@10 and R@100 per language over the corpus, with BM25 side by side)."""
    from xmir.data.lareqa import load_lareqa
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
    from xmir.models.registry import load_model

    miracl_only = {"--corpus": corpus, "--topics": topics, "--qrels": qrels}
    miracl_only.update({"--search": search, "--bm25/--no-bm25": bm25, "--max-topics": max_topics})
    if get_dataset(dataset).kind == CORPUS:
        from xmir.commands.eval_miracl import run_miracl_eval

        if max_questions is not None or with_context or split != "all":
            raise XmirError(
                "--max-questions, --split and --with-context apply to "
                f"{' and '.join(dataset_names(POOLED))} only"
            )
        out = check_output_path(out, dataset, model)
        return run_miracl_eval(
            model=model, corpus=corpus, languages=parse_languages(languages), topics=topics,
            qrels=qrels, data_dir=data_dir, search=search or "auto", bm25=bm25 is not False,
            out=out, query_prefix=query_prefix, passage_prefix=passage_prefix,
            batch_size=batch_size, max_seq_length=max_seq_length, device=device, cache=cache,
            seed=seed or 0, max_topics=max_topics, keep_embeddings=keep_embeddings,
        )  # fmt: skip
    given = [option for option, value in miracl_only.items() if value is not None]
    if given:
        raise XmirError(f"{', '.join(given)}: MIRACL options; {dataset} has no corpus to search")
    if seed is not None and max_questions is None:
        raise XmirError(
            f"--seed draws the --max-questions sample; on the whole of {dataset} it would do "
            "nothing: add --max-questions N or drop --seed"
        )
    if split == "all" and (holdout is not None or holdout_seed is not None):
        raise XmirError("--holdout and --holdout-seed define a --split; add --split dev or train")
    out = check_output_path(out, dataset, model)
    rset = load_lareqa(
        dataset,
        data_dir,
        parse_languages(languages),
        max_questions=max_questions,
        subset_seed=seed or 0,
        split=split,
        holdout=None
        if split == "all"
        else Holdout(DEFAULT_FRACTION if holdout is None else holdout, holdout_seed or 0),
    )
    console.print(
        f"[bold]{dataset}[/]: {rset.num_queries:,} queries, {rset.num_candidates:,} candidates, "
        f"{len(rset.languages)} languages" + (f" ({rset.subset})" if rset.subset else "")
    )
    loaded = load_model(model, device=device)
    if max_seq_length is not None:
        loaded.model.max_seq_length = max_seq_length
        loaded.max_seq_length = max_seq_length
    console.print(
        f"[bold]{loaded.spec}[/]: {loaded.description} "
        f"({loaded.total_params / 1e6:.1f}M params, {loaded.non_embedding_params / 1e6:.1f}M non-embedding)"
    )
    options = EvalOptions(
        query_prefix=query_prefix,
        passage_prefix=passage_prefix,
        with_context=with_context,
        batch_size=batch_size,
        use_cache=cache,
        seed=seed or 0,
    )
    result = evaluate_lareqa(loaded, rset, options)
    write_and_print_result(result, out, print_lareqa_result)


def print_lareqa_result(result: dict[str, Any]) -> None:
    """Rich tables: the three settings with bias, then one row per language."""
    settings, bias = result["settings"], result["bias"]
    summary = Table(title=f"{result['dataset']['name']} — {result['model']['spec']}")
    for column in ("setting", "mAP", "R@1", "R@10", "queries"):
        summary.add_column(column, justify="right" if column != "setting" else "left")
    for name in ("mono", "cross", "multi"):
        s = settings[name]
        count = s.get("queries", s.get("pairs"))
        label = f"{count} pairs" if name == "cross" else f"{count:,}"
        summary.add_row(
            name, f"{s['map']:.3f}", f"{s['recall@1']:.3f}", f"{s['recall@10']:.3f}", label
        )
    console.print(summary)
    share = bias["own_language_share@10"]
    console.print(
        f"rank distance (multi, lower is better): [bold]{bias['rank_distance']:.1f}[/]   "
        f"own-language share@{share['k']}: [bold]{share['value']:.3f}[/] "
        f"(pool share {share['expected_from_pool']:.3f}, relevant share {share['expected_from_relevant']:.3f})"
    )
    centered = result.get("variants", {}).get("centered")
    if centered:
        console.print(
            f"mean rank correlation: [bold]{bias['mrc']['value']:.3f}[/]   after language "
            f"centering: multi mAP {centered['settings']['multi']['map']:.3f}, rank distance "
            f"{centered['bias']['rank_distance']:.1f}, MRC {centered['bias']['mrc']['value']:.3f}"
        )
    per_language = Table(title="per query language")
    for column in ("lang", "mono mAP", "cross mAP (as query)", "multi mAP", "rank distance"):
        per_language.add_column(column, justify="right" if column != "lang" else "left")
    for lang in result["dataset"]["languages"]:
        mono = settings["mono"]["per_language"].get(lang, {}).get("map")
        row = settings["cross"]["matrix"].get(lang, {})
        multi = settings["multi"]["per_language"].get(lang, {}).get("map")
        distance = bias["rank_distance_per_language"].get(lang)
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
