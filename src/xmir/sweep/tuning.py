"""Choosing a tuned sweep's learning rate (and temperature) on the development split.

A tuning sweep trains each (model, strategy, batch size) at every rate of a grid, with the
development split held out of the training data, and evaluates on that split only. A tuned
sweep of the same study then trains each cell at the setting with the highest criterion: the
mean over the monolingual, cross-lingual and multilingual settings of the development mAP.
No test set takes part in the choice. A cell is chosen only once every one of its tuning
runs has finished, so the choice never depends on which runs happened to be done first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from xmir.evaluate.result import EvalResult
from xmir.records import read_json_object
from xmir.sweep.layout import FINISHED, SweepLayout, read_status
from xmir.sweep.plan import PlannedRun, RateChooser, run_budget, strategy_label
from xmir.sweep.prepare import Sweep
from xmir.sweep.run_record import RunRecord
from xmir.train.strategies import parse_label, takes_alpha

SETTINGS = ("mono", "cross", "multi")
CRITERION = "mean of mono, cross and multi mAP on the held-out development split"

# (model, strategy label, batch size): one tuned cell
CellKey = tuple[str, str, int]


@dataclass(frozen=True)
class Trial:
    """One tuning run: its setting and (once finished) its development criterion."""

    sweep: str
    run_id: str
    lr: float
    temperature: float
    criterion: float | None  # None: not finished yet
    settings: dict[str, float]


@dataclass(frozen=True)
class TunedCell:
    """Every trial of one cell and the chosen one (None until all have finished)."""

    key: CellKey
    trials: tuple[Trial, ...]

    @property
    def chosen(self) -> Trial | None:
        """The best trial by the criterion (ties: the smaller rate), once all finished."""
        if not self.trials or any(t.criterion is None for t in self.trials):
            return None
        return max(self.trials, key=lambda t: (t.criterion, -t.lr, -t.temperature))

    def record(self) -> dict[str, Any]:
        """The grid and the choice, for the report."""
        chosen = self.chosen
        return {
            "model": self.key[0],
            "strategy": self.key[1],
            "batch_size": self.key[2],
            "criterion": CRITERION,
            "chosen": None
            if chosen is None
            else {"lr": chosen.lr, "temperature": chosen.temperature},
            "trials": [
                {
                    "sweep": t.sweep,
                    "run_id": t.run_id,
                    "lr": t.lr,
                    "temperature": t.temperature,
                    "criterion": t.criterion,
                    **{f"{name}_map": value for name, value in t.settings.items()},
                }
                for t in self.trials
            ],
        }


def dev_key(sweep: Sweep) -> str:
    """The result key of the tuning sweep's development evaluation (``mlqa-r-dev``)."""
    keys = [e.key for e in sweep.spec.eval if getattr(e, "split", "all") == "dev"]
    return keys[0]


def read_trials(sweep: Sweep, layout: SweepLayout) -> list[tuple[PlannedRun, Trial]]:
    """The trained runs of one tuning sweep with their criterion where finished."""
    key = dev_key(sweep)
    trials = []
    for run in sweep.runs:
        if run.is_baseline:
            continue
        budget = run_budget(sweep.spec, run)
        settings = _dev_settings(layout, run.run_id, sweep.fingerprints[run.run_id], key)
        criterion = None if settings is None else sum(settings.values()) / len(settings)
        trial = Trial(
            sweep.spec.name,
            run.run_id,
            float(budget["lr"]),
            float(budget["temperature"]),
            criterion,
            settings or {},
        )
        trials.append((run, trial))
    return trials


def _dev_settings(
    layout: SweepLayout, run_id: str, fingerprint: str, key: str
) -> dict[str, float] | None:
    status = read_status(layout, run_id)
    if status is None or status.get("state") != FINISHED or status.get("config_sha") != fingerprint:
        return None
    result = RunRecord.read(layout.result_file(run_id))
    name = result.evals.get(key) if result is not None else None
    payload = EvalResult.read(layout.run_dir(run_id) / name) if name else None
    if payload is None or not all(s in payload.settings for s in SETTINGS):
        return None
    settings = {s: payload.metric(s) for s in SETTINGS}
    return None if any(math.isnan(v) for v in settings.values()) else settings


