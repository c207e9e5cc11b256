"""Tuned sweeps: a learning-rate grid chosen on the held-out development split."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import FAKE_CLI, valid_spec

from xmir.commands.sweep import check_tuning_order, plan_study_sweep
from xmir.errors import XmirError
from xmir.sweep.commands import run_steps
from xmir.sweep.layout import SweepLayout
from xmir.sweep.prepare import prepare_output
from xmir.sweep.runner import RunnerOptions, run_sweep
from xmir.sweep.spec import SweepSpec, parse_spec
from xmir.sweep.tuning import TunedCell, cell_for, tuned_cells

HOLDOUT = {"fraction": 0.15, "seed": 0}
DEV_EVAL = [{"dataset": "mlqa-r", "split": "dev"}]


def tuning_spec(**changes: Any) -> SweepSpec:
    spec = valid_spec(
        name="tune",
        models=["e5-small-q4:layers=1"],
        strategies=["mono", "hybrid"],
        seeds=[0],
        learning_rates=[1e-5, 1e-4, 1e-3],
        holdout=HOLDOUT,
        zero_shot_guard=["xquad-r"],
        eval=DEV_EVAL,
        include_untrained=False,
    )
    spec.update(changes)
    return parse_spec(spec)


def tuned_spec(**changes: Any) -> SweepSpec:
    spec = valid_spec(
        name="main",
        models=["e5-small-q4:layers=1"],
        strategies=["mono", "hybrid"],
        hybrid_alphas=[0.5, 0.25],
        seeds=[1, 2],
        holdout=HOLDOUT,
        tuned_by=["tune"],
        include_untrained=False,
    )
    spec.update(changes)
    return parse_spec(spec)


def test_learning_rate_grid_is_one_run_per_rate() -> None:
    sweep = plan_study_sweep(tuning_spec(), [], [])
    assert [r.run_id for r in sweep.runs][:3] == [
        "e5-small-q4-L1-mono-b8-lr1e-05-s0",
        "e5-small-q4-L1-mono-b8-lr0.0001-s0",
        "e5-small-q4-L1-mono-b8-lr0.001-s0",
    ]
    config = sweep.configs["e5-small-q4-L1-mono-b8-lr0.001-s0"]
    assert config["budget"]["lr"] == 1e-3
    assert config["holdout"] == HOLDOUT
    assert config["eval"] == [{"dataset": "mlqa-r", "max_questions": None, "subset_seed": 0,
                               "split": "dev"}]  # fmt: skip


def test_tuning_runs_hold_out_the_dev_split_and_guard_the_test_set(tmp_path: Path) -> None:
    sweep = plan_study_sweep(tuning_spec(), [], [])
    train, evaluate = run_steps(sweep.spec, sweep.runs[1], SweepLayout(tmp_path))
    assert train.args[train.args.index("--lr") + 1] == "0.0001"
    assert train.args[train.args.index("--holdout") + 1 :][:3] == ["0.15", "--holdout-seed", "0"]
    assert train.args[train.args.index("--eval-data") + 1] == "xquad-r"
    assert evaluate.name == "eval-mlqa-r-dev"
    assert evaluate.args[evaluate.args.index("--split") + 1] == "dev"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"holdout": None}, "split dev needs a holdout"),
        ({"eval": [{"dataset": "xquad-r", "split": "dev"}]}, "held-out part of train_data"),
        ({"tuned_by": ["other"]}, "takes its rate from tuned_by"),
        ({"train_data": "xquad-r", "eval": [{"dataset": "mlqa-r"}]}, None),
    ],
)
def test_inconsistent_tuning_specs_are_refused(
    changes: dict[str, Any], message: str | None
) -> None:
    if message is None:  # holdout on xquad-r training data is fine
        tuning_spec(**changes)
        return
    with pytest.raises(XmirError, match=message):
        tuning_spec(**changes)


def test_a_tuned_sweep_takes_no_budget_rate() -> None:
    with pytest.raises(XmirError, match="come from tuned_by"):
        tuned_spec(budget={"steps": 3, "lr": 1e-4})


def test_tuned_by_must_name_an_earlier_dev_evaluated_sweep() -> None:
    with pytest.raises(XmirError, match="not an earlier spec"):
        check_tuning_order([tuned_spec(), tuning_spec()])
    plain = parse_spec(valid_spec(name="tune"))
    with pytest.raises(XmirError, match="split: dev"):
        check_tuning_order([plain, tuned_spec()])
    check_tuning_order([tuning_spec(), tuned_spec()])


def test_tuned_runs_wait_then_train_at_the_best_dev_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = [tmp_path / "tune", tmp_path / "main"]
    tune = plan_study_sweep(tuning_spec(), [], folders)
    main = plan_study_sweep(tuned_spec(), [tune], folders)
    assert all(run.waiting for run in main.runs)
    outcomes = run_sweep(main, prepare_output(main, folders[1]), RunnerOptions(cli=FAKE_CLI))
    assert {o.state for o in outcomes} == {"waiting"}

    monkeypatch.setenv("FAKE_XMIR_LR_PEAK", "1e-4")
    options = RunnerOptions(cli=FAKE_CLI)
    done = run_sweep(tune, prepare_output(tune, folders[0]), options)
    assert {o.state for o in done} == {"finished"}
    cells = tuned_cells([(tune, SweepLayout(folders[0]))])
    assert len(cells) == 2
    for cell in cells.values():
        assert cell.chosen is not None and cell.chosen.lr == 1e-4
        assert sorted(t.lr for t in cell.trials) == [1e-5, 1e-4, 1e-3]
        assert cell.record()["chosen"] == {"lr": 1e-4, "temperature": 0.05}

    main = plan_study_sweep(tuned_spec(), [tune], folders)
    assert not any(run.waiting for run in main.runs)
    assert {run.lr for run in main.runs} == {1e-4}
    # hybrid 0.25 was not tuned: it takes the rate chosen for the one tuned hybrid (0.5)
    quarter = next(r for r in main.runs if r.alpha == 0.25)
    assert cell_for(cells, quarter) is cells[("e5-small-q4:layers=1", "hybrid0.5", 8)]
    ran = run_sweep(main, prepare_output(main, folders[1]), options)
    assert {o.state for o in ran} == {"finished"}
    assert main.configs[ran[0].run_id]["budget"]["lr"] == 1e-4
    assert main.configs[ran[0].run_id]["tuned_by"] == ["tune"]


def test_an_untuned_alpha_takes_the_tuned_alpha_of_its_own_strategy() -> None:
    model = "e5-small-q4:layers=1"
    cells = {
        (model, label, 8): TunedCell((model, label, 8), ())
        for label in ("hybrid0.5", "mixed0.5", "mono")
    }
    main = plan_study_sweep(
        tuned_spec(strategies=["mono", "hybrid", "mixed"]), [], [Path("t"), Path("m")]
    )
    quarter = {run.strategy: run for run in main.runs if run.alpha == 0.25}
    assert cell_for(cells, quarter["hybrid"]) is cells[(model, "hybrid0.5", 8)]
    assert cell_for(cells, quarter["mixed"]) is cells[(model, "mixed0.5", 8)]
    mono = next(run for run in main.runs if run.strategy == "mono")
    assert cell_for(cells, mono) is cells[(model, "mono", 8)]


def test_a_cell_is_not_chosen_before_all_its_trials_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_XMIR_LR_PEAK", "1e-3")
    monkeypatch.setenv("FAKE_XMIR_FAIL", "e5-small-q4-L1-mono-b8-lr0.001-s0")
    tune = plan_study_sweep(tuning_spec(), [], [tmp_path])
    run_sweep(tune, prepare_output(tune, tmp_path), RunnerOptions(cli=FAKE_CLI))
    cells = tuned_cells([(tune, SweepLayout(tmp_path))])
    assert cells[("e5-small-q4:layers=1", "mono", 8)].chosen is None
    assert cells[("e5-small-q4:layers=1", "hybrid0.5", 8)].chosen.lr == 1e-3


def combination_spec(**changes: Any) -> SweepSpec:
    spec = valid_spec(
        name="combos",
        models=["e5-small-q4:layers=1"],
        strategies=["mono", "cross", "hybrid"],
        seeds=[0, 1],
        combinations=["wavg", "ensemble"],
        include_untrained=False,
    )
    spec.update(changes)
    return parse_spec(spec)


def test_combinations_follow_their_sources_seed_by_seed() -> None:
    sweep = plan_study_sweep(combination_spec(), [], [])
    ids = [r.run_id for r in sweep.runs]
    assert ids[:5] == [
        "e5-small-q4-L1-mono-b8-s0",
        "e5-small-q4-L1-cross-b8-s0",
        "e5-small-q4-L1-hybrid0.5-b8-s0",
        "e5-small-q4-L1-wavg0.5-b8-s0",
        "e5-small-q4-L1-ensemble0.5-b8-s0",
    ]
    wavg = sweep.run("e5-small-q4-L1-wavg0.5-b8-s1")
    assert wavg.sources == ("e5-small-q4-L1-mono-b8-s1", "e5-small-q4-L1-cross-b8-s1")
    assert sweep.configs[wavg.run_id]["sources"] == {
        source: sweep.fingerprints[source] for source in wavg.sources
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategies": ["mono", "hybrid"]}, "add cross"),
        ({"learning_rates": [1e-4, 1e-3]}, "not with a learning_rates grid"),
        ({"combinations": ["wavg", "wavg"]}, "duplicate"),
    ],
)
def test_combinations_need_their_parts(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(XmirError, match=message):
        combination_spec(**changes)


def test_combinations_evaluate_kept_models_then_free_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_XMIR_LOG", str(log))
    monkeypatch.setenv("FAKE_XMIR_FAIL", "e5-small-q4-L1-wavg0.5-b8-s0")
    sweep = plan_study_sweep(combination_spec(seeds=[0]), [], [])
    layout = prepare_output(sweep, tmp_path / "out")
    mono = layout.run_dir("e5-small-q4-L1-mono-b8-s0") / "model"
    hybrid = layout.run_dir("e5-small-q4-L1-hybrid0.5-b8-s0") / "model"
    run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert mono.is_dir()  # kept: one of its combinations has not finished
    assert not hybrid.exists()  # nothing needs it
    combo = sweep.run("e5-small-q4-L1-wavg0.5-b8-s0")
    steps = run_steps(sweep.spec, combo, layout, sources=[sweep.run(s) for s in combo.sources])
    assert [s.name for s in steps] == ["eval-xquad-r"]  # both models there: nothing to retrain
    assert f"wavg:0.5:{mono}," in " ".join(steps[0].args)
    monkeypatch.delenv("FAKE_XMIR_FAIL")
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert [o.state for o in outcomes].count("finished") == 1
    assert not list(layout.runs_dir.glob("*/model"))  # all combinations done: weights go
    assert log.read_text().split().count("train") == 3  # no source was retrained


def test_a_combination_retrains_a_deleted_source_into_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    combo_id = "e5-small-q4-L1-ensemble0.5-b8-s0"
    monkeypatch.setenv("FAKE_XMIR_FAIL", combo_id)
    sweep = plan_study_sweep(combination_spec(seeds=[0], combinations=["ensemble"]), [], [])
    layout = prepare_output(sweep, tmp_path / "out")
    run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    mono = layout.run_dir("e5-small-q4-L1-mono-b8-s0") / "model"
    shutil.rmtree(mono)  # e.g. a fresh machine: the kept weights are gone
    combo = sweep.run(combo_id)
    steps = run_steps(sweep.spec, combo, layout, sources=[sweep.run(s) for s in combo.sources])
    assert [s.name for s in steps] == ["train-mono", "eval-xquad-r"]
    copy = layout.run_dir(combo_id) / "sources" / "e5-small-q4-L1-mono-b8-s0"
    assert steps[0].args[steps[0].args.index("--out") + 1] == str(copy)
    monkeypatch.delenv("FAKE_XMIR_FAIL")
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert [o.state for o in outcomes].count("finished") == 1
    assert not copy.exists()  # the copy goes once the combination is evaluated
    assert not list(layout.runs_dir.glob("*/model"))


LONG_BUDGET = {"steps": 8, "eval_at": [4], "lr_schedule": "constant"}


def test_a_combination_is_evaluated_at_every_budget_of_its_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``eval_at``, the sources' snapshots are combined too: the baselines then stand
    beside mono, cross and hybrid at every budget, on the same seeds."""
    from xmir.report.results import load_results
    from xmir.report.stats.study import study_stats

    combo_id = "e5-small-q4-L1-wavg0.5-b8-s0"
    monkeypatch.setenv("FAKE_XMIR_FAIL", combo_id)
    sweep = plan_study_sweep(combination_spec(budget=LONG_BUDGET), [], [])
    layout = prepare_output(sweep, tmp_path / "out")
    run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    combo = sweep.run(combo_id)
    assert sweep.configs[combo_id]["eval_at"] == [4]
    mono, cross = (layout.run_dir(s) / "model" for s in combo.sources)
    steps = run_steps(sweep.spec, combo, layout, sources=[sweep.run(s) for s in combo.sources])
    assert [s.name for s in steps] == ["eval-xquad-r@4", "eval-xquad-r"]  # nothing retrained
    snapshots = f"wavg:0.5:{mono}/snapshots/step-4,{cross}/snapshots/step-4"
    assert snapshots in steps[0].args
    assert f"wavg:0.5:{mono},{cross}" in steps[1].args

    monkeypatch.delenv("FAKE_XMIR_FAIL")
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert [o.state for o in outcomes].count("finished") == 1
    results = load_results(tmp_path / "out")
    for budget in (4, 8):
        labels = {r.strategy_label for r in results.at_budget(budget).runs}
        assert {"wavg0.5", "ensemble0.5"} <= labels, budget
    cells = study_stats(results).all_round
    assert {c.cell.steps for c in cells} == {4, 8}
    for cell in cells:  # every compared model on both seeds, the baselines included
        assert {"wavg0.5", "ensemble0.5"} <= set(cell.compared) and cell.seeds == 2


