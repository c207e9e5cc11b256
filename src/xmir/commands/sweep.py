"""``xmir sweep``: run every (model, strategy, batch size, seed) of a spec, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xmir.commands.common import console, err_console, user_errors
from xmir.commands.report import write_and_print_report
from xmir.commands.run_arguments import check_run_arguments
from xmir.errors import XmirError
from xmir.output_guard import check_output_folder, is_report_folder
from xmir.paths import DATA_DIR_ENV
from xmir.sweep.commands import Step
from xmir.sweep.cost import cost_reference, format_duration
from xmir.sweep.layout import SweepLayout, read_status
from xmir.sweep.plan import PlannedRun, Shard
from xmir.sweep.prepare import Sweep, check_output_dir, plan_sweep, prepare_output
from xmir.sweep.runner import FAILED, RunnerOptions, RunOutcome, run_sweep
from xmir.sweep.spec import SweepSpec, load_spec
from xmir.sweep.tuning import rate_chooser, tuned_cells


@user_errors
def sweep_command(
    spec_files: Annotated[
        list[Path],
        typer.Argument(
            metavar="SPEC.yaml",
            help="Sweep spec(s) (YAML); several specs form one study, each in OUT/<name>.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Sweep folder (results, logs, status); default runs/<spec name>."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Print the plan, what is done already and an estimated cost.",
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(help="Run only shard I of N (0-based, e.g. 0/4; for Slurm array jobs)."),
    ] = None,
    keep_models: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Keep each run's fine-tuned weights (deleted after eval by default).",
        ),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(help=f"Evaluation/training data folder (default: ${DATA_DIR_ENV})."),
    ] = None,
    report: Annotated[
        bool,
        typer.Option(
            show_default=False,
            help="Write the report to OUT/report when the sweep ends (on by default; "
            "not with --shard).",
        ),
    ] = True,
) -> None:
    """Run a scaling sweep: models x strategies x batch sizes x seeds, one process per run.

    Re-running the same command skips finished runs, continues a run cut off while
    training from its last checkpoint and redoes failed ones.

    A failing run is recorded with its error and the sweep goes on (exit code 1 at the end).
    """
    specs = [load_spec(path) for path in spec_files]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise XmirError(f"two specs share the name {_first_repeat(names)!r}; names must differ")
    chosen_shard = Shard.parse(shard) if shard is not None else None
    if data_dir is not None and not data_dir.expanduser().is_dir():
        raise XmirError(f"--data-dir {data_dir} is not a folder; point it at the dataset files")
    check_tuning_order(specs)
    root = out if out is not None else Path("runs") / specs[0].name
    folders = [root] if len(specs) == 1 else [root / spec.name for spec in specs]
    sweeps: list[Sweep] = []
    for spec in specs:
        sweeps.append(plan_study_sweep(spec, sweeps, folders))
    for planned in sweeps:
        check_run_arguments(planned)
    if dry_run:
        todo = [
            print_plan(s, SweepLayout(f), chosen_shard)
            for s, f in zip(sweeps, folders, strict=True)
        ]
        if len(sweeps) > 1:
            console.print(
                f"Study: {len(sweeps)} sweeps, still to run: [bold]{format_duration(sum(todo))}[/]."
            )
        return
    writes_report = report and chosen_shard is None
    check_output_folders(root, folders, with_report=writes_report)
    layouts = [prepare_output(s, f) for s, f in zip(sweeps, folders, strict=True)]
    env = {DATA_DIR_ENV: str(data_dir.expanduser().resolve())} if data_dir else {}
    options = RunnerOptions(keep_models=keep_models, shard=chosen_shard, env=env)
    outcomes: list[RunOutcome] = []
    for index, folder in enumerate(folders):
        if specs[index].tuned_by:  # its tuning sweeps may have just finished: choose again
            sweeps[index] = plan_study_sweep(specs[index], sweeps[:index], folders)
            layouts[index] = prepare_output(sweeps[index], folder)
        sweep, layout = sweeps[index], layouts[index]
        selected = sweep.shard(chosen_shard)
        console.print(
            f"[bold]{sweep.spec.name}[/]: {len(selected)} of {len(sweep.runs)} runs"
            + (f" (shard {chosen_shard.index}/{chosen_shard.count})" if chosen_shard else "")
            + f" -> {folder}"
        )
        with _ProgressEvents(len(selected)) as events:
            outcomes += run_sweep(sweep, layout, options, events)
    _print_summary(outcomes, root, report_follows=writes_report)
    if writes_report:
        write_and_print_report(root, None)
    if any(o.state == FAILED for o in outcomes):
        raise typer.Exit(code=1)


def check_tuning_order(specs: list[SweepSpec]) -> None:
    """Each ``tuned_by`` names an earlier sweep of this study that evaluates on a dev split."""
    earlier: dict[str, SweepSpec] = {}
    for spec in specs:
        for name in spec.tuned_by:
            tuning = earlier.get(name)
            if tuning is None:
                raise XmirError(
                    f"{spec.name}: tuned_by {name!r} is not an earlier spec of this study; "
                    "give the tuning spec(s) first on the command line"
                )
            if not any(getattr(e, "split", "all") == "dev" for e in tuning.eval):
                raise XmirError(
                    f"{spec.name}: tuned_by {name!r} has no eval set with split: dev to choose on"
                )
        earlier[spec.name] = spec


def plan_study_sweep(spec: SweepSpec, planned: list[Sweep], folders: list[Path]) -> Sweep:
    """Plan one sweep of a study; a tuned one takes each run's rate from the results of its
    tuning sweeps (planned earlier, in ``folders`` by position) where they are complete."""
    if not spec.tuned_by:
        return plan_sweep(spec)
    tuning = [
        (sweep, SweepLayout(folder))
        for sweep, folder in zip(planned, folders, strict=False)
        if sweep.spec.name in spec.tuned_by
    ]
    return plan_sweep(spec, rate_chooser(tuned_cells(tuning)))


def check_output_folders(root: Path, folders: list[Path], *, with_report: bool) -> None:
    """Every folder the sweep will write (the study root, each sweep, the report), checked
    before the first one is written."""
    for folder in dict.fromkeys([root, *folders]):
        check_output_dir(folder)
    if with_report:
        check_output_folder(root / "report", owned=is_report_folder, what="an xmir report")


def _first_repeat(names: list[str]) -> str:
    seen: set[str] = set()
    return next(name for name in names if name in seen or seen.add(name))  # type: ignore[func-returns-value]


def print_plan(sweep: Sweep, layout: SweepLayout, shard: Shard | None) -> float:
    """The ordered runs with their state in ``layout`` (if any) and estimated cost; returns the
    estimated seconds still to run.

    A run id already names the model, strategy, batch size and seed, so the table holds only
    the id, the cost and the state, and reads whole at 80 columns; the models are listed once.
    """
    selected = {r.run_id for r in sweep.shard(shard)}
    table = Table(title=f"sweep {sweep.spec.name}: plan", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("run id (model-strategy-bBATCH-sSEED)", no_wrap=True)
    table.add_column("train", justify="right", no_wrap=True)
    table.add_column("eval", justify="right", no_wrap=True)
    table.add_column("state")
    todo_s = total_s = 0.0
    for position, run in enumerate(sweep.runs):
        if run.run_id not in selected:
            continue
        cost = sweep.costs[run.run_id]
        state = _state(layout, run, sweep.fingerprints[run.run_id])
        total_s += cost.total_s
        todo_s += 0.0 if state == "finished" else cost.total_s
        table.add_row(
            str(position),
            run.run_id,
            "-" if not run.trains else format_duration(cost.train_s),
            format_duration(cost.eval_s),
            state,
        )
    console.print(table)
    labels = dict.fromkeys((run.model_label, run.model) for run in sweep.runs)
    for label, model in labels:
        console.print(f"{label} = {model}", highlight=False)
    budget = sweep.spec.budget
    budgets = ", ".join(map(str, budget.all_budgets))
    console.print(
        f"{len(selected)} runs ({budget.steps} steps each"
        + (f", evaluated at {budgets}" if budget.eval_at else "")
        + "; eval: "
        + ", ".join(e.describe() for e in sweep.spec.eval)
        + f"). Estimated cost: [bold]{format_duration(total_s)}[/], "
        f"still to run: [bold]{format_duration(todo_s)}[/] "
        f"({cost_reference(sweep.spec, list(dict.fromkeys(r.model for r in sweep.runs)))})."
    )
    return todo_s


def _state(layout: SweepLayout, run: PlannedRun, fingerprint: str) -> str:
    if run.waiting:
        return "waiting for tuning"
    status = read_status(layout, run.run_id)
    if status is None:
        return "to do"
    if status.get("config_sha") != fingerprint:
        return "to do (config changed)" if status.get("state") == "finished" else "to do"
    return str(status.get("state", "to do"))


class _ProgressEvents:
    """A Rich progress bar over runs; one line per finished, failed or skipped run."""

    def __init__(self, total: int) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("sweep", total=total)

    def __enter__(self) -> _ProgressEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.update(self.task, description="sweep")
        self.progress.stop()

    def run_started(self, run: PlannedRun, position: int, total: int) -> None:
        self.progress.update(self.task, description=run.run_id)

    def step_started(self, run: PlannedRun, step: Step) -> None:
        self.progress.update(self.task, description=f"{run.run_id}: {step.name}")

    def run_ended(self, run: PlannedRun, outcome: RunOutcome) -> None:
        style = {
            "finished": "green",
            "failed": "red",
            "skipped": "dim",
            "busy": "yellow",
            "waiting": "yellow",
        }
        detail = f" ({format_duration(outcome.seconds)})" if outcome.seconds else ""
        if outcome.resumed_from:
            detail += f", resumed from {outcome.resumed_from}"
        if outcome.error:
            detail += f": {outcome.error}"
        self.progress.console.print(
            f"[{style.get(outcome.state, 'white')}]{outcome.state:>8}[/] {run.run_id}{detail}",
            highlight=False,
        )
        self.progress.advance(self.task)


def _print_summary(outcomes: list[RunOutcome], out: Path, *, report_follows: bool) -> None:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
    next_step = (
        f"writing the report to {out / 'report'}"
        if report_follows
        else f"make the report with: xmir report {out}"
    )
    console.print(f"{summary}. Results in {out}; {next_step}")
    for outcome in outcomes:
        if outcome.state == FAILED:
            err_console.print(f"[red]failed[/] {outcome.run_id}: {outcome.error}", highlight=False)