def tuned_cells(tuning: list[tuple[Sweep, SweepLayout]]) -> dict[CellKey, TunedCell]:
    """Every cell of the tuning sweeps with all its trials."""
    grouped: dict[CellKey, list[Trial]] = {}
    for sweep, layout in tuning:
        for run, trial in read_trials(sweep, layout):
            key = (run.model, run.strategy_label, int(run.batch_size or 0))
            grouped.setdefault(key, []).append(trial)
    return {key: TunedCell(key, tuple(trials)) for key, trials in grouped.items()}


def cell_for(cells: dict[CellKey, TunedCell], run: PlannedRun) -> TunedCell | None:
    """The tuned cell of ``run``: its own (model, strategy, batch size), or, for an alpha that
    was not tuned, the one alpha of the same strategy that was (the frontier's alphas share
    the rate chosen for it)."""
    batch = int(run.batch_size or 0)
    own = cells.get((run.model, run.strategy_label, batch))
    if own is not None or not takes_alpha(run.strategy):
        return own
    siblings = [c for k, c in cells.items() if k[0] == run.model and k[2] == batch
                and _strategy_of(k[1]) == run.strategy]  # fmt: skip
    return siblings[0] if len(siblings) == 1 else None


def _strategy_of(label: str) -> str | None:
    parsed = parse_label(label)
    return None if parsed is None else parsed[0].name


def rate_chooser(cells: dict[CellKey, TunedCell]) -> RateChooser:
    """The (lr, temperature) of each run from ``cells``; None while its cell is undecided."""

    def choose(run: PlannedRun) -> tuple[float, float] | None:
        cell = cell_for(cells, run)
        chosen = None if cell is None else cell.chosen
        return None if chosen is None else (chosen.lr, chosen.temperature)

    return choose


@dataclass(frozen=True)
class GridRow:
    """One finished tuning run as the report shows it (read from its folder alone)."""

    sweep: str
    model: str
    strategy: str  # the label: mono, cross, hybrid0.5, or none (untrained)
    batch_size: int | None
    lr: float | None
    temperature: float | None
    settings: dict[str, float]

    @property
    def finished(self) -> bool:
        """False for a planned run that has no development result yet."""
        return bool(self.settings)

    @property
    def criterion(self) -> float:
        return sum(self.settings.values()) / len(self.settings)


def is_tuning_record(record: dict[str, Any]) -> bool:
    """True for the ``sweep.json`` of a sweep that evaluates on a development split."""
    evals = (record.get("spec") or {}).get("eval") or []
    return any(e.get("split") == "dev" for e in evals if isinstance(e, dict))


def grid_rows(layout: SweepLayout, *, with_unfinished: bool = False) -> list[GridRow]:
    """Every finished run of a tuning sweep folder with its development mAP per setting
    (``with_unfinished``: the planned runs without a result too, with empty settings)."""
    record = read_json_object(layout.sweep_file) or {}
    name = str(record.get("name", layout.root.name))
    keys = [
        f"{e['dataset']}-dev"
        for e in (record.get("spec") or {}).get("eval", [])
        if isinstance(e, dict) and e.get("split") == "dev"
    ]
    rows = []
    for planned in record.get("runs", []):
        run_id = planned.get("run_id", "")
        settings = (
            _dev_settings(layout, run_id, planned.get("config_sha", ""), keys[0]) if keys else None
        )
        if settings is None and not with_unfinished:
            continue
        budget = planned.get("budget") or {}
        strategy = planned.get("strategy", "none")
        alpha = planned.get("alpha")
        label = strategy_label(strategy, alpha)
        rows.append(
            GridRow(
                name,
                str(planned.get("model", "?")),
                label,
                planned.get("batch_size"),
                budget.get("lr"),
                budget.get("temperature"),
                settings or {},
            )
        )
    return rows
