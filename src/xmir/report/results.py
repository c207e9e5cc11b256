"""Read a sweep (or a study of several sweeps) back: finished runs and their evaluations.

A run trained for N steps with shorter budgets in ``budget.eval_at`` yields one
:class:`RunResult` per evaluated budget (the model at step k of a constant-rate run is the
k-step model). A study folder holds several sweep folders (``xmir sweep A.yaml B.yaml``); its
results are pooled, and an evaluated model that two sweeps both produced (same model,
strategy, batch size, seed and budget) is kept once, its agreement recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.evaluate.result import EvalResult, ModelRecord
from xmir.paths import SWEEP_FILE
from xmir.records import read_json_object
from xmir.sweep.batch_mix import summarise_batches
from xmir.sweep.layout import FAILED, FINISHED, SweepLayout, read_status
from xmir.sweep.plan import BASELINE, strategy_label
from xmir.sweep.run_record import KeptTraining, RunBudget, RunRecord
from xmir.sweep.tuning import is_tuning_record
from xmir.train.record import BatchMix


@dataclass(frozen=True)
class RunResult:
    """One finished run with its evaluation documents (``evals[dataset]``)."""

    run_id: str
    model: str
    model_label: str
    strategy: str
    alpha: float | None
    batch_size: int | None
    seed: int | None
    total_params: int | None
    non_embedding_params: int | None
    model_description: str | None
    evals: dict[str, EvalResult]
    batch_mix: BatchMix | None
    steps: int = 0  # the evaluated budget in optimizer steps (0: the untrained encoder)
    sweep: str = ""
    lr: float | None = None
    temperature: float | None = None
    finished: str = ""  # when the run finished (ISO 8601), from its result.json

    @property
    def identity(self) -> tuple[Any, ...]:
        """What makes two results the same evaluated model."""
        return (
            self.model,
            self.strategy_label,
            self.batch_size,
            self.seed,
            self.steps,
            self.lr,
            self.temperature,
        )

    @property
    def strategy_label(self) -> str:
        return strategy_label(self.strategy, self.alpha)

    @property
    def is_baseline(self) -> bool:
        return self.strategy == BASELINE


@dataclass(frozen=True)
class SweepResults:
    """What a report is made of: the recorded spec, finished runs, and what is missing."""

    root: Path
    name: str
    spec: dict[str, Any]
    runs: list[RunResult]
    failed: dict[str, str] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)
    specs: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def budgets(self) -> list[int]:
        """Evaluated training budgets (steps) of the fine-tuned runs, shortest first."""
        return sorted({r.steps for r in self.runs if not r.is_baseline})

    @property
    def main_budget(self) -> int | None:
        """The budget evaluated at the most model sizes (the shortest on a tie)."""
        sizes = {b: len({r.model for r in self.runs if r.steps == b}) for b in self.budgets}
        return max(self.budgets, key=lambda b: (sizes[b], -b)) if self.budgets else None

    def at_budget(self, steps: int | None) -> SweepResults:
        """The untrained runs plus the runs evaluated at ``steps``."""
        chosen = [r for r in self.runs if r.is_baseline or r.steps == steps]
        return replace(self, runs=chosen)

    @property
    def datasets(self) -> list[str]:
        """Evaluation datasets in spec order."""
        return [e["dataset"] for e in self.spec.get("eval", [])]

    @property
    def models(self) -> list[str]:
        """Models with at least one finished run, smallest (non-embedding params) first."""
        sizes: dict[str, float] = {}
        for run in self.runs:
            sizes.setdefault(run.model, float(run.non_embedding_params or 0))
        return sorted(sizes, key=lambda m: (sizes[m], m))


def sweep_folders(root: Path) -> list[Path]:
    """``root`` itself when it is a sweep folder, else its sub-folders that are (a study)."""
    root = Path(root)
    if (root / SWEEP_FILE).is_file():
        return [root]
    found = sorted(p for p in root.glob("*") if (p / SWEEP_FILE).is_file())
    if not found:
        raise XmirError(
            f"{root}: no sweep.json here or in its sub-folders; is this a folder made by "
            "`xmir sweep`?"
        )
    return found


def load_results(root: Path) -> SweepResults:
    """All finished runs of the sweep (or study) in ``root``; failures and gaps listed.

    Tuning sweeps (evaluated on a development split) are left out: they choose settings,
    and the report shows them in their own section.
    """
    folders = [
        f
        for f in sweep_folders(root)
        if not is_tuning_record(read_json_object(f / SWEEP_FILE) or {})
    ]
    parts = [_load_sweep(folder) for folder in folders]
    if not any(part.runs for part in parts):
        raise XmirError(f"{root}: no finished runs yet; run `xmir sweep` first")
    if len(parts) == 1:
        return parts[0]
    runs: dict[tuple[Any, ...], RunResult] = {}
    duplicates: list[dict[str, Any]] = []
    for part in parts:
        for run in part.runs:
            kept = runs.setdefault(run.identity, run)
            if kept is not run:
                duplicates.append(_agreement(kept, run))
    return SweepResults(
        Path(root),
        Path(root).name,
        parts[0].spec,
        list(runs.values()),
        {k: v for part in parts for k, v in part.failed.items()},
        [f"{part.name}/{run_id}" for part in parts for run_id in part.unfinished],
        [part.spec for part in parts],
        duplicates,
    )


def _agreement(kept: RunResult, other: RunResult) -> dict[str, Any]:
    """How far two results of the same evaluated model are apart (0 for a deterministic run)."""
    gaps = [
        abs(kept.evals[d].metric(s) - other.evals[d].metric(s))
        for d in kept.evals
        if d in other.evals
        for s in ("mono", "cross", "multi")
    ]
    return {
        "kept": f"{kept.sweep}/{kept.run_id}@{kept.steps}",
        "dropped": f"{other.sweep}/{other.run_id}@{other.steps}",
        "max_abs_map_difference": max(gaps) if gaps else None,
    }


def _load_sweep(root: Path) -> SweepResults:
    layout = SweepLayout(Path(root))
    recorded = read_json_object(layout.sweep_file)
    if recorded is None or "runs" not in recorded:
        raise XmirError(f"{root}: no readable sweep.json; is this a folder made by `xmir sweep`?")
    runs: list[RunResult] = []
    failed: dict[str, str] = {}
    unfinished: list[str] = []
    name = recorded.get("name", layout.root.name)
    for planned in recorded["runs"]:
        run_id = planned["run_id"]
        status = read_status(layout, run_id) or {}
        state = status.get("state")
        if state == FINISHED and status.get("config_sha") == planned.get("config_sha"):
            loaded = _load_run(layout, run_id, name)
            if loaded is not None:
                runs.extend(loaded)
                continue
        if state == FAILED:
            failed[run_id] = str(status.get("error", "unknown error"))
        else:
            unfinished.append(run_id)
    spec = recorded.get("spec", {})
    return SweepResults(layout.root, name, spec, runs, failed, unfinished, [spec])


def _load_run(layout: SweepLayout, run_id: str, sweep: str) -> list[RunResult] | None:
    """One result per evaluated budget of the run (None when a file is unreadable)."""
    result = RunRecord.read(layout.result_file(run_id))
    if result is None:
        return None
    config = result.config
    budget = config.budget or RunBudget()
    is_baseline = (config.strategy or BASELINE) == BASELINE
    by_budget = result.budgets
    if is_baseline or not by_budget:
        by_budget = {str(0 if is_baseline else budget.steps or 0): result.evals}
    model = result.model or ModelRecord()
    loaded: list[RunResult] = []
    for steps, files in sorted(by_budget.items(), key=lambda kv: int(kv[0])):
        evals: dict[str, EvalResult] = {}
        for dataset, name in files.items():
            payload = EvalResult.read(layout.run_dir(run_id) / name)
            if payload is None:
                return None
            evals[dataset] = payload
        loaded.append(
            RunResult(
                run_id=run_id,
                model=config.model or model.spec or "?",
                model_label=result.model_label or run_id,
                strategy=config.strategy or BASELINE,
                alpha=config.alpha,
                batch_size=config.batch_size,
                seed=config.seed,
                total_params=model.total_params,
                non_embedding_params=model.non_embedding_params,
                model_description=model.description,
                evals=evals,
                batch_mix=_mix_at(layout, run_id, result.train, int(steps)),
                steps=int(steps),
                sweep=sweep,
                lr=None if is_baseline else budget.lr,
                temperature=None if is_baseline else budget.temperature,
                finished=result.finished or "",
            )
        )
    return loaded


def _mix_at(
    layout: SweepLayout, run_id: str, train: KeptTraining | None, steps: int
) -> BatchMix | None:
    """The batch mix of the first ``steps`` steps (what a budget's snapshot was trained on),
    from the run's kept ``batches.jsonl``; the whole run's mix when that file is gone."""
    mix = train.batch_mix if train is not None else None
    if mix is None or train is None or not steps or (mix.steps or 0) <= steps or not train.batches:
        return mix
    path = layout.run_dir(run_id) / train.batches
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return summarise_batches(candidate, max_step=steps)
    return mix
