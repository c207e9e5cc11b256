"""Everything checked before the first run starts: models, plan, output folder, old results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.io import atomic_write_json
from xmir.output_guard import check_output_folder, is_sweep_folder
from xmir.paths import SWEEP_FILE
from xmir.records import read_json_object
from xmir.sweep.cost import RunCost, estimate_run
from xmir.sweep.layout import FINISHED, SweepLayout, read_status
from xmir.sweep.models import resolve_models
from xmir.sweep.plan import (
    PlannedRun,
    RateChooser,
    Shard,
    assign_shards,
    build_plan,
    config_fingerprint,
    run_config,
)
from xmir.sweep.spec import SweepSpec


@dataclass(frozen=True)
class Sweep:
    """A validated spec with its ordered runs, their configs, fingerprints and costs."""

    spec: SweepSpec
    runs: list[PlannedRun]
    configs: dict[str, dict[str, Any]]
    fingerprints: dict[str, str]
    costs: dict[str, RunCost]

    def shard(self, shard: Shard | None) -> list[PlannedRun]:
        """The runs of one shard, in sweep order (all runs without a shard)."""
        if shard is None or shard.count == 1:
            return list(self.runs)
        owners = assign_shards([self.costs[r.run_id].total_s for r in self.runs], shard.count)
        return [run for run, owner in zip(self.runs, owners, strict=True) if owner == shard.index]

    def run(self, run_id: str) -> PlannedRun:
        """The planned run with this id."""
        return next(r for r in self.runs if r.run_id == run_id)

    def dependents(self, run_id: str) -> list[PlannedRun]:
        """The combination runs that need this run's model."""
        return [r for r in self.runs if run_id in r.sources]

    def record(self) -> dict[str, Any]:
        """What ``sweep.json`` holds: the spec and the plan."""
        return {
            "xmir_sweep": 1,
            "name": self.spec.name,
            "spec": spec_record(self.spec),
            "models": list(dict.fromkeys(r.model for r in self.runs)),
            "runs": [
                {
                    "run_id": r.run_id,
                    "config_sha": self.fingerprints[r.run_id],
                    **self.configs[r.run_id],
                }
                for r in self.runs
            ],
        }


# Spec fields added after studies were committed: recorded only when used, so that a rerun
# of an earlier study rewrites its sweep.json unchanged.
_LATER_FIELDS = ("learning_rates", "holdout", "tuned_by", "combinations", "zero_shot_guard")


def spec_record(spec: SweepSpec) -> dict[str, Any]:
    """The spec as ``sweep.json`` records it."""
    record = spec.model_dump(mode="json")
    for name in _LATER_FIELDS:
        if record.get(name) in (None, []):
            record.pop(name, None)
    record["eval"] = [
        {k: v for k, v in e.items() if not (k == "split" and v == "all")} for e in record["eval"]
    ]
    return record


def plan_sweep(spec: SweepSpec, rates: RateChooser | None = None) -> Sweep:
    """Resolve the models (unknown model or empty ladder fails here) and expand the plan
    (``rates``: a tuned sweep's chosen learning rates, see :mod:`xmir.sweep.tuning`)."""
    runs = build_plan(spec, resolve_models(spec.models), rates)
    configs: dict[str, dict[str, Any]] = {}
    fingerprints: dict[str, str] = {}
    for run in runs:  # a combination comes after its sources and names their fingerprints
        config = run_config(spec, run)
        if run.sources:
            config["sources"] = {source: fingerprints[source] for source in run.sources}
        configs[run.run_id] = config
        fingerprints[run.run_id] = config_fingerprint(config)
    return Sweep(
        spec=spec,
        runs=runs,
        configs=configs,
        fingerprints=fingerprints,
        costs={r.run_id: estimate_run(spec, r) for r in runs},
    )


def check_output_dir(out: Path) -> None:
    """Fail now when ``out`` cannot hold the sweep: not a folder, not writable, or a folder
    that holds something other than xmir sweeps."""
    check_output_folder(out, owned=is_sweep_folder, what="an xmir sweep")


def check_previous_results(sweep: Sweep, layout: SweepLayout) -> None:
    """Refuse to mix results: a finished run in ``out`` must have today's exact config."""
    for run in sweep.runs:
        status = read_status(layout, run.run_id)
        if status is None or status.get("state") != FINISHED:
            continue
        if status.get("config_sha") == sweep.fingerprints[run.run_id]:
            continue
        old = status.get("config") or {}
        new = sweep.configs[run.run_id]
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["config"]
        raise XmirError(
            f"{layout.run_dir(run.run_id)} finished with a different {', '.join(changed)}; "
            "use a new --out for a changed spec (or delete that run folder to redo it)"
        )
    recorded = read_json_object(layout.root / SWEEP_FILE)
    if recorded is not None and recorded.get("name") not in (None, sweep.spec.name):
        raise XmirError(
            f"{layout.root} holds sweep {recorded.get('name')!r}, not {sweep.spec.name!r}; "
            "use a new --out"
        )


def prepare_output(sweep: Sweep, out: Path) -> SweepLayout:
    """Check ``out`` and its previous results, then record the plan in ``out/sweep.json``."""
    check_output_dir(out)
    layout = SweepLayout(out)
    check_previous_results(sweep, layout)
    layout.runs_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(layout.sweep_file, sweep.record())
    return layout
