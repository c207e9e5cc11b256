"""The dataset registry: every named dataset xmir evaluates on or trains with, in one place.

An entry says what kind of retrieval the dataset is (LAReQA's pooled retrieval, where every
answer sentence of every language is a candidate, or retrieval over a passage corpus), how to
read it, its languages, licence and published size (which the cost estimate uses without
reading any data), whether it can be training data, and where it comes from (the upstream
pins of :mod:`xmir.data.sources`, or a version). The CLI choices, the sweep spec's dataset
fields, the licence records and the cost model all read this registry, so a new dataset is
one entry here plus its reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from xmir.data.lareqa import load_lareqa
from xmir.data.miracl import (
    MIRACL_HUB_DATASET,
    MIRACL_LANGUAGES,
    MIRACL_NAME,
    MIRACL_VERSION,
    load_judgements,
)
from xmir.data.sources import LAREQA_SOURCES, LareqaSource
from xmir.errors import XmirError

DatasetKind = Literal["pooled", "corpus"]
POOLED: DatasetKind = "pooled"  # LAReQA: queries against one pool of answer sentences
CORPUS: DatasetKind = "corpus"  # topics against a passage corpus, with relevance judgements

# Reads the dataset's evaluation side from a folder (None: $XMIR_DATA_DIR, else download)
# for some of its languages (None: all).
Reader = Callable[[Path | None, list[str] | None], object]


@dataclass(frozen=True)
class PooledSize:
    """Published size of a pooled (LAReQA) dataset over all its languages."""

    question_ids: int  # questions, each asked in every language
    queries: int  # question ids x their languages
    candidates: int  # answer sentences in the pool


@dataclass(frozen=True)
class CorpusSize:
    """Published size of a corpus dataset, per language."""

    passages: Mapping[str, int]  # passages of each language's corpus
    topics: Mapping[str, int]  # evaluated (dev) topics of each language


@dataclass(frozen=True)
class DatasetEntry:
    """One named dataset: what it is, how to read it, and what may be done with it."""

    name: str
    title: str  # as papers spell it: "XQuAD-R"
    kind: DatasetKind
    reader: Reader
    languages: tuple[str, ...]
    license: str  # as the Hugging Face hub names licences ("cc-by-nc-4.0")
    license_terms: str  # what the licence asks of the user, in a few words
    size: PooledSize | CorpusSize
    trains: bool  # can be --train-data (as parallel pairs)
    revision: str  # upstream commit or published version
    source: LareqaSource | None = None  # download pins (LAReQA), see xmir.data.sources


def _read_miracl(data_dir: Path | None, languages: list[str] | None) -> object:
    """MIRACL's dev topics and judgements of each language, from ``data_dir`` or the hub."""
    return {
        lang: load_judgements(lang, data_dir=data_dir) for lang in languages or MIRACL_LANGUAGES
    }


def _lareqa_entry(
    name: str, title: str, question_ids: int, license_terms: str, license: str
) -> DatasetEntry:
    """A LAReQA entry: languages, counts and revision from its download pins."""
    source = LAREQA_SOURCES[name]
    return DatasetEntry(
        name=name,
        title=title,
        kind=POOLED,
        reader=partial(load_lareqa, name),
        languages=source.languages,
        license=license,
        license_terms=license_terms,
        size=PooledSize(question_ids, source.expected_queries, source.expected_candidates),
        trains=True,
        revision=source.commit,
        source=source,
    )


# Published sizes of MIRACL, used only to estimate costs before a run: passages of each v1.0
# corpus (MIRACL paper and repository README) and dev topics (all judged, from the dev topic
# files).
_MIRACL_PASSAGES: dict[str, int] = {
    "ar": 2_061_414, "bn": 297_265, "de": 15_866_222, "en": 32_893_221, "es": 10_373_953,
    "fa": 2_207_172, "fi": 1_883_509, "fr": 14_636_953, "hi": 506_264, "id": 1_446_315,
    "ja": 6_953_614, "ko": 1_486_752, "ru": 9_543_918, "sw": 131_924, "te": 518_079,
    "th": 542_166, "yo": 49_043, "zh": 4_934_368,
}  # fmt: skip
_MIRACL_DEV_TOPICS: dict[str, int] = {
    "ar": 2896, "bn": 411, "de": 305, "en": 799, "es": 648, "fa": 632, "fi": 1271, "fr": 343,
    "hi": 350, "id": 960, "ja": 860, "ko": 213, "ru": 1252, "sw": 482, "te": 828, "th": 733,
    "yo": 119, "zh": 393,
}  # fmt: skip

DATASETS: dict[str, DatasetEntry] = {
    entry.name: entry
    for entry in [
        _lareqa_entry(
            "xquad-r",
            "XQuAD-R",
            1190,
            "XQuAD-R (LAReQA): CC BY-SA 4.0, attribution and share-alike",
            "cc-by-sa-4.0",
        ),
        _lareqa_entry(
            "mlqa-r",
            "MLQA-R",
            1148,
            "MLQA-R (LAReQA): CC BY-NC 4.0, research use only (no commercial use); the MLQA "
            "text itself is CC BY-SA 3.0",
            "cc-by-nc-4.0",
        ),
        DatasetEntry(
            name=MIRACL_NAME,
            title="MIRACL",
            kind=CORPUS,
            reader=_read_miracl,
            languages=MIRACL_LANGUAGES,
            license="apache-2.0",
            license_terms="MIRACL topics and judgements: Apache 2.0",
            size=CorpusSize(_MIRACL_PASSAGES, _MIRACL_DEV_TOPICS),
            trains=False,
            revision=f"{MIRACL_VERSION} ({MIRACL_HUB_DATASET})",
        ),
    ]
}


def dataset_names(kind: DatasetKind | None = None) -> tuple[str, ...]:
    """Registered names in registry order (``xquad-r, mlqa-r, miracl``), or those of ``kind``."""
    return tuple(name for name, entry in DATASETS.items() if kind in (None, entry.kind))


def training_names() -> tuple[str, ...]:
    """Names that can be ``--train-data``, alphabetically (``mlqa-r, xquad-r``)."""
    return tuple(sorted(name for name, entry in DATASETS.items() if entry.trains))


def find_dataset(name: str) -> DatasetEntry | None:
    """The entry named ``name`` (case-insensitive), else None."""
    return DATASETS.get(name.strip().lower())


def get_dataset(name: str) -> DatasetEntry:
    """The entry named ``name`` (case-insensitive); an unknown name is a user error."""
    entry = find_dataset(name)
    if entry is None:
        raise XmirError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return entry
