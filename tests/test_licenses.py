"""Data and weight licences: what a result and a trained model carry."""

from __future__ import annotations

import json
from pathlib import Path

from xmir.licenses import data_license, evaluation_licenses, model_license, trained_model_licence
from xmir.models.registry import REGISTRY


def test_the_known_data_licences() -> None:
    assert data_license("mlqa-r").license == "cc-by-nc-4.0"
    assert (
        data_license("mlqa-r").non_commercial
        and "research use only" in data_license("mlqa-r").terms
    )
    assert data_license("XQuAD-R").license == "cc-by-sa-4.0"
    assert data_license("/data/lareqa/xquad-r").share_alike  # a LAReQA folder by its name
    assert data_license("miracl").license == "apache-2.0"
    assert data_license("my-pairs").license == "unknown"
    assert REGISTRY["multilingual-e5-small"].license == "mit"
    assert REGISTRY["e5-small-q4"].license == "mit"


def test_a_model_trained_on_mlqa_r_inherits_the_non_commercial_terms() -> None:
    base = {"spec": "e5-small-q4", "license": "mit"}
    on_mlqa = trained_model_licence(base, ["mlqa-r"])
    assert on_mlqa["license"] == "cc-by-nc-4.0"
    assert "base model weights: mit" in on_mlqa["terms"] and "no commercial use" in on_mlqa["terms"]
    assert trained_model_licence(base, ["xquad-r"])["license"] == "cc-by-sa-4.0"
    assert trained_model_licence(base, ["my-pairs"])["license"] == "other"
    assert trained_model_licence(base, ["mlqa-r", "xquad-r"])["license"] == "cc-by-nc-4.0"


def test_a_model_folder_tells_its_licence(tmp_path: Path) -> None:
    trained = trained_model_licence({"spec": "e5-small-q4", "license": "mit"}, ["mlqa-r"])
    fine_tuned = tmp_path / "fine-tuned"
    fine_tuned.mkdir()
    (fine_tuned / "xmir-train.json").write_text(
        json.dumps({"licenses": {"trained_model": trained}})
    )
    assert model_license("path", None, fine_tuned)["license"] == "cc-by-nc-4.0"
    carded = tmp_path / "carded"
    carded.mkdir()
    (carded / "README.md").write_text("---\nlicense: apache-2.0\ntags: [x]\n---\n# A model\n")
    assert model_license("path", None, carded)["license"] == "apache-2.0"
    assert model_license("path", None, tmp_path)["license"] == "unknown"
    assert model_license("named", "mit", None)["license"] == "mit"
    block = evaluation_licenses("xquad-r", {"license": "mit"})
    assert block["data"]["license"] == "cc-by-sa-4.0" and block["model"] == {"license": "mit"}
