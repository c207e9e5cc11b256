"""Trainer callbacks: a progress bar with loss and realised batch mix; periodic LAReQA eval;
model snapshots at chosen steps (budgets as prefixes of one run); checkpoint manifests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from xmir.evaluate.result import EvalResult
from xmir.train.checkpoints import CHECKPOINT_PREFIX, fsync_dir, rotate, write_manifest
from xmir.train.config import SNAPSHOT_DIR

__all__ = [
    "SNAPSHOT_DIR",
    "CheckpointManifests",
    "LareqaEvalCallback",
    "MixProgressCallback",
    "SnapshotCallback",
]
from xmir.train.sampling import GlobalBatch


class MixProgressCallback(TrainerCallback):
    """One tqdm bar (main process only): last logged loss, this step's batch, and the share
    of monolingual pairs so far."""

    def __init__(self, batches: Sequence[GlobalBatch]) -> None:
        self.batches = batches
        self.bar: tqdm | None = None
        self.loss: float | None = None
        self.postfix: dict[str, Any] = {}
        self.mono_pairs = self.pairs = 0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control, **kwargs):
        if state.is_world_process_zero:
            done = state.global_step
            self.mono_pairs = sum(batch.mono_pairs for batch in self.batches[:done])
            self.pairs = sum(len(batch.pairs) for batch in self.batches[:done])
            self.bar = tqdm(total=state.max_steps, initial=done, desc="train", unit="step")

    def on_log(self, args, state, control, logs: dict[str, float] | None = None, **kwargs):
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])
            if self.bar is not None:  # the Trainer logs after the step ended: show it now
                self.postfix["loss"] = f"{self.loss:.4f}"
                self.bar.set_postfix(self.postfix)

    def on_step_end(self, args, state: TrainerState, control: TrainerControl, **kwargs):
        if self.bar is None or not 0 < state.global_step <= len(self.batches):
            return
        batch = self.batches[state.global_step - 1]
        self.mono_pairs += batch.mono_pairs
        self.pairs += len(batch.pairs)
        label = f"mono:{batch.pairs[0].query_lang}" if batch.kind == "mono" else batch.kind
        self.postfix = {"batch": label, "mono": f"{self.mono_pairs / max(self.pairs, 1):.2f}"}
        if self.loss is not None:
            self.postfix["loss"] = f"{self.loss:.4f}"
        self.bar.set_postfix(self.postfix, refresh=False)
        self.bar.update(1)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LareqaEvalCallback(TrainerCallback):
    """Every ``every`` steps (and at the last step) evaluate on a LAReQA set on the main
    process; each result is written to ``out/evals/step-<N>.json``."""

    def __init__(
        self,
        every: int,
        evaluate: Callable[[Any], EvalResult],
        out: Path,
    ) -> None:
        self.every = every
        self.evaluate = evaluate
        self.out = Path(out)
        self.summaries: list[dict[str, Any]] = []

    def on_step_end(self, args, state: TrainerState, control: TrainerControl, **kwargs):
        step = state.global_step
        if not (step % self.every == 0 or step == state.max_steps):
            return
        if not state.is_world_process_zero:
            return
        model = kwargs["model"]
        result = self.evaluate(getattr(model, "module", model))
        result.to_disk(self.out / "evals" / f"step-{step}.json")
        summary = {"step": step, **eval_summary(result)}
        self.summaries.append(summary)
        tqdm.write(
            f"step {step}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in summary.items() if isinstance(v, float))
        )


def eval_summary(result: EvalResult) -> dict[str, Any]:
    """mono / cross / multi mAP and rank distance from a LAReQA result."""
    settings = result.settings
    summary: dict[str, Any] = {
        f"{name}_map": settings[name].extra("map")
        for name in ("mono", "cross", "multi")
        if name in settings
    }
    if result.bias is not None and "rank_distance" in result.bias.model_fields_set:
        summary["rank_distance"] = result.bias.rank_distance
    return summary


def with_model(loaded: Any, model: Any) -> Any:
    """A copy of a LoadedModel record that points at ``model`` (the weights being trained)."""
    return dataclasses.replace(loaded, model=model)


class SnapshotCallback(TrainerCallback):
    """Save the model being trained at the given steps to ``out/step-<N>`` (main process).

    With a constant learning rate after a fixed warmup, the model at step N of a long run is
    the model an N-step run would have trained, so one run yields every shorter budget.
    """

    def __init__(self, steps: Sequence[int], out: Path, save: Callable[[Any, Path], None]):
        self.steps = frozenset(steps)
        self.out = Path(out)
        self.save = save

    def on_step_end(self, args, state: TrainerState, control: TrainerControl, **kwargs):
        if state.global_step not in self.steps or not state.is_world_process_zero:
            return
        model = kwargs["model"]
        target = self.out / f"step-{state.global_step}"
        target.mkdir(parents=True, exist_ok=True)
        self.save(getattr(model, "module", model), target)


class CheckpointManifests(TrainerCallback):
    """Seal each checkpoint the Trainer writes with its manifest, then keep the newest
    ``keep`` sealed ones.

    The Trainer is given ``save_total_limit = keep + 1``: it rotates before ``on_save``, while
    the newest checkpoint has no manifest yet, so the previous sealed one always survives
    until the new one is sealed. ``saving`` is the step whose save is under way (None
    otherwise), for a clear message when a save fails.
    """

    def __init__(self, root: Path, keep: int, extra: dict[str, Any] | None = None) -> None:
        self.root = Path(root)
        self.keep = keep
        self.extra = dict(extra or {})
        self.saving: int | None = None

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs
    ):
        if control.should_save:
            self.saving = state.global_step

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs
    ):
        from accelerate import PartialState

        distributed = PartialState()
        distributed.wait_for_everyone()  # every rank has written its part (RNG states)
        if state.is_world_process_zero:
            folder = self.root / f"{CHECKPOINT_PREFIX}{state.global_step}"
            write_manifest(folder, state.global_step, self.extra)
            fsync_dir(self.root)
            rotate(self.root, self.keep)
        distributed.wait_for_everyone()
        self.saving = None
