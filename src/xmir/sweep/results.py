"""Read a sweep folder back: the plan, the finished runs and their evaluation results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.sweep.layout import FAILED, FINISHED, SweepLayout, read_json, read_status
from xmir.sweep.plan import BASELINE, strategy_label


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
    evals: dict[str, dict[str, Any]]
    batch_mix: dict[str, Any] | None

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


def load_results(root: Path) -> SweepResults:
    """All finished runs of the sweep in ``root`` (plan order); failures and gaps listed."""
    layout = SweepLayout(Path(root))
    recorded = read_json(layout.sweep_file)
    if recorded is None or "runs" not in recorded:
        raise XmirError(f"{root}: no readable sweep.json; is this a folder made by `xmir sweep`?")
    runs: list[RunResult] = []
    failed: dict[str, str] = {}
    unfinished: list[str] = []
    for planned in recorded["runs"]:
        run_id = planned["run_id"]
        status = read_status(layout, run_id) or {}
        state = status.get("state")
        if state == FINISHED and status.get("config_sha") == planned.get("config_sha"):
            loaded = _load_run(layout, run_id)
            if loaded is not None:
                runs.append(loaded)
                continue
        if state == FAILED:
            failed[run_id] = str(status.get("error", "unknown error"))
        else:
            unfinished.append(run_id)
    if not runs:
        raise XmirError(f"{root}: no finished runs yet; run `xmir sweep` first")
    return SweepResults(
        layout.root,
        recorded.get("name", layout.root.name),
        recorded.get("spec", {}),
        runs,
        failed,
        unfinished,
    )


def _load_run(layout: SweepLayout, run_id: str) -> RunResult | None:
    result = read_json(layout.result_file(run_id))
    if result is None:
        return None
    config = result.get("config", {})
    evals: dict[str, dict[str, Any]] = {}
    for dataset, name in (result.get("evals") or {}).items():
        payload = read_json(layout.run_dir(run_id) / name)
        if payload is None:
            return None
        evals[dataset] = payload
    model = result.get("model") or {}
    train = result.get("train") or {}
    return RunResult(
        run_id=run_id,
        model=config.get("model", model.get("spec", "?")),
        model_label=result.get("model_label", run_id),
        strategy=config.get("strategy", BASELINE),
        alpha=config.get("alpha"),
        batch_size=config.get("batch_size"),
        seed=config.get("seed"),
        total_params=model.get("total_params"),
        non_embedding_params=model.get("non_embedding_params"),
        model_description=model.get("description"),
        evals=evals,
        batch_mix=train.get("batch_mix"),
    )