def test_a_combination_without_shorter_budgets_keeps_its_fingerprint() -> None:
    """``eval_at`` enters a combination's config only when set: the finished combinations of
    a study without it keep their fingerprints."""
    sweep = plan_study_sweep(combination_spec(), [], [])
    assert "eval_at" not in sweep.configs["e5-small-q4-L1-wavg0.5-b8-s0"]


def test_a_retrained_source_gives_the_combination_its_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    combo_id = "e5-small-q4-L1-wavg0.5-b8-s0"
    monkeypatch.setenv("FAKE_XMIR_FAIL", combo_id)
    spec = combination_spec(seeds=[0], combinations=["wavg"], budget=LONG_BUDGET)
    sweep = plan_study_sweep(spec, [], [])
    layout = prepare_output(sweep, tmp_path / "out")
    run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    shutil.rmtree(layout.run_dir("e5-small-q4-L1-cross-b8-s0") / "model")
    combo = sweep.run(combo_id)
    steps = run_steps(sweep.spec, combo, layout, sources=[sweep.run(s) for s in combo.sources])
    assert [s.name for s in steps] == ["train-cross", "eval-xquad-r@4", "eval-xquad-r"]
    assert "--snapshot-at" in steps[0].args
    monkeypatch.delenv("FAKE_XMIR_FAIL")
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert [o.state for o in outcomes].count("finished") == 1
    result = json.loads(layout.result_file(combo_id).read_text())
    assert sorted(result["budgets"], key=int) == ["4", "8"]


