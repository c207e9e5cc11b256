"""Spec validation: every bad input fails before any run, with a message naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sweep_helpers import valid_spec

from xmir.errors import XmirError
from xmir.sweep.prepare import check_output_dir, plan_sweep
from xmir.sweep.spec import load_spec, parse_spec


def test_a_valid_spec_parses_with_defaults() -> None:
    spec = parse_spec(valid_spec())
    assert spec.budget.lr == pytest.approx(3e-5)
    assert spec.include_untrained is True
    assert spec.eval[0].max_questions == 20


def test_hub_training_data_is_checked_for_its_form_only() -> None:
    spec = parse_spec(valid_spec(train_data="hf:unicamp-dl/mmarco:google"))
    assert spec.train_data == "hf:unicamp-dl/mmarco:google"
    assert parse_spec(valid_spec(train_data="hf:org/pairs")).train_data == "hf:org/pairs"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"models": []}, "models: empty model list"),
        ({"models": 3}, "models: expected a ladder name or a list"),
        ({"models": ["a", "a"]}, "models: duplicate models: a"),
        ({"strategies": ["mono", "bogus"]}, "strategies[1]: unknown strategy 'bogus'; use one of"),
        ({"strategies": ["mono", "mono"]}, "strategies: duplicate strategies: mono"),
        ({"strategies": []}, "strategies:"),
        ({"hybrid_alphas": [0.5, 1.5]}, "hybrid_alphas: alpha must be in [0, 1], got 1.5"),
        ({"hybrid_alphas": [-0.1]}, "hybrid_alphas: alpha must be in [0, 1]"),
        ({"hybrid_alphas": [0.5, 0.5]}, "hybrid_alphas: duplicate alphas: 0.5"),
        ({"hybrid_alphas": []}, "hybrid_alphas: empty, but strategies has 'hybrid'"),
        ({"strategies": ["mono"], "hybrid_alphas": [0.5]}, "hybrid_alphas: set, but strategies"),
        (
            {"strategies": ["mixed"], "hybrid_alphas": []},
            "hybrid_alphas: empty, but strategies has",
        ),
        ({"batch_sizes": [8, 8]}, "batch_sizes: duplicate batch sizes: 8"),
        ({"batch_sizes": [1]}, "batch_sizes: batch sizes must be >= 2"),
        ({"seeds": [0, 0]}, "seeds: duplicate seeds: 0"),
        ({"seeds": [-1]}, "seeds: seeds must be >= 0"),
        ({"eval": []}, "eval:"),
        ({"eval": [{"dataset": "squad"}]}, "eval[0].dataset: unknown dataset 'squad'"),
        ({"eval": [{"max_questions": 3}]}, "eval[0].dataset: required field is missing"),
        ({"eval": [{"dataset": "miracl"}]}, "eval[0].corpus: required field is missing"),
        (
            {"eval": [{"dataset": "miracl", "corpus": "hub", "languages": ["xx"]}]},
            "eval[0].languages: unknown MIRACL language(s) xx",
        ),
        (
            {"eval": [{"dataset": "miracl", "corpus": "no/such/{lang}", "languages": ["sw"]}]},
            "eval[0]: corpus: no/such/sw does not exist (for sw)",
        ),
        (
            {"eval": [{"dataset": "miracl", "corpus": "hub", "max_questions": 3}]},
            "eval[0].max_questions: unknown field",
        ),
        ({"eval": [{"dataset": "xquad-r"}, {"dataset": "xquad-r"}]}, "eval: duplicate eval"),
        ({"eval": [{"dataset": "xquad-r", "max_questions": 0}]}, "eval[0].max_questions:"),
        ({"eval": [{"dataset": "mlqa-r"}]}, "eval: mlqa-r is also the train_data"),
        ({"budget": {"steps": 0}}, "budget.steps:"),
        ({"budget": {}}, "budget.steps: required field is missing"),
        ({"budget": {"steps": 2, "lr": -1}}, "budget.lr:"),
        ({"budget": {"steps": 2, "step": 2}}, "budget.step: unknown field"),
        ({"strategy": ["mono"]}, "strategy: unknown field"),
        ({"train_data": "no/such/file.json"}, "train_data: 'no/such/file.json' is neither"),
        ({"train_data": "hf:no-slash"}, "train_data: 'hf:no-slash' is neither"),
        ({"name": "bad name!"}, "name: use letters, digits"),
        (
            {"primary": {"quantity": "standing", "dataset": "mlqa-r"}},
            "primary: dataset 'mlqa-r' is not evaluated here; use one of xquad-r",
        ),
        (
            {"primary": {"quantity": "standing", "budget": 99}},
            "primary: budget 99 is not evaluated here; use main or one of 3",
        ),
        ({"primary": {"quantity": "trend"}}, "primary.quantity:"),
    ],
)
def test_invalid_specs_name_the_field(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(XmirError) as error:
        parse_spec(valid_spec(**changes), "sweep.yaml")
    message = str(error.value)
    assert message.startswith("sweep.yaml: ")
    assert expected in message
    assert "\n" not in message


def test_a_primary_test_on_an_evaluated_budget_and_dataset_parses() -> None:
    spec = parse_spec(
        valid_spec(
            budget={"steps": 8, "eval_at": [4], "lr_schedule": "constant", "warmup_steps": 1},
            primary={"budget": 4, "dataset": "xquad-r"},
        )
    )
    assert spec.primary is not None and spec.primary.budget == 4


def test_overlap_can_be_allowed_explicitly() -> None:
    spec = parse_spec(valid_spec(eval=[{"dataset": "mlqa-r"}], allow_overlap=True))
    assert spec.allow_overlap


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ("no-such-ladder", "models: unknown ladder 'no-such-ladder'; known ladders:"),
        (["e5-small-q4:layers=1", "not-a-model"], "models[1]: unknown model 'not-a-model'"),
        (["e5-small-q4:layers=13"], "models[0]: e5-small-q4:layers=13: e5-small-q4 has 12 layers"),
        (["e5-small-q4:depth=2"], "models[0]: e5-small-q4:depth=2: unknown option"),
        (["./missing-folder"], "models[0]: model folder ./missing-folder does not exist"),
    ],
)
def test_unknown_models_fail_before_any_run(models: Any, expected: str) -> None:
    with pytest.raises(XmirError, match=None) as error:
        plan_sweep(parse_spec(valid_spec(models=models)))
    assert expected in str(error.value)


def test_empty_ladder_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from xmir.models import registry

    monkeypatch.setitem(registry.LADDERS, "empty", [])
    with pytest.raises(XmirError, match="models: ladder 'empty' is empty"):
        plan_sweep(parse_spec(valid_spec(models="empty")))


def test_a_ladder_name_expands_in_order() -> None:
    sweep = plan_sweep(parse_spec(valid_spec(models="e5-small-q4")))
    models = list(dict.fromkeys(run.model for run in sweep.runs))
    assert models == [
        "e5-small-q4:layers=1",
        "e5-small-q4:layers=2",
        "e5-small-q4:layers=4",
        "e5-small-q4:layers=6",
        "e5-small-q4",
    ]


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nmodels: [a\n")
    with pytest.raises(XmirError, match=r"broken.yaml: not valid YAML \(line"):
        load_spec(broken)
    with pytest.raises(XmirError, match="cannot read sweep spec"):
        load_spec(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(XmirError, match="expected a mapping"):
        load_spec(scalar)


def test_unwritable_output_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(XmirError, match="is a file, not a folder"):
        check_output_dir(a_file)
    with pytest.raises(XmirError, match="is a file, not a folder"):
        check_output_dir(a_file / "below")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not _really_read_only(locked):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(XmirError, match="cannot write into"):
            check_output_dir(locked)
    finally:
        locked.chmod(0o700)


def _really_read_only(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("x")
    except OSError:
        return True
    (folder / "probe").unlink()
    return False


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(valid_spec(hybrid_alphas=[2.0])))
    result = subprocess.run(
        [sys.executable, "-m", "xmir", "sweep", str(spec_file), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "hybrid_alphas: alpha must be in [0, 1], got 2.0" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_missing_data_dir_is_refused_before_any_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xmir.cli import app

    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(valid_spec()))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["sweep", str(spec_file), "--out", str(out), "--data-dir", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    assert "is not a folder" in result.output
    assert not out.exists()


def _spec_text(**changes: Any) -> str:
    return yaml.safe_dump(valid_spec(**changes), sort_keys=False)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(_spec_text() + "seeds: [7]\n")
    with pytest.raises(XmirError, match=r"twice.yaml: duplicate key 'seeds' \(lines \d+ and \d+\)"):
        load_spec(spec)
    nested = tmp_path / "nested.yaml"
    nested.write_text(_spec_text(budget={"steps": 3}).replace("steps: 3", "steps: 3\n  steps: 4"))
    with pytest.raises(XmirError, match="duplicate key 'steps'"):
        load_spec(nested)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("stratgies", ["mono"], "stratgies: unknown field; did you mean 'strategies'?"),
        ("seed", [0], "seed: unknown field; did you mean 'seeds'?"),
        ("hybrid_alpha", [0.5], "hybrid_alpha: unknown field; did you mean 'hybrid_alphas'?"),
        ("colour", "red", "colour: unknown field (check the spelling)"),
    ],
)
def test_an_unknown_key_is_named_with_the_closest_valid_key(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    payload = valid_spec()
    intended = {"stratgies": "strategies", "seed": "seeds"}.get(key)
    if intended:  # the misspelt key replaces the right one, which is then also missing
        payload.pop(intended)
    payload[key] = value
    spec = tmp_path / "typo.yaml"
    spec.write_text(yaml.safe_dump(payload))
    with pytest.raises(XmirError) as error:
        load_spec(spec)
    assert f"typo.yaml: {expected}" in str(error.value)


def test_nested_unknown_keys_are_matched_within_their_section() -> None:
    with pytest.raises(XmirError, match=r"budget\.stepz: unknown field; did you mean 'steps'\?"):
        parse_spec(valid_spec(budget={"stepz": 3}))
    miracl = {"dataset": "miracl", "corpus": "hub", "languags": ["sw"]}
    with pytest.raises(XmirError, match=r"eval\[0\]\.languags: .*did you mean 'languages'\?"):
        parse_spec(valid_spec(eval=[miracl]))


def test_an_unsafe_tag_is_named_as_such(tmp_path: Path) -> None:
    spec = tmp_path / "tagged.yaml"
    spec.write_text(_spec_text().replace("name: tiny", "name: !!python/name:os.getcwd"))
    with pytest.raises(XmirError, match=r"unsafe YAML tag !!python/name:os\.getcwd refused"):
        load_spec(spec)
