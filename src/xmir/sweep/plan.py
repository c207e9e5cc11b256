"""A validated spec -> the ordered list of runs, each with a stable, readable id.

Order: model by model (ladder order), the untrained baseline first, then batch size, then
strategy (spec order; one that takes alpha once per alpha), then seed. The order and the ids
depend only on the spec, so shards, resumes and reports always agree on what run ``X`` is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from xmir.errors import XmirError
from xmir.models.combined import COMBINE_KINDS
from xmir.models.spec import model_label
from xmir.sweep.spec import SweepSpec
from xmir.train.strategies import CROSS, MONO, STRATEGIES, takes_alpha

BASELINE = "none"
# Strategies whose label carries alpha: hybrid batches, and the weight-average and score-ensemble
# baselines built from the mono and cross models (``wavg0.5``, ``ensemble0.5``).


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: fine-tune (unless baseline) then evaluate on every eval set."""

    run_id: str
    model: str
    model_label: str
    strategy: str  # "none" (untrained baseline), a registry strategy or a combination kind
    alpha: float | None
    batch_size: int | None
    seed: int | None
    lr: float | None = None  # None: the budget's (or, in a tuned sweep, not chosen yet)
    temperature: float | None = None  # None: the budget's
    waiting: bool = False  # a tuned run whose tuning has not finished: cannot run yet
    sources: tuple[str, ...] = ()  # a combination: the (mono, cross) run ids it combines

    @property
    def is_baseline(self) -> bool:
        return self.strategy == BASELINE

    @property
    def is_combination(self) -> bool:
        """A weight average or score ensemble of two runs' models (evaluation only)."""
        return self.strategy in COMBINE_KINDS

    @property
    def trains(self) -> bool:
        return not self.is_baseline and not self.is_combination

    @property
    def strategy_label(self) -> str:
        """``mono``, ``cross``, ``hybrid0.5`` or ``none``."""
        return strategy_label(self.strategy, self.alpha)


def strategy_label(strategy: str, alpha: float | None) -> str:
    """The short name of a strategy as used in run ids and reports (``hybrid0.5``,
    ``wavg0.5``)."""
    if strategy in STRATEGIES:
        return STRATEGIES[strategy].label(alpha)
    return f"{strategy}{alpha:g}" if strategy in COMBINE_KINDS and alpha is not None else strategy


def build_plan(
    spec: SweepSpec, models: list[str], rates: RateChooser | None = None
) -> list[PlannedRun]:
    """Every run of ``spec`` over the resolved ``models``, in the deterministic sweep order.

    With ``learning_rates`` each rate is one more run (``-lrVALUE`` before the seed); in a
    tuned sweep ``rates`` gives each run its (lr, temperature), or None while not chosen.
    """
    labels = [model_label(m) for m in models]
    _check_unique_labels(models, labels)
    runs: list[PlannedRun] = []
    grid: list[float | None] = list(spec.learning_rates or [None])
    for model, label in zip(models, labels, strict=True):
        if spec.include_untrained:
            runs.append(PlannedRun(f"{label}-{BASELINE}", model, label, BASELINE, None, None, None))
        for batch in spec.batch_sizes:
            if spec.combinations:
                runs += _seed_by_seed(spec, model, label, batch, rates)
                continue
            for strategy, alpha in _strategies(spec):
                for lr in grid:
                    for seed in spec.seeds:
                        runs.append(
                            _trained(spec, model, label, (strategy, alpha), batch, seed, lr, rates)
                        )
    return runs


def _trained(
    spec: SweepSpec,
    model: str,
    label: str,
    strategy: tuple[str, float | None],
    batch: int,
    seed: int,
    lr: float | None,
    rates: RateChooser | None,
) -> PlannedRun:
    name = strategy_label(*strategy)
    rate = "" if lr is None else f"-lr{lr:g}"
    run_id = f"{label}-{name}-b{batch}{rate}-s{seed}"
    run = PlannedRun(run_id, model, label, strategy[0], strategy[1], batch, seed, lr)
    return _tuned(run, rates) if spec.tuned_by else run