@pytest.mark.slow
def test_the_report_shows_the_grid_and_the_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xmir.report.build import build_report

    monkeypatch.setenv("FAKE_XMIR_LR_PEAK", "1e-4")
    folders = [tmp_path / "tune", tmp_path / "main"]
    tune = plan_study_sweep(tuning_spec(include_untrained=True), [], folders)
    run_sweep(tune, prepare_output(tune, folders[0]), RunnerOptions(cli=FAKE_CLI))
    only = build_report(tmp_path, tmp_path / "only-tuning", html=False)
    text = only.markdown.read_text()
    assert "No test run has finished yet" in text
    assert "| mono | 0.800 | **0.900** | 0.800 | lr 0.0001 |" in text
    assert "Untrained encoder on the development split" in text

    main = plan_study_sweep(tuned_spec(), [tune], folders)
    run_sweep(main, prepare_output(main, folders[1]), RunnerOptions(cli=FAKE_CLI))
    report = build_report(tmp_path, tmp_path / "report", html=False)
    text = report.markdown.read_text()
    assert "## Learning rate and temperature: chosen on the development split" in text
    assert "| hybrid0.5 | 0.800 | **0.900** | 0.800 | lr 0.0001 |" in text
    assert "grid's highest" not in text  # the peak lies inside the grid
    assert "mlqa-r-dev" not in text  # the development evaluations stay out of the analysis
    # The setup and the budget note give the rate the runs trained at, and where it came from.
    assert (
        "lr 0.0001 (linear warmup and decay), temperature 0.05 (both chosen per size and "
        "strategy on the development split, see below)" in text
    )
    assert "at lr 0.0001, chosen per size and strategy on the development split (the paper:" in text


