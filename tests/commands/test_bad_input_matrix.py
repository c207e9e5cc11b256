"""The bad-input matrix: every bad file, option, spec, model folder or output path given to
`eval`, `train`, `sweep` or `report` ends in one line on stderr and exit code 2, with no
traceback, and leaves every file under the output, data and cache folders as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from typer.testing import CliRunner

from xmir.cli import app
from xmir.paths import CACHE_DIR_ENV, DATA_DIR_ENV

UNWRITABLE = "/proc/xmir-no-such-folder"  # nobody, not even root, creates files here
LARGE = 1 << 22  # files above 4 MiB are compared by size and time instead of a full hash


class Case(NamedTuple):
    args: list[str]
    message: str


def _spec(**changes: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": "tiny",
        "models": ["e5-small-q4:layers=1"],
        "strategies": ["mono", "hybrid"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 20}],
        "budget": {"steps": 3},
    }
    spec.update(changes)
    return spec


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data, cache, outputs, model folders and specs: everything a bad input might touch."""
    data_dir = os.environ.get(DATA_DIR_ENV)
    if not data_dir or not Path(data_dir).is_dir():
        pytest.skip(f"{DATA_DIR_ENV} is not set to the evaluation data directory")
    ws = tmp_path_factory.mktemp("bad-inputs")
    shutil.copytree(data_dir, ws / "data")
    from toy_parallel import write_toy_lareqa

    write_toy_lareqa(ws / "toy")
    (ws / "cache").mkdir()
    (ws / "cwd").mkdir()
    out = ws / "out"
    (out / "mine").mkdir(parents=True)
    (out / "mine" / "README.md").write_text("# my project\n")
    (out / "mine" / "config.json").write_text('{"mine": true}\n')
    (out / "a_file.txt").write_text("mine\n")
    (out / "notes.json").write_text('{"my": "notes"}\n')
    (out / "empty").mkdir()
    (ws / "badjson").mkdir()
    (ws / "badjson" / "en.json").write_text("{broken")
    models = ws / "models"
    (models / "empty").mkdir(parents=True)
    (models / "broken").mkdir()
    (models / "broken" / "modules.json").write_text("[{not json")
    (models / "remote").mkdir()
    (models / "remote" / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "custom.Module"}])
    )
    (models / "remote" / "sentence_bert_config.json").write_text('{"trust_remote_code": true}')
    specs = ws / "specs"
    specs.mkdir()
    good = yaml.safe_dump(_spec(), sort_keys=False)
    (specs / "twice.yaml").write_text(good + "seeds: [1]\n")
    (specs / "typo.yaml").write_text(good.replace("strategies:", "stratgies:"))
    (specs / "tag.yaml").write_text(good.replace("name: tiny", "name: !!python/name:os.getcwd"))
    (specs / "broken.yaml").write_text("name: x\nmodels: [a\n")
    (specs / "scalar.yaml").write_text("just a string\n")
    for name, spec in {
        "strategy": _spec(strategies=["random"]),
        "model": _spec(models=["no-such-model"]),
        "budget": _spec(budget={"steps": 0}),
        "args": _spec(budget={"steps": 3, "extra_train_args": ["--lerning-rate", "1"]}),
        "alpha": _spec(hybrid_alphas=[1.5]),
        "overlap": _spec(eval=[{"dataset": "mlqa-r"}]),
    }.items():
        (specs / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    (specs / "good.yaml").write_text(good)
    return ws


def _snapshot(*roots: Path) -> dict[str, object]:
    """Every folder and file under ``roots``: a file by its SHA-256 (large ones by size and
    modification time)."""
    state: dict[str, object] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            key = str(path)
            if path.is_dir():
                state[key] = "dir"
            elif path.stat().st_size > LARGE:
                state[key] = (path.stat().st_size, path.stat().st_mtime_ns)
            else:
                state[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


EVAL = ["eval", "--model", "{tiny}", "--dataset", "xquad-r", "--data-dir", "{data}/xquad-r"]
EVAL_OUT = [*EVAL, "--out", "{out}/r.json"]
TRAIN = [
    "train", "--model", "{tiny}", "--train-data", "{toy}", "--train-format", "lareqa",
    "--batch-size", "2", "--steps", "4",
]  # fmt: skip
TRAIN_OUT = [*TRAIN, "--out", "{out}/run"]
SWEEP = ["sweep", "{specs}/good.yaml", "--out", "{out}/sweep"]

CASES: dict[str, Case] = {
    # ---- eval: options
    "eval-unknown-dataset": Case(["eval", "--model", "{tiny}", "--dataset", "squad"], "'squad'"),
    "eval-missing-dataset": Case(["eval", "--model", "{tiny}"], "Missing option '--dataset'"),
    "eval-unknown-option": Case([*EVAL_OUT, "--lerning", "1"], "No such option: --lerning"),
    "eval-zero-questions": Case(
        [*EVAL_OUT, "--max-questions", "0"], "--max-questions must be >= 1"
    ),
    "eval-zero-batch": Case([*EVAL_OUT, "--batch-size", "0"], "--batch-size must be >= 1"),
    "eval-short-seq": Case([*EVAL_OUT, "--max-seq-length", "4"], "--max-seq-length must be >= 8"),
    "eval-seed-alone": Case([*EVAL_OUT, "--seed", "3"], "--seed draws the --max-questions"),
    "eval-corpus-on-lareqa": Case([*EVAL_OUT, "--corpus", "hub"], "--corpus: MIRACL options"),
    "eval-search-on-lareqa": Case([*EVAL_OUT, "--search", "exact"], "--search: MIRACL options"),
    "eval-miracl-questions": Case(
        ["eval", "--model", "{tiny}", "--dataset", "miracl", "--max-questions", "3"],
        "apply to xquad-r and mlqa-r only",
    ),
    "eval-empty-language": Case([*EVAL_OUT, "--languages", "de,"], "has an empty entry"),
    # ---- eval: files and model folders
    "eval-unknown-language": Case([*EVAL_OUT, "--languages", "xx"], "xx"),
    "eval-missing-data-dir": Case(
        ["eval", "--model", "{tiny}", "--dataset", "xquad-r", "--data-dir", "{ws}/nowhere"],
        "nowhere",
    ),
    "eval-malformed-data": Case(
        [*EVAL_OUT[:6], "{ws}/badjson", "--languages", "en", "--out", "{out}/r.json"],
        "not valid",
    ),
    "eval-unknown-model": Case(
        ["eval", "--model", "no-such-model", *EVAL_OUT[3:], "--max-questions", "2"],
        "no-such-model",
    ),
    "eval-missing-model-folder": Case(
        ["eval", "--model", "{ws}/models/nowhere/", *EVAL_OUT[3:]], "does not exist"
    ),
    "eval-empty-model-folder": Case(
        ["eval", "--model", "{ws}/models/empty", *EVAL_OUT[3:], "--max-questions", "2"],
        "is not a sentence-transformers or transformers model folder",
    ),
    "eval-broken-model-folder": Case(
        ["eval", "--model", "{ws}/models/broken", *EVAL_OUT[3:], "--max-questions", "2"],
        "broken",
    ),
    "eval-remote-code-folder": Case(
        ["eval", "--model", "{ws}/models/remote", *EVAL_OUT[3:], "--max-questions", "2"],
        "sets trust_remote_code",
    ),
    # ---- eval: output paths
    "eval-out-foreign-file": Case([*EVAL, "--out", "{out}/notes.json"], "not an xmir result"),
    "eval-out-folder": Case([*EVAL, "--out", "{out}/empty"], "is a folder"),
    "eval-out-under-file": Case([*EVAL, "--out", "{out}/a_file.txt/r.json"], "is a file"),
    "eval-out-unwritable": Case([*EVAL, "--out", f"{UNWRITABLE}/r.json"], "cannot write into"),
    # ---- train: options
    "train-unknown-strategy": Case([*TRAIN_OUT, "--strategy", "random"], "'random'"),
    "train-alpha-range": Case([*TRAIN_OUT, "--alpha", "1.5"], "--alpha must lie in [0, 1]"),
    "train-alpha-mono": Case(
        [*TRAIN_OUT, "--strategy", "mono", "--alpha", "0.3"], "--alpha applies to --strategy"
    ),
    "train-zero-steps": Case([*TRAIN_OUT, "--steps", "0"], "--steps must be >= 1"),
    "train-steps-and-epochs": Case([*TRAIN_OUT, "--epochs", "1"], "--steps or --epochs"),
    "train-zero-lr": Case([*TRAIN_OUT, "--lr", "0"], "--lr must be > 0"),
    "train-snapshot-steps": Case([*TRAIN_OUT, "--snapshot-at", "2,x"], "--snapshot-at '2,x'"),
    "train-world-size": Case([*TRAIN_OUT, "--world-size", "2"], "--world-size is for --dry-run"),
    "train-eval-every": Case([*TRAIN_OUT, "--eval-every", "2"], "--eval-every needs"),
    "train-missing-option": Case(["train", "--model", "{tiny}"], "Missing option"),
    # ---- train: data and model folders
    "train-unknown-language": Case([*TRAIN_OUT, "--languages", "de,fr"], "fr"),
    "train-too-few-items": Case(
        [*TRAIN_OUT, "--strategy", "mono", "--batch-size", "20"], "language es has only"
    ),
    "train-missing-data": Case([*TRAIN_OUT[:4], "{ws}/nowhere", *TRAIN_OUT[5:]], "nowhere"),
    "train-remote-code-folder": Case(
        ["train", "--model", "{ws}/models/remote", *TRAIN_OUT[3:]], "sets trust_remote_code"
    ),
    # ---- train: output paths
    "train-out-foreign-folder": Case([*TRAIN, "--out", "{out}/mine"], "README.md, config.json"),
    "train-out-file": Case([*TRAIN, "--out", "{out}/a_file.txt"], "is a file, not a folder"),
    "train-out-unwritable": Case([*TRAIN, "--out", f"{UNWRITABLE}/run"], "cannot write into"),
    "train-resume-nothing": Case([*TRAIN_OUT, "--resume"], "holds no training run"),
    "train-dry-run-foreign": Case(
        [*TRAIN, "--out", "{out}/mine", "--dry-run"], "README.md, config.json"
    ),
    # ---- sweep: specs
    "sweep-missing-spec": Case(["sweep", "{specs}/nowhere.yaml"], "cannot read sweep spec"),
    "sweep-broken-yaml": Case(["sweep", "{specs}/broken.yaml"], "not valid YAML (line"),
    "sweep-duplicate-key": Case(["sweep", "{specs}/twice.yaml"], "duplicate key 'seeds'"),
    "sweep-misspelt-key": Case(["sweep", "{specs}/typo.yaml"], "did you mean 'strategies'?"),
    "sweep-unsafe-tag": Case(["sweep", "{specs}/tag.yaml"], "unsafe YAML tag !!python/name"),
    "sweep-scalar-spec": Case(["sweep", "{specs}/scalar.yaml"], "expected a mapping"),
    "sweep-bad-strategy": Case(["sweep", "{specs}/strategy.yaml"], "strategies[0]"),
    "sweep-unknown-model": Case(["sweep", "{specs}/model.yaml"], "no-such-model"),
    "sweep-zero-steps": Case(["sweep", "{specs}/budget.yaml"], "budget.steps"),
    "sweep-bad-extra-args": Case(["sweep", "{specs}/args.yaml"], "No such option"),
    "sweep-bad-alpha": Case(["sweep", "{specs}/alpha.yaml"], "hybrid_alphas"),
    "sweep-not-zero-shot": Case(["sweep", "{specs}/overlap.yaml"], "not zero-shot"),
    "sweep-same-names": Case(
        ["sweep", "{specs}/good.yaml", "{specs}/good.yaml"], "two specs share the name"
    ),
    # ---- sweep: options and output paths
    "sweep-bad-shard": Case([*SWEEP, "--shard", "5/4"], "--shard"),
    "sweep-missing-data-dir": Case([*SWEEP, "--data-dir", "{ws}/nowhere"], "is not a folder"),
    "sweep-out-foreign": Case(
        ["sweep", "{specs}/good.yaml", "--out", "{out}/mine"], "README.md, config.json"
    ),
    "sweep-out-file": Case(["sweep", "{specs}/good.yaml", "--out", "{out}/a_file.txt"], "file"),
    "sweep-out-unwritable": Case(
        ["sweep", "{specs}/good.yaml", "--out", UNWRITABLE], "cannot write into"
    ),
    # ---- report
    "report-missing-folder": Case(["report", "{ws}/nowhere"], "no such folder"),
    "report-not-a-sweep": Case(["report", "{out}/mine"], "no sweep.json"),
    "report-out-file": Case(["report", "{out}/mine", "--out", "{out}/a_file.txt"], "is a file"),
    "report-out-foreign": Case(["report", "{out}/empty", "--out", "{out}/mine"], "README.md"),
    "report-out-unwritable": Case(["report", "{out}/mine", "--out", UNWRITABLE], "cannot write"),
    "report-unknown-option": Case(["report", "{out}/mine", "--pdf"], "No such option: --pdf"),
}


def test_the_matrix_is_large_and_covers_every_command() -> None:
    assert len(CASES) >= 40
    assert {case.args[0] for case in CASES.values()} == {"eval", "train", "sweep", "report"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_input_is_one_line_exit_2_and_changes_nothing(
    name: str,
    workspace: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = workspace
    monkeypatch.setenv(CACHE_DIR_ENV, str(ws / "cache"))
    monkeypatch.setenv(DATA_DIR_ENV, str(ws / "data"))
    monkeypatch.chdir(ws / "cwd")
    places = {
        "ws": str(ws), "data": str(ws / "data"), "toy": str(ws / "toy"), "out": str(ws / "out"),
        "specs": str(ws / "specs"), "tiny": str(tiny_model_dir),
    }  # fmt: skip
    args = [arg.format(**places) for arg in CASES[name].args]
    before = _snapshot(ws, tiny_model_dir)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (args, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and lines[0].startswith("error: ")
    assert CASES[name].message in " ".join(result.stderr.split()), result.stderr
    assert _snapshot(ws, tiny_model_dir) == before