def _seed_by_seed(
    spec: SweepSpec, model: str, label: str, batch: int, rates: RateChooser | None
) -> list[PlannedRun]:
    """With combinations: seed by seed, every strategy, then the combinations of that seed's
    mono and cross models (so those two models wait on disk for minutes, not hours)."""
    runs: list[PlannedRun] = []
    for seed in spec.seeds:
        trained = {
            strategy: _trained(spec, model, label, strategy, batch, seed, None, rates)
            for strategy in _strategies(spec)
        }
        runs += trained.values()
        mono, cross = trained[(MONO, None)], trained[(CROSS, None)]
        for kind in spec.combinations:
            for alpha in spec.hybrid_alphas:
                run_id = f"{label}-{strategy_label(kind, alpha)}-b{batch}-s{seed}"
                runs.append(
                    PlannedRun(
                        run_id, model, label, kind, alpha, batch, seed,
                        waiting=mono.waiting or cross.waiting,
                        sources=(mono.run_id, cross.run_id),
                    )
                )  # fmt: skip
    return runs


# (model, strategy, alpha, batch size) -> the chosen (lr, temperature), None while unknown
RateChooser = Callable[[PlannedRun], "tuple[float, float] | None"]


def _tuned(run: PlannedRun, rates: RateChooser | None) -> PlannedRun:
    chosen = rates(run) if rates is not None else None
    if chosen is None:
        return replace(run, waiting=True)
    return replace(run, lr=chosen[0], temperature=chosen[1])


def _strategies(spec: SweepSpec) -> list[tuple[str, float | None]]:
    expanded: list[tuple[str, float | None]] = []
    for strategy in spec.strategies:
        if takes_alpha(strategy):
            expanded.extend((strategy, alpha) for alpha in spec.hybrid_alphas)
        else:
            expanded.append((strategy, None))
    return expanded


def _check_unique_labels(models: list[str], labels: list[str]) -> None:
    seen: dict[str, str] = {}
    for model, label in zip(models, labels, strict=True):
        if label in seen:
            raise XmirError(
                f"models: {seen[label]!r} and {model!r} both give the run-id label {label!r}; "
                "rename one of the model folders"
            )
        seen[label] = model


def run_config(spec: SweepSpec, run: PlannedRun) -> dict[str, Any]:
    """Everything that determines a run's result (what a resume must find unchanged)."""
    config: dict[str, Any] = {
        "run_id": run.run_id,
        "model": run.model,
        "strategy": run.strategy,
        "eval": [e.record() for e in spec.eval],
        "extra_eval_args": list(spec.extra_eval_args),
    }
    if run.is_combination:  # the sources' fingerprints are added by the planner
        config.update(alpha=run.alpha, batch_size=run.batch_size, seed=run.seed)
        if spec.budget.eval_at:  # evaluated at the sources' snapshots too
            config["eval_at"] = list(spec.budget.eval_at)
    elif not run.is_baseline:
        config.update(
            alpha=run.alpha,
            batch_size=run.batch_size,
            seed=run.seed,
            train_data=spec.train_data,
            budget=run_budget(spec, run),
        )
        # Newer settings enter only when used, so earlier results keep their fingerprint.
        if spec.holdout is not None:
            config["holdout"] = spec.holdout.model_dump()
        if spec.zero_shot_guard is not None:
            config["zero_shot_guard"] = list(spec.zero_shot_guard)
        if spec.tuned_by:
            config["tuned_by"] = list(spec.tuned_by)
    return config


def run_budget(spec: SweepSpec, run: PlannedRun) -> dict[str, Any]:
    """The spec's budget with this run's own learning rate and temperature."""
    budget = spec.budget.model_dump()
    if run.waiting:  # chosen by the tuning sweeps once they finish
        budget.update(lr=None, temperature=None)
    if run.lr is not None:
        budget["lr"] = run.lr
    if run.temperature is not None:
        budget["temperature"] = run.temperature
    return budget


def config_fingerprint(config: dict[str, Any]) -> str:
    """A short hash of a run config (canonical JSON)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based, as Slurm's ``--array=0-(count-1)`` numbers them)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise XmirError(f"--shard {text!r}: expected I/N, e.g. 0/4 (0-based I < N)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or index >= count:
            raise XmirError(f"--shard {text!r}: need 0 <= I < N (shards are numbered from 0)")
        return cls(index, count)


def assign_shards(costs: list[float], count: int) -> list[int]:
    """Shard of each run: longest-first onto the least-loaded shard (deterministic ties).

    Balances estimated cost rather than run count, so the largest model's runs do not all
    land on one array task.
    """
    loads = [0.0] * count
    shard_of = [0] * len(costs)
    for position in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        target = min(range(count), key=lambda s: (loads[s], s))
        shard_of[position] = target
        loads[target] += costs[position]
    return shard_of
