"""Execute a sweep: one process per step, one status file per run, resumable and kill-safe.

A run goes ``running`` -> (train, eval per set) -> ``result.json`` -> ``finished``. A run that
fails is recorded as ``failed`` with its error and the sweep goes on, and is redone from
scratch next time. A run cut off by Ctrl-C, SIGTERM or a kill while training continues from
its last verified checkpoint (``xmir train --resume``) when its config is unchanged.
"""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from xmir.errors import XmirError
from xmir.evaluate.result import EvalResult, ModelRecord
from xmir.io import atomic_write_bytes
from xmir.paths import RUN_RESULT_FILE, RUN_STATUS_FILE, TRAIN_BATCHES_FILE, TRAIN_RECORD_FILE
from xmir.provenance import utc_now
from xmir.sweep.batch_mix import summarise_batches
from xmir.sweep.commands import DEFAULT_CLI, MODEL_DIR, SOURCES_DIR, Step, run_steps
from xmir.sweep.layout import (
    FAILED,
    FINISHED,
    INTERRUPTED,
    RUNNING,
    SweepLayout,
    eval_file_name,
    is_finished,
    read_status,
    write_status,
)
from xmir.sweep.plan import PlannedRun, Shard
from xmir.sweep.prepare import Sweep
from xmir.sweep.process import child_env, error_line, run_logged, sigterm_as_interrupt
from xmir.sweep.run_record import KeptTraining, RunRecord
from xmir.train.checkpoints import list_checkpoints
from xmir.train.config import CHECKPOINT_DIR
from xmir.train.record import TrainRecord

TRAIN_RECORDS = (TRAIN_RECORD_FILE, TRAIN_BATCHES_FILE)  # kept in run/train/ after the weights go
SKIPPED, BUSY, WAITING = "skipped", "busy", "waiting"


