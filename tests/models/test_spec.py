"""Model spec parsing: names, layer cuts, folders, hub ids and the errors users can cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.errors import XmirError
from xmir.models.registry import LADDERS, REGISTRY, list_models, parse_model_spec


def test_registry_name_with_and_without_layers() -> None:
    spec = parse_model_spec("e5-small-q4")
    assert (spec.kind, spec.target, spec.layers) == ("named", "e5-small-q4", None)
    cut = parse_model_spec("e5-small-q4:layers=2")
    assert (cut.kind, cut.target, cut.layers, cut.text) == (
        "named",
        "e5-small-q4",
        2,
        "e5-small-q4:layers=2",
    )
    assert cut.entry is REGISTRY["e5-small-q4"]


@pytest.mark.parametrize("bad", ["0", "13", "-1", "two", "", "2.5"])
def test_bad_layers_value(bad: str) -> None:
    with pytest.raises(XmirError, match="layers"):
        parse_model_spec(f"e5-small-q4:layers={bad}")


def test_unknown_option() -> None:
    with pytest.raises(XmirError, match="unknown option 'depth'"):
        parse_model_spec("e5-small-q4:depth=2")


def test_hub_ids_and_their_registry_entries() -> None:
    spec = parse_model_spec("intfloat/multilingual-e5-base")
    assert (spec.kind, spec.target) == ("hub", "intfloat/multilingual-e5-base")
    assert spec.entry is REGISTRY["multilingual-e5-base"]
    unknown = parse_model_spec("someone/some-encoder:layers=3")
    assert (unknown.kind, unknown.target, unknown.layers, unknown.entry) == (
        "hub",
        "someone/some-encoder",
        3,
        None,
    )


def test_local_folder(tiny_model_dir: Path) -> None:
    spec = parse_model_spec(f"{tiny_model_dir}:layers=1")
    assert (spec.kind, spec.target, spec.layers) == ("path", str(tiny_model_dir), 1)


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(XmirError, match=r"unknown model 'e5-tiny'.*e5-small-q4.*labse"):
        parse_model_spec("e5-tiny")


def test_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(XmirError, match="not a sentence-transformers or transformers model"):
        parse_model_spec(str(tmp_path))
    with pytest.raises(XmirError, match="not a sentence-transformers or transformers model"):
        parse_model_spec(str(tmp_path / "notes.txt"))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match="does not exist"):
        parse_model_spec(str(tmp_path / "nowhere" / "model"))


def test_registry_and_ladders_are_consistent() -> None:
    names = [entry.name for entry in list_models()]
    assert names[0] == "e5-small-q4"
    assert set(names) == {
        "e5-small-q4",
        "multilingual-e5-small",
        "multilingual-e5-base",
        "multilingual-e5-large",
        "xlm-roberta-base",
        "xlm-roberta-large",
        "labse",
    }
    assert [entry.name for entry in list_models() if entry.offline] == ["e5-small-q4"]
    assert [parse_model_spec(s).layers for s in LADDERS["e5-small-q4"]] == [1, 2, 4, 6, None]
    for ladder in LADDERS.values():
        for spec in ladder:
            assert parse_model_spec(spec).entry is not None
