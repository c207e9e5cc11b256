"""GPU estimates (``hardware: gpu``) and the two real-model study specs, dry-run offline."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from sweep_helpers import valid_spec

from xmir.sweep import gpu_cost
from xmir.sweep.gpu_cost import (
    estimate_gpu_run,
    non_embedding_parameters,
    total_parameters,
    train_start_s,
)
from xmir.sweep.prepare import plan_sweep
from xmir.sweep.spec import load_spec, parse_spec

SWEEPS = Path(__file__).parents[2] / "sweeps"


def test_parameter_counts_of_the_known_models() -> None:
    assert non_embedding_parameters("FacebookAI/xlm-roberta-base") == 85_054_464
    assert non_embedding_parameters("intfloat/multilingual-e5-small") == 21_293_568
    assert non_embedding_parameters("intfloat/multilingual-e5-large") == 302_309_376
    assert non_embedding_parameters("e5-small-q4:layers=6") == 21_293_568 // 2
    assert total_parameters("sentence-transformers/LaBSE") == 471_000_000
    assert total_parameters("multilingual-e5-base") == 278_000_000
    assert total_parameters("e5-small-q4:layers=2") is None


def test_the_gpu_estimate_follows_the_stated_rates() -> None:
    spec = parse_spec(
        valid_spec(
            hardware="gpu",
            models=["intfloat/multilingual-e5-base"],
            eval=[{"dataset": "xquad-r"}],
            batch_sizes=[100],
            budget={"steps": 1000},
        )
    )
    sweep = plan_sweep(spec)
    baseline, trained = sweep.runs[0], sweep.runs[1]
    n = 85_054_464
    encode = 2 * n * (13090 + 13014) * gpu_cost.LAREQA_TEXT_TOKENS / (gpu_cost.ENCODE_TFLOPS * 1e12)
    assert estimate_gpu_run(spec, baseline).eval_s == pytest.approx(gpu_cost.EVAL_START_S + encode)
    train = 6 * n * 1000 * 100 * gpu_cost.TRAIN_TOKENS_PER_PAIR / (gpu_cost.TRAIN_TFLOPS * 1e12)
    expected = gpu_cost.TRAIN_START_S + 1000 * gpu_cost.STEP_OVERHEAD_S + train
    assert estimate_gpu_run(spec, trained).train_s == pytest.approx(expected)
    assert sweep.costs[trained.run_id] == estimate_gpu_run(spec, trained)


def test_the_hardware_field_changes_estimates_but_no_run_config() -> None:
    cpu = plan_sweep(parse_spec(valid_spec()))
    gpu = plan_sweep(parse_spec(valid_spec(hardware="gpu")))
    assert gpu.fingerprints == cpu.fingerprints
    assert gpu.costs != cpu.costs


def test_hub_mmarco_adds_reading_and_guarding_per_training_language() -> None:
    seven = parse_spec(
        valid_spec(
            train_data="hf:unicamp-dl/mmarco:google",
            budget={"steps": 3, "extra_train_args": ["--languages", "ar,de,en,es,hi,ru,zh"]},
        )
    )
    every = parse_spec(valid_spec(train_data="hf:unicamp-dl/mmarco"))
    base = gpu_cost.TRAIN_START_S
    assert train_start_s(seven) == base + 7 * gpu_cost.MMARCO_LANGUAGE_S
    assert train_start_s(every) == base + 14 * gpu_cost.MMARCO_LANGUAGE_S
    assert train_start_s(parse_spec(valid_spec())) == base


@pytest.mark.parametrize(
    ("name", "runs", "models"),
    [
        ("paper-xlmr-labse", 14, ["FacebookAI/xlm-roberta-base", "sentence-transformers/LaBSE"]),
        (
            "me5-ladder",
            21,
            [f"intfloat/multilingual-e5-{size}" for size in ("small", "base", "large")],
        ),
    ],
)
def test_the_real_model_studies_dry_run_offline(
    name: str, runs: int, models: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from xmir.cli import app
    from xmir.commands.common import console

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a dry run must not reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(console, "_width", 250)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["sweep", str(SWEEPS / f"{name}.yaml"), "--dry-run"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"{runs} runs (10000 steps each; eval: xquad-r, mlqa-r, miracl (" in text
    for model in models:
        assert f"{model}: " in text and "M parameters" in text
    assert "assumed 150 TFLOP/s for bf16 training and 30 TFLOP/s for fp32 encoding" in text
    hours = re.search(r"Estimated cost: (\d+)h", text)
    assert hours is not None and int(hours.group(1)) > 24  # real models, full MIRACL corpora
    assert not (tmp_path / "cache").exists()  # nothing downloaded or built
    sweep = plan_sweep(load_spec(SWEEPS / f"{name}.yaml"))
    assert sweep.spec.train_data == "hf:unicamp-dl/mmarco:google"
    assert sweep.spec.budget.lr == pytest.approx(3e-5) and sweep.spec.batch_sizes == [100]
    assert [r.strategy_label for r in sweep.runs[:7]] == [
        "none", "mono", "mono", "cross", "cross", "hybrid0.5", "hybrid0.5"
    ]  # fmt: skip