@dataclass(frozen=True)
class RunnerOptions:
    """How to execute: where, which shard, what to keep, which ``xmir`` to call."""

    keep_models: bool = False
    shard: Shard | None = None
    cli: tuple[str, ...] = DEFAULT_CLI
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one run in this invocation."""

    run_id: str
    state: str  # finished | failed | skipped (done before) | busy (another process has it)
    # | waiting (a tuned run whose tuning sweeps have not finished)
    error: str | None = None
    seconds: float = 0.0
    resumed_from: str | None = None  # the checkpoint an unfinished run continued from


class SweepEvents(Protocol):
    """Progress hooks (the CLI draws a Rich progress bar with them)."""

    def run_started(self, run: PlannedRun, position: int, total: int) -> None: ...

    def step_started(self, run: PlannedRun, step: Step) -> None: ...

    def run_ended(self, run: PlannedRun, outcome: RunOutcome) -> None: ...


class _Silent:
    def run_started(self, run: PlannedRun, position: int, total: int) -> None:
        pass

    def step_started(self, run: PlannedRun, step: Step) -> None:
        pass

    def run_ended(self, run: PlannedRun, outcome: RunOutcome) -> None:
        pass


def run_sweep(
    sweep: Sweep,
    layout: SweepLayout,
    options: RunnerOptions | None = None,
    events: SweepEvents | None = None,
) -> list[RunOutcome]:
    """Run every unfinished run of this shard in order; returns one outcome per run.

    Ctrl-C or SIGTERM stops the run in progress (recorded as ``interrupted``) and re-raises
    KeyboardInterrupt; finished runs are never touched again.
    """
    options = options or RunnerOptions()
    events = events or _Silent()
    selected = sweep.shard(options.shard)
    outcomes: list[RunOutcome] = []
    with sigterm_as_interrupt():
        for position, run in enumerate(selected):
            events.run_started(run, position, len(selected))
            outcome = _run_once(sweep, layout, run, options, events)
            outcomes.append(outcome)
            events.run_ended(run, outcome)
    return outcomes


def _run_once(
    sweep: Sweep, layout: SweepLayout, run: PlannedRun, options: RunnerOptions, events: SweepEvents
) -> RunOutcome:
    fingerprint = sweep.fingerprints[run.run_id]
    if run.waiting:
        return RunOutcome(run.run_id, WAITING, error="its learning rate is not tuned yet")
    if is_finished(layout, run.run_id, fingerprint):
        return RunOutcome(run.run_id, SKIPPED)
    with _run_lock(layout.lock_file(run.run_id)) as locked:
        if not locked:
            return RunOutcome(run.run_id, BUSY)
        if is_finished(layout, run.run_id, fingerprint):  # finished while we waited
            return RunOutcome(run.run_id, SKIPPED)
        return _execute(sweep, layout, run, options, events)


def _execute(
    sweep: Sweep, layout: SweepLayout, run: PlannedRun, options: RunnerOptions, events: SweepEvents
) -> RunOutcome:
    run_dir = layout.run_dir(run.run_id)
    checkpoint = resumable_checkpoint(layout, run, sweep.fingerprints[run.run_id])
    if checkpoint is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
    sources = [sweep.run(source) for source in run.sources]
    steps = run_steps(sweep.spec, run, layout, resume=checkpoint is not None, sources=sources)
    status: dict[str, Any] = {
        "run_id": run.run_id,
        "state": RUNNING,
        "config_sha": sweep.fingerprints[run.run_id],
        "config": sweep.configs[run.run_id],
        "started": utc_now(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "commands": [shlex.join(["xmir", *step.args]) for step in steps],
    }
    if checkpoint is not None:
        status["resumed_from"] = checkpoint.name
    write_status(layout, run.run_id, status)
    env = child_env({**options.env, "XMIR_SWEEP_RUN_ID": run.run_id})
    clock = time.perf_counter()
    step_seconds: dict[str, float] = {}
    try:
        for step in steps:
            events.step_started(run, step)
            step_clock = time.perf_counter()
            code = run_logged([*options.cli, *step.args], run_dir / step.log_name, env)
            step_seconds[step.name] = round(time.perf_counter() - step_clock, 3)
            if code != 0:
                error = f"{step.name} exited with {code}: {error_line(run_dir / step.log_name)}"
                return _fail(layout, status, error, clock, step=step.name, options=options)
        try:
            result = _collect(sweep, layout, run, step_seconds)
        except (XmirError, OSError) as error:  # e.g. a corrupt batches.jsonl: this run fails
            result = f"collecting the results failed: {error}"
        if isinstance(result, str):
            return _fail(layout, status, result, clock, step="collect", options=options)
        compress_run_files(run_dir)
        result.to_disk(layout.result_file(run.run_id))
        shutil.rmtree(run_dir / SOURCES_DIR, ignore_errors=True)
        if not options.keep_models:
            _drop_unneeded_models(sweep, layout, [run.run_id, *run.sources], finishing=run)
    except KeyboardInterrupt:
        _end(layout, status, INTERRUPTED, clock, error="interrupted (Ctrl-C or SIGTERM)")
        raise
    seconds = _end(layout, status, FINISHED, clock)
    resumed = checkpoint.name if checkpoint is not None else None
    return RunOutcome(run.run_id, FINISHED, seconds=seconds, resumed_from=resumed)


def _drop_unneeded_models(
    sweep: Sweep, layout: SweepLayout, run_ids: list[str], *, finishing: PlannedRun
) -> None:
    """Delete the models of ``run_ids`` that no unfinished combination run still needs."""
    for run_id in run_ids:
        waiting = [
            d
            for d in sweep.dependents(run_id)
            if d.run_id != finishing.run_id
            and not is_finished(layout, d.run_id, sweep.fingerprints[d.run_id])
        ]
        if not waiting:
            shutil.rmtree(layout.run_dir(run_id) / MODEL_DIR, ignore_errors=True)


def resumable_checkpoint(layout: SweepLayout, run: PlannedRun, fingerprint: str) -> Path | None:
    """The last checkpoint of an unfinished attempt at ``run`` that training can continue
    from: the attempt was cut off (``running`` or ``interrupted``, not ``failed``), with this
    very config, after writing a checkpoint. None: start from an empty run folder."""
    status = read_status(layout, run.run_id)
    if not run.trains or status is None or status.get("config_sha") != fingerprint:
        return None
    if status.get("state") not in (RUNNING, INTERRUPTED):
        return None
    checkpoints = list_checkpoints(layout.run_dir(run.run_id) / MODEL_DIR / CHECKPOINT_DIR)
    return checkpoints[-1][1] if checkpoints else None


def _fail(
    layout: SweepLayout,
    status: dict[str, Any],
    error: str,
    clock: float,
    *,
    step: str,
    options: RunnerOptions,
) -> RunOutcome:
    """Record the failure; a failed run's weights go too (a redo retrains from scratch)."""
    if not options.keep_models:
        shutil.rmtree(layout.run_dir(status["run_id"]) / MODEL_DIR, ignore_errors=True)
    seconds = _end(layout, status, FAILED, clock, error=error, step=step)
    return RunOutcome(status["run_id"], FAILED, error=error, seconds=seconds)


def _end(
    layout: SweepLayout, status: dict[str, Any], state: str, clock: float, **extra: Any
) -> float:
    seconds = round(time.perf_counter() - clock, 3)
    status.update(state=state, ended=utc_now(), seconds=seconds, **extra)
    write_status(layout, status["run_id"], status)
    return seconds