def test_the_grid_labels_every_strategy_as_the_plan_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xmir.sweep.tuning import grid_rows

    monkeypatch.setenv("FAKE_XMIR_LR_PEAK", "1e-4")
    tune = plan_study_sweep(tuning_spec(strategies=["mono", "mixed"]), [], [tmp_path])
    run_sweep(tune, prepare_output(tune, tmp_path), RunnerOptions(cli=FAKE_CLI))
    labels = {row.strategy for row in grid_rows(SweepLayout(tmp_path))}
    assert labels == {run.strategy_label for run in tune.runs} == {"mono", "mixed0.5"}


def test_the_grid_waits_for_a_second_tuning_sweep_of_the_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A temperature sweep planned beside the rate grid: its column shows "–" and no cell is
    called chosen until it has finished, as the tuned runs wait for it too."""
    from xmir.report.tuning_section import tuning_section

    monkeypatch.setenv("FAKE_XMIR_LR_PEAK", "1e-4")
    folders = [tmp_path / "tune", tmp_path / "tune-t"]
    tune = plan_study_sweep(tuning_spec(), [], folders)
    run_sweep(tune, prepare_output(tune, folders[0]), RunnerOptions(cli=FAKE_CLI))
    temperature = tuning_spec(
        name="tune-t", learning_rates=[1e-4], budget={"steps": 3, "temperature": 0.01}
    )
    planned = plan_study_sweep(temperature, [tune], folders)
    prepare_output(planned, folders[1])  # planned, not run yet
    text = "\n".join(tuning_section(tmp_path))
    assert "| strategy | lr 1e-05 | lr 0.0001 | lr 0.001 | lr 0.0001, T 0.01 | chosen |" in text
    assert "| mono | 0.800 | **0.900** | 0.800 | – | pending |" in text
    run_sweep(planned, SweepLayout(folders[1]), RunnerOptions(cli=FAKE_CLI))
    text = "\n".join(tuning_section(tmp_path))
    assert "| pending |" not in text
