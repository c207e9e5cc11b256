"""``xmir eval`` end to end with a tiny encoder, and its one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xmir.cli import app

runner = CliRunner()


def _eval(*args: str):
    return runner.invoke(app, ["eval", *args])


def test_writes_the_result_contract(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "res" / "xquad.json"
    result = _eval(
        "--model",
        str(tiny_model_dir),
        "--dataset",
        "xquad-r",
        "--data-dir",
        str(data_dir),
        "--max-questions",
        "8",
        "--languages",
        "en,de,th",
        "--out",
        str(out),
        "--no-cache",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    settings = doc["settings"]
    assert set(settings["mono"]["per_language"]) == {"en", "de", "th"}
    assert set(settings["cross"]["matrix"]["en"]) == {"de", "th"}
    assert settings["cross"]["pairs"] == 6
    assert all(0 < settings[name]["map"] <= 1 for name in ("mono", "cross", "multi"))
    for name in ("mono", "cross", "multi"):
        assert {"map", "recall@1", "recall@10"} <= set(settings[name])
    sample = doc["dataset"]["subset_sample"]
    assert sample["seed"] == 0 and sample["question_ids"] >= 8
    assert settings["multi"]["per_language"]["th"]["queries"] == sample["question_ids"]
    assert isinstance(doc["bias"]["rank_distance"], float)
    assert -1 <= doc["bias"]["mrc"]["value"] <= 1
    assert set(doc["bias"]["mrc"]["per_pair"]) == {"de-en", "de-th", "en-th"}
    centered = doc["variants"]["centered"]
    assert {"settings", "bias", "per_query"} <= set(centered)
    assert doc["bias"]["own_language_share@10"]["expected_from_pool"] > 0
    assert doc["prefixes"] == {"query": "query: ", "passage": "passage: "}
    assert doc["model"]["total_params"] > 0 and doc["model"]["weights_sha256"]
    assert doc["dataset"]["revision"].startswith("9bc8c7fb")
    assert len(doc["dataset"]["files_sha256"]) == 3
    assert {"xmir", "torch", "sentence-transformers"} <= set(doc["versions"])
    assert doc["licenses"]["data"] == {
        "dataset": "xquad-r",
        "license": "cc-by-sa-4.0",
        "terms": "XQuAD-R (LAReQA): CC BY-SA 4.0, attribution and share-alike",
    }
    assert doc["licenses"]["model"]["license"] == "unknown"  # a folder without a card licence
    assert "mono" in result.output and "rank distance" in result.output


def test_prefix_override_is_recorded(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = _eval(
        "--model",
        str(tiny_model_dir),
        "--dataset",
        "mlqa-r",
        "--data-dir",
        str(data_dir),
        "--max-questions",
        "5",
        "--query-prefix",
        "",
        "--passage-prefix",
        "doc: ",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["prefixes"] == {"query": "", "passage": "doc: "}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "squad"], "'squad' is not one of 'xquad-r', 'mlqa-r', 'miracl'"),
        (["--dataset", "xquad-r", "--corpus", "hub"], "--corpus: MIRACL options; xquad-r has no"),
        (["--dataset", "mlqa-r", "--search", "ivf", "--no-bm25"], "--search, --bm25/--no-bm25"),
        (["--dataset", "XQuAD-R", "--topics", "t.tsv"], "--topics: MIRACL options; xquad-r"),
        (["--dataset", "xquad-r", "--seed", "3"], "--seed draws the --max-questions sample"),
        (["--dataset", "miracl", "--with-context"], "apply to xquad-r and mlqa-r only"),
        (["--dataset", "xquad-r", "--languages", "en,xx"], "unknown language code(s) xx"),
        (["--dataset", "xquad-r", "--data-dir", "/nonexistent/dir"], "does not exist"),
    ],
)
def test_bad_options_fail_with_one_line(
    tiny_model_dir: Path, args: list[str], message: str
) -> None:
    result = _eval("--model", str(tiny_model_dir), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_without_out_the_result_goes_to_a_new_named_file(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["--model", str(tiny_model_dir), "--dataset", "MLQA-R", "--data-dir", str(data_dir)]
    args += ["--languages", "en,de", "--max-questions", "3", "--no-cache"]
    first, second = _eval(*args), _eval(*args)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    written = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert written == ["mlqa-r-model-2.json", "mlqa-r-model.json"]  # never replaced
    assert "result written to results/mlqa-r-model.json" in first.output
    assert "result written to results/mlqa-r-model-2.json" in second.output
    doc = json.loads((tmp_path / "results" / "mlqa-r-model.json").read_text())
    assert doc["dataset"]["name"] == "mlqa-r"


def test_unknown_model_and_intact_previous_result(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text('{"xmir_result": 1, "previous": true}')  # an earlier result: replaceable
    result = _eval(
        "--model",
        "no-such-model",
        "--dataset",
        "xquad-r",
        "--data-dir",
        str(data_dir),
        "--max-questions",
        "2",
        "--out",
        str(out),
    )
    assert result.exit_code == 2
    assert "no-such-model" in result.output and "Traceback" not in result.output
    assert json.loads(out.read_text()) == {"xmir_result": 1, "previous": True}


def test_output_that_is_a_directory_fails_before_work(tiny_model_dir: Path, tmp_path: Path) -> None:
    result = _eval("--model", str(tiny_model_dir), "--dataset", "xquad-r", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "is a folder; give a file name" in result.output


def test_malformed_language_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "en.json").write_text("{broken")
    result = _eval(
        "--model",
        str(tiny_model_dir),
        "--dataset",
        "xquad-r",
        "--data-dir",
        str(tmp_path),
        "--languages",
        "en",
    )
    assert result.exit_code == 2
    assert "en.json" in result.output and "not valid" in result.output