def _collect(
    sweep: Sweep, layout: SweepLayout, run: PlannedRun, step_seconds: dict[str, float]
) -> RunRecord | str:
    """The run's ``result.json``, or an error message when an expected output is missing."""
    run_dir = layout.run_dir(run.run_id)
    evals: dict[str, str] = {}
    budgets: dict[str, dict[str, str]] = {}
    model_record: ModelRecord | None = None
    shorter = [] if run.is_baseline else sweep.spec.budget.eval_at  # snapshots, combinations
    for budget in [*shorter, None]:
        for eval_set in sweep.spec.eval:
            name = eval_file_name(eval_set.key, budget)
            payload = EvalResult.read(run_dir / name)
            if payload is None or "settings" not in payload.model_fields_set:
                return f"eval on {eval_set.key} wrote no readable result ({name})"
            if budget is None:
                evals[eval_set.key] = name
                if "model" in payload.model_fields_set:
                    model_record = model_record or payload.model
            else:
                budgets.setdefault(str(budget), {})[eval_set.key] = name
    if not run.is_baseline:
        budgets[str(sweep.spec.budget.steps)] = dict(evals)
    if run.is_combination:
        model_record = _combination_model_record(model_record or ModelRecord(), run)
    train: KeptTraining | None = None
    if run.trains:
        kept = _keep_train_records(run_dir)
        if isinstance(kept, str):
            return kept
        train = kept
        model_record = _fine_tuned_model_record(model_record or ModelRecord(), run, run_dir)
    return RunRecord.model_validate(
        {
            "xmir_sweep_run": RunRecord.SCHEMA_VERSION,
            "sweep": sweep.spec.name,
            "run_id": run.run_id,
            "config_sha": sweep.fingerprints[run.run_id],
            "config": sweep.configs[run.run_id],
            "model_label": run.model_label,
            "strategy_label": run.strategy_label,
            "model": model_record,
            "evals": evals,
            "budgets": budgets,
            "train": train,
            "time_s": step_seconds,
            "finished": utc_now(),
        }
    )


def _combination_model_record(evaluated: ModelRecord, run: PlannedRun) -> ModelRecord:
    """A combination's record: its size is one member's (the size it is compared at; an
    ensemble runs both members, recorded as ``members_non_embedding_params``)."""
    fields = evaluated.to_dict()
    record = {**fields, "spec": run.model, "evaluated_path": fields.get("spec")}
    if run.strategy == "ensemble":
        record["members_total_params"] = fields.get("total_params")
        record["members_non_embedding_params"] = fields.get("non_embedding_params")
        for key in ("total_params", "non_embedding_params"):
            if isinstance(fields.get(key), int):
                record[key] = fields[key] // 2
    return ModelRecord.model_validate(record)


def _fine_tuned_model_record(evaluated: ModelRecord, run: PlannedRun, run_dir: Path) -> ModelRecord:
    """The evaluated model's record, named after the model it was fine-tuned from."""
    trained = TrainRecord.read(run_dir / "train" / TRAIN_RECORD_FILE)
    base = trained.model if trained is not None else None
    fields = evaluated.to_dict()
    return ModelRecord.model_validate(
        {
            **fields,
            "spec": run.model,
            "description": f"{(base and base.description) or run.model}, fine-tuned "
            f"({run.strategy_label})",
            "evaluated_path": fields.get("spec"),
            "base_weights_sha256": base.weights_sha256 if base is not None else None,
        }
    )


def _keep_train_records(run_dir: Path) -> KeptTraining | str:
    """Copy the train metadata and batch log next to the results; summarise the batch mix."""
    model_dir, kept = run_dir / MODEL_DIR, run_dir / "train"
    kept.mkdir(exist_ok=True)
    for name in TRAIN_RECORDS:
        if not (model_dir / name).is_file():
            return f"train wrote no {name} in {model_dir}"
        shutil.copy2(model_dir / name, kept / name)
    metadata = TrainRecord.read(kept / TRAIN_RECORD_FILE)
    given = metadata.model_fields_set if metadata is not None else set()
    return KeptTraining.model_validate(
        {
            "metadata": f"train/{TRAIN_RECORD_FILE}",
            "batches": f"train/{TRAIN_BATCHES_FILE}",
            "status": metadata.status if metadata is not None and "status" in given else None,
            "training": metadata.training if metadata is not None else None,
            "batch_mix": summarise_batches(kept / TRAIN_BATCHES_FILE),
        }
    )


COMPRESSED_SUFFIXES = (".json", ".jsonl", ".log")
UNCOMPRESSED = frozenset({RUN_STATUS_FILE, RUN_RESULT_FILE})


def compress_run_files(run_dir: Path) -> None:
    """Gzip a finished run's evaluation results, batch log and logs (not its status or
    result file), so a study folder can be committed; readers find ``NAME.gz``."""
    for path in sorted(run_dir.rglob("*")):
        if MODEL_DIR in path.relative_to(run_dir).parts[:1]:
            continue
        if path.is_file() and path.suffix in COMPRESSED_SUFFIXES and path.name not in UNCOMPRESSED:
            target = path.with_name(path.name + ".gz")
            atomic_write_bytes(target, gzip.compress(path.read_bytes(), mtime=0))
            path.unlink()


@contextmanager
def _run_lock(path: Path) -> Iterator[bool]:
    """An exclusive, non-blocking lock on ``path``: yields False when another process holds it.

    The kernel drops the lock when its holder dies, so a killed sweep never blocks a rerun.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
