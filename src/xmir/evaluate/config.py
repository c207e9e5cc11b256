"""Every option of ``xmir eval``, declared once: its Typer options, their help and checks, and
the eval command lines a sweep builds all come from :class:`EvalConfig`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from xmir.data.datasets import CORPUS, POOLED, dataset_names, get_dataset
from xmir.data.holdout import DEFAULT_FRACTION, SPLITS
from xmir.evaluate.corpus_search import SEARCH_METHODS
from xmir.options import Cli, OptionsModel, option_name

_LAREQA = " and ".join(dataset_names(POOLED))
_MIRACL_ONLY = ("corpus", "topics", "qrels", "search", "bm25", "max_topics")


class EvalConfig(OptionsModel):
    """One zero-shot evaluation: each field is an ``xmir eval`` option (``xmir eval --help``).

    None means "not given": the evaluation picks the default its help names, and an option
    that would do nothing for the chosen dataset is refused.
    """

    model: Annotated[
        str, Field(description="Model spec: e5-small-q4[:layers=K], a local folder or a hub id.")
    ]
    dataset: Annotated[
        Literal[dataset_names()],  # type: ignore[valid-type]
        Field(description="The evaluation set."),
    ]
    data_dir: Annotated[
        Path | None,
        Field(
            description="Folder with the dataset files (default: $XMIR_DATA_DIR, else download)."
        ),
    ] = None
    out: Annotated[
        Path | None,
        Field(
            description="Write the result JSON here (atomically) [default: "
            "results/DATASET-MODEL.json, numbered when that file exists]"
        ),
    ] = None
    languages: Annotated[
        tuple[str, ...] | None,
        Field(description="Comma-separated subset of languages."),
        Cli(cli_type=str),  # ar,de on the command line: xmir eval splits it
    ] = None
    max_questions: Annotated[
        int | None,
        Field(
            ge=1,
            description="A representative subset of about N question ids: whole paragraphs "
            "sampled with --seed, stratified by article.",
        ),
    ] = None
    split: Annotated[
        Literal[SPLITS],  # type: ignore[valid-type]
        Field(
            description=f"{'/'.join(dataset_names(POOLED))}: all, or one side of the held-out "
            "development split (whole articles; dev = what xmir train --holdout leaves out).",
        ),
    ] = "all"
    holdout: Annotated[
        float | None,
        Field(
            gt=0,
            lt=1,
            description=f"--split: the held-out share of question ids [default: {DEFAULT_FRACTION}]",
        ),
    ] = None
    holdout_seed: Annotated[
        int | None, Field(ge=0, description="--split: seed of the held-out split [default: 0]")
    ] = None
    query_prefix: Annotated[
        str | None,
        Field(description="Override the model's query prompt."),
    ] = None
    passage_prefix: Annotated[
        str | None, Field(description="Override the model's passage prompt.")
    ] = None
    with_context: Annotated[
        bool, Field(description="Append the paragraph to each candidate sentence.")
    ] = False
    batch_size: Annotated[int, Field(ge=1, description="Encoding batch size.")] = 64
    max_seq_length: Annotated[
        int | None, Field(ge=8, description="Truncate inputs to N tokens.")
    ] = None
    device: Annotated[str | None, Field(description="torch device, e.g. cpu or cuda:0.")] = None
    cache: Annotated[
        bool, Field(description="Reuse embeddings cached for this exact encoder (on by default).")
    ] = True
    seed: Annotated[
        int | None,
        Field(
            ge=0,
            description="Seed of the --max-questions sample, or of MIRACL's ANN index [default: 0]",
        ),
    ] = None
    corpus: Annotated[
        str | None,
        Field(description="MIRACL corpus folder ({lang} placeholder allowed) or 'hub'."),
    ] = None
    topics: Annotated[
        str | None, Field(description="MIRACL topics file ({lang} placeholder) or 'hub'.")
    ] = None
    qrels: Annotated[
        str | None,
        Field(description="MIRACL qrels file ({lang} placeholder)."),
    ] = None
    search: Annotated[
        Literal[SEARCH_METHODS] | None,  # type: ignore[valid-type]
        Field(description="MIRACL search: exact up to 1M passages, FAISS above [default: auto]"),
    ] = None
    bm25: Annotated[
        bool | None,
        Field(description="MIRACL: also report BM25 (on by default)."),
    ] = None
    max_topics: Annotated[
        int | None,
        Field(
            ge=1,
            description="MIRACL: a sample of at most N topics per language, drawn with --seed.",
        ),
    ] = None
    keep_embeddings: Annotated[
        bool,
        Field(
            description="MIRACL: keep the passage embeddings in the cache, or delete them after "
            "the search (a model evaluated once)."
        ),
        Cli(option="--keep-embeddings/--drop-embeddings", show_default=True),
    ] = True

    @property
    def is_corpus(self) -> bool:
        """True for a corpus dataset (MIRACL), False for a LAReQA pool."""
        return get_dataset(self.dataset).kind == CORPUS

    @model_validator(mode="after")
    def _check_together(self) -> EvalConfig:
        """Refuse an option that the chosen dataset would silently ignore."""
        if self.is_corpus:
            if self.max_questions is not None or self.with_context or self.split != "all":
                raise ValueError(
                    f"--max-questions, --split and --with-context apply to {_LAREQA} only"
                )
            if self.corpus is None:
                raise ValueError("--dataset miracl needs --corpus: a MIRACL corpus folder or 'hub'")
            return self
        given = [option_name(EvalConfig, n) for n in _MIRACL_ONLY if getattr(self, n) is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)}: MIRACL options; {self.dataset} has no corpus to search"
            )
        if self.seed is not None and self.max_questions is None:
            raise ValueError(
                f"--seed draws the --max-questions sample; on the whole of {self.dataset} it "
                "would do nothing: add --max-questions N or drop --seed"
            )
        if self.split == "all" and (self.holdout is not None or self.holdout_seed is not None):
            raise ValueError(
                "--holdout and --holdout-seed define a --split; add --split dev or train"
            )
        return self
