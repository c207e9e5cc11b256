"""The dataset registry: each entry's reader against the real data and its recorded size, and
a new entry reaching the spec, the cost model and the licences without other changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from xmir.data import datasets
from xmir.data.datasets import (
    CORPUS,
    DATASETS,
    POOLED,
    CorpusSize,
    DatasetEntry,
    PooledSize,
    dataset_names,
    find_dataset,
    get_dataset,
    training_names,
)
from xmir.data.lareqa import RetrievalSet
from xmir.data.miracl import MiraclJudgements
from xmir.data.sources import LAREQA_SOURCES
from xmir.errors import XmirError
from xmir.licenses import data_license
from xmir.sweep.spec import parse_spec
from xmir.sweep.workload import eval_texts


def valid_spec(**changes: Any) -> dict[str, Any]:
    """A small valid sweep spec with ``changes``."""
    spec: dict[str, Any] = {
        "name": "tiny",
        "models": ["e5-small-q4:layers=1"],
        "strategies": ["mono"],
        "batch_sizes": [8],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 20}],
        "budget": {"steps": 3},
    }
    return {**spec, **changes}


@pytest.mark.parametrize("name", dataset_names(POOLED))
def test_pooled_reader_matches_recorded_size(name: str, data_dir: Path) -> None:
    entry = DATASETS[name]
    rset = entry.reader(data_dir, None)
    assert isinstance(rset, RetrievalSet) and isinstance(entry.size, PooledSize)
    assert len(set(rset.query_ids)) == entry.size.question_ids
    assert (rset.num_queries, rset.num_candidates) == (entry.size.queries, entry.size.candidates)
    assert tuple(rset.languages) == entry.languages


@pytest.mark.parametrize("name", dataset_names(CORPUS))
def test_corpus_reader_matches_recorded_topics(name: str, data_dir: Path) -> None:
    entry = DATASETS[name]
    assert isinstance(entry.size, CorpusSize)
    assert set(entry.size.topics) == set(entry.size.passages) == set(entry.languages)
    judgements = entry.reader(data_dir, list(entry.languages))
    assert isinstance(judgements, dict) and list(judgements) == list(entry.languages)
    for lang, judged in judgements.items():
        assert isinstance(judged, MiraclJudgements)
        assert len(judged.topics) == entry.size.topics[lang], lang


def test_names_kinds_and_lookup() -> None:
    assert dataset_names() == ("xquad-r", "mlqa-r", "miracl")
    assert dataset_names(POOLED) == ("xquad-r", "mlqa-r")
    assert dataset_names(CORPUS) == ("miracl",)
    assert training_names() == ("mlqa-r", "xquad-r")
    assert find_dataset(" MLQA-R ") is DATASETS["mlqa-r"]
    assert find_dataset("squad") is None
    with pytest.raises(XmirError, match="unknown dataset 'squad'; choose one of: xquad-r"):
        get_dataset("squad")


def test_lareqa_entries_reference_the_download_pins() -> None:
    for name in dataset_names(POOLED):
        entry, source = DATASETS[name], LAREQA_SOURCES[name]
        assert entry.source is source and entry.revision == source.commit
        assert entry.languages == source.languages
        assert isinstance(entry.size, PooledSize)
        assert (entry.size.queries, entry.size.candidates) == (
            source.expected_queries,
            source.expected_candidates,
        )


def _fake_entry() -> DatasetEntry:
    """A pooled dataset that is in no other file: a copy of XQuAD-R under a new name."""
    xquad = DATASETS["xquad-r"]
    return dataclasses.replace(
        xquad,
        name="tiny-r",
        title="Tiny-R",
        license="cc-by-4.0",
        license_terms="Tiny-R: CC BY 4.0",
        size=PooledSize(question_ids=100, queries=1000, candidates=900),
        trains=False,
    )


def test_a_new_entry_reaches_spec_cost_and_licences(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(XmirError, match=r"unknown dataset 'tiny-r'; use one of 'xquad-r'"):
        parse_spec(valid_spec(eval=[{"dataset": "tiny-r"}]))
    monkeypatch.setitem(datasets.DATASETS, "tiny-r", _fake_entry())

    spec = parse_spec(
        valid_spec(eval=[{"dataset": "tiny-r", "max_questions": 50}], zero_shot_guard=["tiny-r"])
    )
    assert spec.eval[0].dataset == "tiny-r" and spec.zero_shot_guard == ["tiny-r"]
    assert eval_texts(spec.eval[0]) == round((1000 + 900) * 50 / 100)
    assert data_license("tiny-r").terms == "Tiny-R: CC BY 4.0"
    with pytest.raises(XmirError, match=r"use one of 'xquad-r', 'mlqa-r', 'miracl', 'tiny-r'"):
        parse_spec(valid_spec(eval=[{"dataset": "squad"}]))
    with pytest.raises(XmirError, match=r"train_data: 'tiny-r' is neither mlqa-r nor xquad-r"):
        parse_spec(valid_spec(train_data="tiny-r"))  # not training data
