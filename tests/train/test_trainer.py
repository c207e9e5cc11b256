"""The real training path on the tiny encoder: outputs, resume, damaged checkpoints, full disk."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from xmir.errors import XmirError
from xmir.paths import TRAIN_RECORD_FILE
from xmir.train.checkpoints import list_checkpoints, verify_checkpoint
from xmir.train.config import TrainConfig
from xmir.train.hf_trainer import XmirTrainer
from xmir.train.prepare import batches_jsonl, prepare_run
from xmir.train.trainer import train

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def _config(model_dir: Path, train_dir: Path, out: Path, **changes: object) -> TrainConfig:
    settings = {
        "model": str(model_dir),
        "train_data": str(train_dir),
        "train_format": "lareqa",
        "out": out,
        "strategy": "hybrid",
        "batch_size": 4,
        "steps": 4,
        "lr": 1e-3,
        "save_every": 2,
        "seed": 11,
    }
    return TrainConfig(**{**settings, **changes})  # type: ignore[arg-type]


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


class Crash(Exception):
    pass


class CrashAtStep(TrainerCallback):
    """Simulate a killed process: raise once step ``step`` has finished."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Crash(f"killed after step {self.step}")


@pytest.mark.slow
def test_training_writes_a_loadable_model_and_its_record(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "run"
    config = _config(
        tiny_model_dir,
        toy_data_dir,
        out,
        steps=3,
        freeze_embeddings=True,
        log_every=1,
        report_to="tensorboard",
    )
    metadata = train(config)

    model = SentenceTransformer(str(out), device="cpu")
    assert model.encode(["question 1 de"]).shape == (1, 32)
    before, after = _weights(tiny_model_dir), _weights(out)
    assert torch.equal(before[WORD_EMBEDDINGS], after[WORD_EMBEDDINGS])  # frozen
    changed = [k for k in before if k != WORD_EMBEDDINGS and not torch.equal(before[k], after[k])]
    assert changed, "training did not change any weight"

    record = json.loads((out / TRAIN_RECORD_FILE).read_text(encoding="utf-8"))
    assert record == metadata
    assert record["status"] == "finished"
    assert record["plan"]["total_steps"] == 3
    assert record["plan"]["realised_mix"]["steps"] == 3
    assert record["model"]["frozen_word_embedding_params"] == before[WORD_EMBEDDINGS].numel()
    assert record["loss"]["scale"] == pytest.approx(20.0)
    assert [e["step"] for e in record["training"]["loss_log"]] == [1, 2, 3]
    assert set(record["plan"]["data"]["file_sha256"]) == {"de.json", "en.json", "es.json"}
    # the real run writes the plan the dry run describes
    expected = batches_jsonl(prepare_run(config, world_size=1))
    assert (out / "batches.jsonl").read_text(encoding="utf-8") == expected
    assert len(expected.splitlines()) == 3
    assert [step for step, _ in list_checkpoints(out / "checkpoints")] == [2, 3]
    for _step, folder in list_checkpoints(out / "checkpoints"):
        verify_checkpoint(folder)
    with pytest.raises(XmirError, match="already holds a training run"):
        train(config)

    # sentence-transformers' own model card, told about the data, licence and batch mix
    card = (out / "README.md").read_text(encoding="utf-8")
    mix = record["plan"]["realised_mix"]
    assert card.startswith("---") and "library_name: sentence-transformers" in card
    assert "license: other" in card  # toy data: no known licence
    assert "fine-tuned with hybrid batches (alpha 0.5) on toy-parallel" in card
    assert "## Training with xmir" in card and "### Realised batch mix" in card
    assert f"{mix['mono_steps']} monolingual and {mix['cross_steps']} cross-lingual" in card
    assert "| temperature (loss scale 1/T) | 0.05 |" in card
    trained = record["licenses"]["trained_model"]
    assert trained["training_data"] == [
        {
            "dataset": "toy-parallel",
            "license": "unknown",
            "terms": trained["training_data"][0]["terms"],
        }
    ]

    # TensorBoard, offline: the loss and the realised batch mix at every logged step
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "logs"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert {"train/loss", "train/batch_mix/mono_share", "train/batch_mix/cross_steps"} <= set(tags)
    shares = [(e.step, round(e.value, 4)) for e in events.Scalars("train/batch_mix/mono_share")]
    kinds = [json.loads(line)["type"] for line in expected.splitlines()]
    assert shares == [(n, round(kinds[:n].count("mono") / n, 4)) for n in (1, 2, 3)]


@pytest.mark.slow
def test_resume_reaches_the_same_weights_and_refuses_damage(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path
) -> None:
    straight = tmp_path / "straight"
    train(_config(tiny_model_dir, toy_data_dir, straight))

    broken = tmp_path / "broken"
    config = _config(tiny_model_dir, toy_data_dir, broken)
    with pytest.raises(Crash):
        train(config, callbacks=[CrashAtStep(3)])
    assert [step for step, _ in list_checkpoints(broken / "checkpoints")] == [2]
    assert (
        json.loads((broken / TRAIN_RECORD_FILE).read_text(encoding="utf-8"))["status"] == "running"
    )

    damaged = tmp_path / "damaged"
    shutil.copytree(broken, damaged)
    weights = damaged / "checkpoints" / "checkpoint-2" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    listing = sorted(str(p.relative_to(damaged)) for p in damaged.rglob("*"))
    with pytest.raises(XmirError, match=r"checkpoint-2 is corrupted: model\.safetensors"):
        train(config.replace(out=damaged), resume=True)
    assert sorted(str(p.relative_to(damaged)) for p in damaged.rglob("*")) == listing

    with pytest.raises(XmirError, match=r"different settings.*alpha"):
        train(config.replace(alpha=0.2), resume=True)

    metadata = train(config, resume=True)
    assert metadata["status"] == "finished"
    assert [r["checkpoint"] for r in metadata["resumed_from"]] == ["checkpoint-2"]
    assert metadata["training"]["steps_this_session"] == 2
    expected, got = _weights(straight), _weights(broken)
    assert expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    assert (broken / "batches.jsonl").read_bytes() == (straight / "batches.jsonl").read_bytes()
    assert train(config, resume=True)["finished"] == metadata["finished"]  # nothing left to do


@pytest.mark.slow
def test_full_disk_while_saving_keeps_earlier_checkpoints(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = XmirTrainer._save_optimizer_and_scheduler

    def fill_disk_at_step_4(self: XmirTrainer, output_dir: str) -> None:
        if self.state.global_step == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, output_dir)

    monkeypatch.setattr(XmirTrainer, "_save_optimizer_and_scheduler", fill_disk_at_step_4)
    out = tmp_path / "full"
    config = _config(tiny_model_dir, toy_data_dir, out, mini_batch_size=2)  # GradCache path too
    with pytest.raises(XmirError, match=r"No space left on device.*earlier checkpoints are intact"):
        train(config)
    root = out / "checkpoints"
    assert [step for step, _ in list_checkpoints(root)] == [2]
    verify_checkpoint(root / "checkpoint-2")
    assert not (root / ".staging").exists()
    record = json.loads((out / TRAIN_RECORD_FILE).read_text(encoding="utf-8"))
    assert record["status"] == "running"
    assert record["loss"]["name"] == "CachedMultipleNegativesRankingLoss"


@pytest.mark.slow
def test_zero_shot_guard_on_real_data(data_dir: Path, tmp_path: Path) -> None:
    config = TrainConfig(
        model="unused",
        train_data="xquad-r",
        data_dir=data_dir,
        max_questions=10,
        out=tmp_path / "x",
        strategy="cross",
        batch_size=4,
        steps=2,
        eval_data="xquad-r",
    )
    with pytest.raises(XmirError, match="--allow-overlap"):
        prepare_run(config)
    allowed = prepare_run(config.replace(allow_overlap=True)).overlap
    assert allowed["checked"] and allowed["allowed"] and allowed["exact_matches"] > 0
    clean = prepare_run(config.replace(train_data="mlqa-r")).overlap
    assert clean["checked"] and clean["clean"]


@pytest.mark.slow
def test_evaluation_every_n_steps(
    tiny_model_dir: Path, toy_data_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "evaluated"
    config = _config(
        tiny_model_dir,
        toy_data_dir,
        out,
        steps=3,
        save_every=10,
        data_dir=data_dir,
        eval_data="xquad-r",
        eval_every=2,
        eval_max_questions=3,
    )
    metadata = train(config)
    assert metadata["plan"]["overlap_check"]["clean"]
    assert [e["step"] for e in metadata["evaluations"]] == [2, 3]  # every 2 steps and the last
    result = json.loads((out / "evals" / "step-2.json").read_text(encoding="utf-8"))
    assert result["dataset"]["queries"] == result["dataset"]["subset_sample"]["question_ids"] * 11
    summary = metadata["evaluations"][0]
    assert summary["mono_map"] == result["settings"]["mono"]["map"]
    assert 0.0 < summary["multi_map"] <= 1.0 and summary["rank_distance"] >= 0


@pytest.mark.slow
def test_a_snapshot_of_a_long_constant_rate_run_is_the_shorter_budget(
    tiny_model_dir: Path, toy_data_dir: Path, tmp_path: Path
) -> None:
    """Budgets as prefixes: with a fixed warmup and a constant rate, the model saved at step 2
    of a 4-step run equals, tensor for tensor, the model of a 2-step run."""
    budget = {"lr_schedule": "constant", "fixed_warmup_steps": 1, "save_every": 10}
    long_out, short_out = tmp_path / "long", tmp_path / "short"
    metadata = train(
        _config(tiny_model_dir, toy_data_dir, long_out, steps=4, snapshot_at=(2,), **budget)
    )
    assert metadata["optimizer"]["schedule"] == "linear warmup then constant"
    assert metadata["optimizer"]["warmup_steps"] == 1
    train(_config(tiny_model_dir, toy_data_dir, short_out, steps=2, **budget))
    snapshot = _weights(long_out / "snapshots" / "step-2")
    card = (long_out / "snapshots" / "step-2" / "README.md").read_text(encoding="utf-8")
    assert "### Realised batch mix" in card and "| steps | 2 |" in card  # the snapshot's own mix
    unsnapped = tmp_path / "unsnapped"  # saving a snapshot (and its card) changes nothing
    train(_config(tiny_model_dir, toy_data_dir, unsnapped, steps=4, **budget))
    for name, tensor in _weights(unsnapped).items():
        assert torch.equal(tensor, _weights(long_out)[name]), name
    short, final = _weights(short_out), _weights(long_out)
    assert snapshot.keys() == short.keys()
    for name, tensor in short.items():
        assert torch.equal(tensor, snapshot[name]), name
    assert any(not torch.equal(final[n], short[n]) for n in short)  # steps 3-4 changed it
