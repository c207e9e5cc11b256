"""Every command that writes checks its --out before any work and replaces nothing it did
not make: one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from xmir.cli import app

runner = CliRunner()
UNWRITABLE = Path("/proc/xmir-no-such-folder")  # nobody, not even root, creates files here


@pytest.fixture
def no_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any model load fails the test: the checks must come first."""
    import xmir.models.registry

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the output was checked")

    monkeypatch.setattr(xmir.models.registry, "load_model", refuse)


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _refused(args: list[str], *needles: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert len(text.splitlines()) == 1, text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in " ".join(text.split()), text
    return text


def _train_args(toy: Path, out: Path, *extra: str) -> list[str]:
    return [
        "train", "--model", "e5-small-q4:layers=1", "--train-data", str(toy),
        "--train-format", "lareqa", "--batch-size", "2", "--steps", "2", "--out", str(out),
        *extra,
    ]  # fmt: skip


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# my project\n")
    (folder / "config.json").write_text('{"mine": true}\n')
    return folder


def test_train_refuses_a_folder_that_is_not_a_run(
    toy_data: Path, user_folder: Path, no_model_loading: None
) -> None:
    before = _listing(user_folder)
    for extra in ((), ("--dry-run",)):
        _refused(
            _train_args(toy_data, user_folder, *extra),
            "is not empty and not",
            "README.md, config.json",
        )
        assert _listing(user_folder) == before


def test_train_refuses_a_file_and_an_unwritable_place(
    toy_data: Path, tmp_path: Path, no_model_loading: None
) -> None:
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"x")
    _refused(_train_args(toy_data, a_file), "is a file, not a folder")
    _refused(_train_args(toy_data, a_file / "below"), "is a file, not a folder")
    _refused(_train_args(toy_data, UNWRITABLE / "run"), "cannot write into")
    assert a_file.read_bytes() == b"x"


def test_train_accepts_a_new_folder_and_an_empty_one(toy_data: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (empty, tmp_path / "new" / "deeper"):
        result = runner.invoke(app, _train_args(toy_data, out, "--dry-run"))
        assert result.exit_code == 0, result.output
        # a second dry run may replace its own plan
        result = runner.invoke(app, _train_args(toy_data, out, "--dry-run"))
        assert result.exit_code == 0, result.output


def test_eval_checks_its_output_before_any_work(tmp_path: Path, no_model_loading: None) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "notes"}')
    args = ["eval", "--model", "e5-small-q4:layers=1", "--dataset", "xquad-r", "--out"]
    _refused([*args, str(mine)], "exists and is not an xmir result")
    assert json.loads(mine.read_text()) == {"my": "notes"}
    _refused([*args, str(UNWRITABLE / "r.json")], "cannot write into")
    _refused([*args, str(tmp_path)], "is a folder; give a file name")
    _refused([*args, str(mine / "r.json")], "is a file, not a folder")


def test_report_checks_its_output_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "sweep").mkdir()  # not a sweep: the output is refused before it is read
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine")
    _refused(["report", str(tmp_path / "sweep"), "--out", str(a_file)], "is a file, not a")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "index.md").write_text("mine")
    _refused(["report", str(tmp_path / "sweep"), "--out", str(folder)], "holds index.md")
    _refused(["report", str(tmp_path / "sweep"), "--out", str(UNWRITABLE)], "cannot write into")
    assert a_file.read_text() == "mine" and _listing(folder) == {"index.md": b"mine"}


def test_sweep_refuses_another_programs_folder(tmp_path: Path, user_folder: Path) -> None:
    spec = {
        "name": "tiny",
        "models": ["e5-small-q4:layers=1"],
        "strategies": ["mono"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 20}],
        "budget": {"steps": 3},
    }
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    before = _listing(user_folder)
    _refused(["sweep", str(spec_file), "--out", str(user_folder)], "README.md, config.json")
    assert _listing(user_folder) == before
    report = tmp_path / "fresh" / "report"
    report.mkdir(parents=True)
    (report / "notes.txt").write_text("mine")
    _refused(["sweep", str(spec_file), "--out", str(tmp_path / "fresh")], "holds notes.txt")
    assert not (tmp_path / "fresh" / "sweep.json").exists()
