"""The real `xmir sweep` -> `xmir train` / `xmir eval` -> `xmir report` on a tiny encoder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _sweep(
    spec: dict[str, object], folder: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    spec_file = folder.with_suffix(".yaml")
    spec_file.write_text(yaml.safe_dump(spec))
    return subprocess.run(
        [sys.executable, "-m", "xmir", "sweep", str(spec_file), "--out", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def _evals(folder: Path) -> dict[str, dict[str, object]]:
    """Each finished run's evaluation (gzipped once the run finished)."""
    from xmir.records import read_json_object

    found = {}
    for path in folder.glob("runs/*/eval-xquad-r.json.gz"):
        document = read_json_object(path.with_suffix(""))
        assert document is not None, path
        found[path.parent.name] = document
    return found


@pytest.mark.slow
def test_sweep_train_eval_report_end_to_end(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    env = {**os.environ, "XMIR_DATA_DIR": str(data_dir), "XMIR_CACHE_DIR": str(tmp_path / "cache")}
    # the tokenizer the tiny encoder needs lives in the shared cache; embeddings go to a fresh one
    spec = {
        "name": "tiny-e2e",
        "models": [str(tiny_model_dir)],
        "strategies": ["mono", "hybrid"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": 5}],
        "budget": {"steps": 2},
    }
    first = tmp_path / "first"
    result = _sweep(spec, first, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (first / "report" / "report.md").is_file()  # the sweep ends with its report
    unwrapped = "".join(result.stdout.split())  # Rich wraps long lines at the terminal width
    assert f"writingthereportto{first / 'report'}" in unwrapped
    evals = _evals(first)
    assert sorted(evals) == ["model-hybrid0.5-b4-s0", "model-mono-b4-s0", "model-none"]
    hashes = {run: doc["model"]["weights_sha256"] for run, doc in evals.items()}  # type: ignore[index]
    assert len(set(hashes.values())) == 3  # two fine-tuned models and the untrained one differ
    for doc in evals.values():  # fresh cache, all weights new: nothing may come from the cache
        assert doc["embeddings_from_cache"] == {"queries": False, "candidates": False}
    for run in ("model-hybrid0.5-b4-s0", "model-mono-b4-s0"):
        folder = first / "runs" / run
        assert not (folder / "model").exists()  # weights deleted after evaluation
        assert (folder / "train" / "batches.jsonl.gz").is_file()
        mix = json.loads((folder / "result.json").read_text())["train"]["batch_mix"]
        assert mix["steps"] == 2 and mix["pairs"] == 8
    assert (
        json.loads((first / "runs" / "model-mono-b4-s0" / "result.json").read_text())["train"][
            "batch_mix"
        ]["mono_share"]
        == 1.0
    )

    rerun = _sweep(spec, first, env)
    assert rerun.returncode == 0
    assert rerun.stdout.count("skipped model-") == 3

    second = tmp_path / "second"
    result = _sweep({**spec, "name": "tiny-again", "strategies": ["mono"]}, second, env)
    assert result.returncode == 0, result.stdout + result.stderr
    again = _evals(second)
    assert again["model-none"]["embeddings_from_cache"] == {"queries": True, "candidates": True}
    mono = again["model-mono-b4-s0"]
    same_weights = mono["model"]["weights_sha256"] in hashes.values()  # type: ignore[index]
    assert mono["embeddings_from_cache"] == {"queries": same_weights, "candidates": same_weights}

    report = subprocess.run(
        [sys.executable, "-m", "xmir", "report", str(first)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr
    assert "hybrid0.5" in report.stdout
    markdown = (first / "report" / "report.md").read_text()
    assert "Protocol departure (offline cross-dataset zero-shot)" in markdown
    assert (first / "report" / "figures" / "batch_mix.png").is_file()
