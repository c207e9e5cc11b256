"""MIRACL as a sweep eval set: spec, commands, fingerprint, cost and the run's result files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import FAKE_CLI, small_spec

from xmir.records import read_json_object
from xmir.sweep.commands import run_steps, train_args
from xmir.sweep.cost import eval_texts, miracl_passages
from xmir.sweep.layout import SweepLayout
from xmir.sweep.prepare import plan_sweep, prepare_output
from xmir.sweep.runner import RunnerOptions, run_sweep
from xmir.sweep.spec import MiraclEvalSet, parse_spec

XQUAD = {"dataset": "xquad-r", "max_questions": 20}


def miracl_set(**changes: Any) -> dict[str, Any]:
    eval_set: dict[str, Any] = {
        "dataset": "miracl",
        "corpus": "hub",
        "languages": ["sw", "yo"],
        "max_topics": 3,
        "subset_seed": 2,
    }
    eval_set.update(changes)
    return eval_set


def test_miracl_steps_keep_the_baseline_embeddings_and_drop_the_fine_tuned_ones(
    tmp_path: Path,
) -> None:
    spec = parse_spec(small_spec(eval=[XQUAD, miracl_set()]))
    sweep = plan_sweep(spec)
    layout = SweepLayout(tmp_path)
    baseline = next(r for r in sweep.runs if r.is_baseline)
    trained = next(r for r in sweep.runs if not r.is_baseline)
    base_steps = run_steps(spec, baseline, layout)
    assert [s.name for s in base_steps] == ["eval-xquad-r", "eval-miracl"]
    out = layout.run_dir(baseline.run_id) / "eval-miracl.json"
    assert base_steps[1].args == [
        "eval", "--model", baseline.model, "--dataset", "miracl", "--corpus", "hub",
        "--languages", "sw,yo", "--max-topics", "3", "--seed", "2", "--out", str(out),
    ]  # fmt: skip
    trained_steps = run_steps(spec, trained, layout)
    assert [s.name for s in trained_steps] == ["train", "eval-xquad-r", "eval-miracl"]
    assert "--drop-embeddings" in trained_steps[2].args
    assert "--drop-embeddings" not in trained_steps[1].args
    train = train_args(spec, trained, tmp_path / "model")
    assert train[train.index("--eval-data") + 1] == "xquad-r"  # the guard reads LAReQA only


def test_a_miracl_only_sweep_trains_without_an_overlap_set(tmp_path: Path) -> None:
    spec = parse_spec(small_spec(eval=[miracl_set(search="flat", bm25=False, corpus=".")]))
    run = next(r for r in plan_sweep(spec).runs if not r.is_baseline)
    assert "--eval-data" not in train_args(spec, run, tmp_path)
    args = run_steps(spec, run, SweepLayout(tmp_path))[1].args
    assert args[args.index("--search") + 1] == "flat" and "--no-bm25" in args


def test_the_miracl_set_enters_the_run_config_and_lareqa_sets_dump_as_before() -> None:
    spec = parse_spec(small_spec(eval=[XQUAD, miracl_set()]))
    sweep = plan_sweep(spec)
    config = sweep.configs[sweep.runs[0].run_id]
    assert config["eval"][0] == {"dataset": "xquad-r", "max_questions": 20, "subset_seed": 0}
    assert config["eval"][1] == {
        "dataset": "miracl", "corpus": "hub", "languages": ["sw", "yo"], "max_topics": 3,
        "subset_seed": 2, "topics": None, "qrels": None, "search": "auto", "bm25": True,
    }  # fmt: skip
    other = plan_sweep(parse_spec(small_spec(eval=[XQUAD, miracl_set(max_topics=4)])))
    assert all(other.fingerprints[r] != f for r, f in sweep.fingerprints.items())


def test_miracl_cost_counts_every_passage_of_each_corpus() -> None:
    small = MiraclEvalSet.model_validate(miracl_set(languages=["sw"], max_topics=None))
    large = MiraclEvalSet.model_validate(miracl_set(languages=["sw", "en"]))
    assert eval_texts(small) > miracl_passages("sw")  # passages cost more than a sentence
    assert eval_texts(large) > eval_texts(small) + miracl_passages("en")
    every = MiraclEvalSet.model_validate({"dataset": "miracl", "corpus": "hub"})
    assert len(every.language_list) == 18
    assert every.describe() == "miracl (18 languages)"


@pytest.mark.slow
def test_a_sweep_lists_and_compresses_its_miracl_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_XMIR_FAIL", raising=False)
    budget = {"steps": 4, "eval_at": [2], "lr_schedule": "constant", "warmup_steps": 1}
    spec = small_spec(eval=[XQUAD, miracl_set()], budget=budget)
    sweep = plan_sweep(parse_spec(spec))
    layout = prepare_output(sweep, tmp_path / "out")
    outcomes = run_sweep(sweep, layout, RunnerOptions(cli=FAKE_CLI))
    assert {o.state for o in outcomes} == {"finished"}
    run_id = "e5-small-q4-L2-hybrid0.5-b4-s0"
    result = json.loads(layout.result_file(run_id).read_text())
    assert result["evals"] == {"xquad-r": "eval-xquad-r.json", "miracl": "eval-miracl.json"}
    assert result["budgets"]["2"] == {
        "xquad-r": "eval-xquad-r@2.json",
        "miracl": "eval-miracl@2.json",
    }
    run_dir = layout.run_dir(run_id)
    assert (run_dir / "eval-miracl.json.gz").is_file() and (
        run_dir / "eval-miracl@2.json.gz"
    ).is_file()
    document = read_json_object(run_dir / result["evals"]["miracl"])
    assert document is not None
    assert set(document["settings"]["mono"]["per_language"]) == {"sw", "yo"}
    baseline = json.loads(layout.result_file("e5-small-q4-L2-none").read_text())
    assert baseline["evals"]["miracl"] == "eval-miracl.json"


def test_dry_run_names_the_miracl_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from typer.testing import CliRunner

    from xmir.cli import app
    from xmir.commands.common import console

    monkeypatch.setattr(console, "_width", 200)
    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(small_spec(eval=[XQUAD, miracl_set()])))
    result = CliRunner().invoke(app, ["sweep", str(spec_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "eval: xquad-r about 20 questions, miracl (2 languages, at most 3 topics each)" in (
        " ".join(result.output.split())
    )


def _write_miracl_corpus(root: Path, data_dir: Path, topics_kept: int = 5) -> dict[str, str]:
    """Topics/qrels of the first real sw dev topics and a corpus around their judged docids
    (relevant passages repeat the topic text, the others are shuffled topic words)."""
    import gzip
    import random

    from xmir.data.miracl import read_qrels, read_topics

    rng = random.Random(0)
    topics = read_topics(data_dir / "miracl" / "topics.miracl-v1.0-sw-dev.tsv.gz")
    qrels = read_qrels(data_dir / "miracl" / "qrels.miracl-v1.0-sw-dev.tsv.gz")
    chosen = list(topics)[:topics_kept]
    words = sorted({w for q in chosen for w in topics[q].split()})
    (root / "judged").mkdir(parents=True)
    (root / "judged" / "topics.sw.tsv").write_text("".join(f"{q}\t{topics[q]}\n" for q in chosen))
    lines = [f"{q} Q0 {d} {r}\n" for q in chosen for d, r in qrels[q].items()]
    (root / "judged" / "qrels.sw.tsv").write_text("".join(lines))
    records = {
        d: topics[q] if r > 0 else " ".join(rng.sample(words, min(5, len(words))))
        for q in chosen
        for d, r in qrels[q].items()
    }
    records.update({f"99{i}#0": " ".join(rng.sample(words, min(6, len(words)))) for i in range(30)})
    folder = root / "corpus" / "miracl-corpus-v1.0-sw"
    folder.mkdir(parents=True)
    with gzip.open(folder / "docs-0.jsonl.gz", "wt", encoding="utf-8") as handle:
        for docid, text in records.items():
            handle.write(json.dumps({"docid": docid, "title": "", "text": text}) + "\n")
    return {
        "corpus": str(root / "corpus"),
        "topics": str(root / "judged" / "topics.{lang}.tsv"),
        "qrels": str(root / "judged" / "qrels.{lang}.tsv"),
    }


@pytest.mark.slow
def test_the_real_sweep_trains_and_evaluates_on_miracl(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    import yaml

    files = _write_miracl_corpus(tmp_path / "miracl", data_dir)
    spec = {
        "name": "miracl-e2e",
        "models": [str(tiny_model_dir)],
        "strategies": ["mono"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{**miracl_set(languages=["sw"], search="exact"), **files}],
        "budget": {"steps": 2},
    }
    spec_file, out = tmp_path / "sweep.yaml", tmp_path / "out"
    spec_file.write_text(yaml.safe_dump(spec))
    env = {**os.environ, "XMIR_DATA_DIR": str(data_dir), "XMIR_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "xmir", "sweep", str(spec_file), "--out", str(out)]
    done = subprocess.run(
        [*command, "--no-report"], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    documents = {}
    for run_id in ("model-none", "model-mono-b4-s0"):
        result = json.loads((out / "runs" / run_id / "result.json").read_text())
        assert result["evals"] == {"miracl": "eval-miracl.json"}
        documents[run_id] = read_json_object(out / "runs" / run_id / "eval-miracl.json")
    base, tuned = documents["model-none"], documents["model-mono-b4-s0"]
    assert base is not None and tuned is not None
    for document in (base, tuned):
        assert document["settings"]["mono"]["queries"] == 3  # the seeded topic sample
        assert document["dataset"]["topic_sample"]["seed"] == 2
        assert 0.0 <= document["settings"]["mono"]["ndcg@10"] <= 1.0
    assert tuned["model"]["weights_sha256"] != base["model"]["weights_sha256"]
    assert tuned["embeddings"]["sw"]["deleted_after_use"] is True  # fine-tuned: evaluated once
    assert "deleted_after_use" not in base["embeddings"]["sw"]
    kept = tmp_path / "cache" / "corpus-embeddings" / base["embeddings"]["sw"]["cache_key"]
    assert kept.is_dir()
    assert not (
        tmp_path / "cache" / "corpus-embeddings" / tuned["embeddings"]["sw"]["cache_key"]
    ).exists()
    # The report puts MIRACL's nDCG@10 and Recall@100 next to the LAReQA settings.
    from xmir.report.build import build_report

    report = build_report(out, tmp_path / "report", html=False)
    markdown = report.markdown.read_text(encoding="utf-8")
    assert "MIRACL nDCG@10" in markdown and "MIRACL R@100" in markdown
    ndcg = f"{tuned['settings']['mono']['ndcg@10']:.3f}"
    assert ndcg in markdown
    assert "**MIRACL** (dev, monolingual retrieval over the corpus" in markdown
    assert "map_vs_params.png" in {f.name for f in report.figures}
