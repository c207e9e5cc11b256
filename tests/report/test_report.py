"""The report from synthetic sweeps whose answers the test chose."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import synthetic_sweep
from synthetic_sweep import MODELS, setting_map, spec_payload, write_sweep
from typer.testing import CliRunner

from xmir.cli import app
from xmir.errors import XmirError
from xmir.report.aggregate import Summary
from xmir.report.build import build_report
from xmir.report.results import load_results
from xmir.report.table import format_cell, main_table
from xmir.sweep.spec import parse_spec

SIZES = ("1.8M", "3.6M", "7.2M")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("synthetic") / "sweep")


@pytest.fixture(scope="module")
def summary(sweep_dir: Path) -> Summary:
    return Summary(load_results(sweep_dir))


def test_table_cells_are_seed_means_and_stds(summary: Summary) -> None:
    table = main_table(summary)
    assert table.headers() == ["XQuAD-R mono", "XQuAD-R cross", "XQuAD-R multi", "XQuAD-R RD ↓"]
    by_key = {(row.group.model, row.group.strategy_label): row for row in table.rows}
    assert len(table.rows) == 3 * 4
    row = by_key[(MODELS[1], "hybrid0.5")]
    values = [setting_map(1, "hybrid", seed, "cross") for seed in (0, 1)]
    cell = row.cells[1]
    assert cell is not None
    assert cell.mean == pytest.approx(np.mean(values))
    assert cell.std == pytest.approx(np.std(values, ddof=1))
    assert format_cell(cell, "cross") == f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"
    baseline = by_key[(MODELS[0], "none")].cells[0]
    assert baseline is not None and baseline.std is None and baseline.n == 1


def _answer(root: Path, tmp_path: Path) -> tuple[str, str]:
    report = build_report(root, tmp_path / "report", html=False)
    return "\n".join(report.answer), report.markdown.read_text()


FIVE_SEEDS = [0, 1, 2, 3, 4]


def _five(
    tmp_path: Path, values_of: synthetic_sweep.Values = setting_map, **changes: object
) -> Path:
    """A synthetic sweep with five paired seeds (enough for verdicts after Holm)."""
    spec = parse_spec(spec_payload(seeds=FIVE_SEEDS, **changes))
    return write_sweep(tmp_path / "sweep", spec, values_of=values_of)


def test_known_answer_hybrid_ahead_and_behind(tmp_path: Path) -> None:
    """setting_map: hybrid trails mono in mono retrieval at 1.8M (-0.015) and 3.6M (-0.005,
    one seed +0.004) and leads at 7.2M (+0.005); it leads both elsewhere."""
    text, _ = _answer(_five(tmp_path), tmp_path)
    assert (
        "Against mono, hybrid0.5 is ahead in the cross-lingual setting at 1.8M, 3.6M and 7.2M; "
        "in the multilingual setting at 1.8M, 3.6M and 7.2M; in the monolingual setting at 7.2M; "
        "behind in the monolingual setting at 1.8M and 3.6M."
    ) in text
    assert (
        "among the untrained encoder, mono, cross and hybrid0.5 is hybrid0.5 at 1.8M, 3.6M and 7.2M"
        in text
    )
    assert re.search(
        r"hybrid0\.5 is the better all-rounder \(ahead\) at 1\.8M, Holm p = [\d.e-]+; 3\.6M", text
    )
    assert text.startswith("**Primary quantity (not pre-registered")


def _values_within_seed_noise(size: int, label: str, seed: int | None, setting: str) -> float:
    """Hybrid is +0.003 above cross everywhere, but the two seeds of hybrid and cross swing
    0.03 in opposite directions (training noise that pairing cannot remove)."""
    base = {"none": 0.2, "mono": 0.5, "cross": 0.55}.get(label, 0.553)
    swing = {"cross": -0.015, "none": 0.0}.get(label, 0.015) * (1 if seed == 0 else -1)
    return round(base + 0.05 * size + swing, 6)


def test_known_answer_level_within_seed_noise(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "sweep", values_of=_values_within_seed_noise)
    report = build_report(root, tmp_path / "report", html=False)
    found = [d for d in report.stats.differences if d.other == "cross"] if report.stats else []
    assert len(found) == 9 and all(d.seeds == 2 and d.verdict == "level" for d in found)
    assert all(d.diff.estimate == pytest.approx(0.003, abs=1e-3) for d in found)
    text = "\n".join(report.answer)
    assert (
        "Against cross, hybrid0.5 is level in the monolingual setting at 1.8M, 3.6M and 7.2M; "
        "in the cross-lingual setting at 1.8M, 3.6M and 7.2M; in the multilingual setting at "
        "1.8M, 3.6M and 7.2M."
    ) in text


def _values_behind(size: int, label: str, seed: int | None, setting: str) -> float:
    """Mono wins every setting by 0.05 over hybrid; cross is worst."""
    base = {"none": 0.2, "mono": 0.6, "cross": 0.5}.get(label, 0.55)
    return round(base + 0.02 * size + 0.001 * (seed or 0), 6)


def test_known_answer_behind_everywhere(tmp_path: Path) -> None:
    text, markdown = _answer(_five(tmp_path, _values_behind), tmp_path)
    assert (
        "Against mono, hybrid0.5 is behind in the monolingual setting at 1.8M, 3.6M and 7.2M; "
        "in the cross-lingual setting at 1.8M, 3.6M and 7.2M; in the multilingual setting at "
        "1.8M, 3.6M and 7.2M."
    ) in text
    assert "is mono at 1.8M, 3.6M and 7.2M" in text
    assert re.search(
        r"hybrid0\.5 is the worse all-rounder \(behind\) at 1\.8M, Holm p = [\d.e-]+; 3\.6M", text
    )
    assert "| **mono** |" in markdown


def _values_chord(size: int, label: str, seed: int | None, setting: str) -> float:
    """mono (0.7, 0.3, 0.2), cross (0.6, 0.35, 0.3); hybrid0.5 equals the mixture in mono and
    multi at 1.8M and is 0.03 above it in multi at the larger sizes."""
    point = {
        "none": (0.4, 0.1, 0.1),
        "mono": (0.7, 0.3, 0.2),
        "cross": (0.6, 0.35, 0.3),
        "hybrid0.5": (0.65, 0.325, 0.25 if size == 0 else 0.28),
    }[label]
    value = point[("mono", "cross", "multi").index(setting)]
    return round(value + 0.0005 * (seed or 0), 6)


def test_known_answer_synergy_against_the_mixture(tmp_path: Path) -> None:
    text, markdown = _answer(_five(tmp_path, _values_chord), tmp_path)
    assert (
        "against the alpha-weighted mixture of mono and cross, hybrid0.5 is ahead in the "
        "multilingual setting at 3.6M (+0.030"
    ) in text
    assert re.search(r"level in the monolingual setting at 1\.8M \([+-]0\.000", text)
    assert (
        "in the multilingual setting at 1.8M (+0.000" in text
        or "in the multilingual setting at 1.8M (-0.000" in text
    )
    assert "## Synergy: hybrid against the mixture of mono and cross, and the baselines" in markdown


def test_one_seed_gets_no_verdict_words(tmp_path: Path) -> None:
    """A 1-seed sweep: every verdict is "1 seed: training noise unknown", never ahead,
    behind or (not) distinguishable."""
    spec = parse_spec(spec_payload(seeds=[0]))
    text, markdown = _answer(write_sweep(tmp_path / "sweep", spec), tmp_path)
    answer_text = text.rsplit("\n", 1)[0]  # the last paragraph defines the verdict words
    assert "1 seed: training noise unknown" in answer_text
    assert not re.search(r"\bahead\b|\bbehind\b|distinguishabl|\blevel\b", answer_text)
    verdicts = [row[-1] for row in _table(markdown, "Hybrid against each single strategy")]
    assert verdicts and set(verdicts) == {"1 seed: training noise unknown"}


def test_a_pre_registered_primary_test_comes_first(tmp_path: Path) -> None:
    text, _ = _answer(_five(tmp_path, primary={"quantity": "standing"}), tmp_path)
    assert text.startswith(
        "**Primary test (pre-registered in the sweep spec).** hybrid0.5's all-round standing "
        "averaged over the sizes (XQuAD-R, 10 steps, 3 sizes (1.8M to 7.2M), 5 paired seeds) is "
    )
    assert re.search(r"\(95% interval, p = [\d.e-]+\): hybrid0\.5 is the better all-rounder", text)


def test_a_primary_test_at_one_size_says_so(tmp_path: Path) -> None:
    sweep = _five(tmp_path, models=MODELS[:1], primary={"quantity": "standing"})
    text, _ = _answer(sweep, tmp_path)
    assert "(XQuAD-R, 10 steps, 1 size (1.8M), 5 paired seeds)" in text.split("\n", 1)[0]


def test_a_primary_test_that_cannot_be_computed_is_said_so(tmp_path: Path) -> None:
    """Hybrid's seeds differ between the sizes, so there is no pooled paired estimate: the
    registered test is named and said to be missing."""
    spec = parse_spec(spec_payload(primary={"quantity": "standing", "budget": 10}))
    hybrids = {"e5-small-q4-L1-hybrid0.5-b16-s1"}
    hybrids |= {f"e5-small-q4-L{n}-hybrid0.5-b16-s0" for n in (2, 4)}
    text, _ = _answer(write_sweep(tmp_path / "sweep", spec, skip=hybrids), tmp_path)
    assert text.startswith(
        "**Primary test (pre-registered in the sweep spec): not computable** from these results "
        "(the sizes share no seed)"
    )


def test_size_trends_need_four_sizes_and_are_fitted_once(tmp_path: Path) -> None:
    spec_sizes = synthetic_sweep.ALL_MODELS
    report = build_report(_five(tmp_path, models=spec_sizes), tmp_path / "report", html=False)
    assert report.stats is not None
    quantities = [t.quantity for t in report.stats.trends]
    assert (
        len(quantities) == len(set(quantities)) == 7
    )  # 2 single strategies x 3 settings + standing
    trend = next(t for t in report.stats.trends if t.quantity == "hybrid0.5 - cross, cross")
    assert trend.slope.estimate == pytest.approx(0.01, abs=1e-3)  # +0.01 per size doubling
    assert trend.verdict == "ahead"
    answer = "\n".join(report.answer)
    assert re.search(
        r"minus cross in the cross-lingual setting improves \(ahead; \+0\.0(099|100|101) ", answer
    )


def test_known_answer_bias_reduction_survives_centering_and_stacks(
    sweep_dir: Path, tmp_path: Path
) -> None:
    """Synthetic bias: hybrid's rank distance is 45 below mono's (seed spread 1.4) and 17.5
    below after centering; its MRC follows; own-language share is the same for all."""
    text, _ = _answer(sweep_dir, tmp_path)
    assert (
        "By rank distance, hybrid0.5 is less biased than mono by more than the seed spread at "
        "1.8M, 3.6M and 7.2M (of 3); after centering both, this survives at 1.8M, 3.6M and "
        "7.2M; centering and hybrid training stack at 1.8M, 3.6M and 7.2M"
    ) in text
    assert "by Mean Rank Correlation, hybrid0.5 is less biased than mono by more" in text
    assert (
        "by own-language share@10, hybrid0.5 is less biased than mono by more than the seed "
        "spread at no size (of 3); centering and hybrid training stack at no size"
    ) in text


def test_known_answer_centering_erases_the_bias_reduction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Centred, hybrid sits 40 above half its raw distance: 17.5 above centred mono."""
    monkeypatch.setattr(synthetic_sweep, "CENTERED_OFFSET", 40.0)
    text, _ = _answer(write_sweep(tmp_path / "sweep"), tmp_path)
    assert (
        "at 1.8M, 3.6M and 7.2M (of 3); after centering both, this survives at no size; "
        "centering and hybrid training stack at no size; by Mean Rank Correlation"
    ) in text


def _table(markdown: str, title: str, *, header: bool = False) -> list[list[str]]:
    section = markdown.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows]
    return cells[:1] if header else cells[2:]


@pytest.mark.parametrize("values", ["default", "behind", "chord"])
def test_the_answer_is_consistent_with_its_own_tables(values: str, tmp_path: Path) -> None:
    chosen = {"default": setting_map, "behind": _values_behind, "chord": _values_chord}[values]
    text, markdown = _answer(_five(tmp_path, chosen), tmp_path)
    # Winners: the bold strategy of each size in the all-round table.
    winners: dict[str, list[str]] = {}
    for row in _table(markdown, "All-round standing (the claim"):
        if row[3].startswith("**"):
            winners.setdefault(row[3].strip("*"), []).append(row[2])
    for label, sizes in winners.items():
        joined = ", ".join(sizes[:-1]) + f" and {sizes[-1]}" if len(sizes) > 1 else sizes[0]
        assert f"{label} at {joined}" in text
    # Verdicts: every (comparison, setting, size) of the table appears under its word.
    table = _table(markdown, "Hybrid against each single strategy")
    for row in table:
        size, setting, comparison, word = row[2], row[3], row[4], row[-1]
        other = comparison.split(" − ")[1]
        sentence = re.search(rf"Against {other}, hybrid0\.5 is (.*?)\.(?=\s|$)", text)
        assert sentence, other
        groups = re.split(r"; (?=(?:ahead|behind|level|without a verdict) )", sentence.group(1))
        mine = next(g for g in groups if g.startswith(word))
        clause = re.search(rf"in the {setting} setting at ([^;]*)", mine)
        assert clause and size in clause.group(1), (row, mine)
    # Standing: the table's verdict at each size is the answer's word there (a standing above
    # 0 makes hybrid the worse all-rounder: behind, in the table as in the answer).
    for row in _table(markdown, "Hybrid's all-round standing by size and budget"):
        size, word = row[1], row[2].rsplit("; ", 1)[1].rstrip(")")
        assert word in {"ahead", "behind", "level"}, row
        by_test = text.split("By the tests (family: standing per size and budget)")[1]
        said = re.search(rf"\((ahead|behind|level)\) at (?:[^(]*; )?{re.escape(size)}", by_test)
        assert said and said.group(1) == word, (row, by_test[:300])
        if word != "level":
            above_zero = row[2].startswith("+")
            assert (word == "behind") == above_zero, row
    # Headline: the standing per size as in the standing table, the bold model the winner.
    standing = {row[1]: row[2] for row in _table(markdown, "Hybrid's all-round standing by")}
    title = "Headline: worst-case regret per size"
    headline, [names] = _table(markdown, title), _table(markdown, title, header=True)
    assert len(headline) == len(standing)
    for row in headline:
        assert row[-1] == re.sub(r"\(\d+ seeds, ", "(", standing[row[1]]), row
        bold = [i for i, cell in enumerate(row) if cell.startswith("**")]
        assert len(bold) == 1 and row[1] in winners.get(names[bold[0]], []), row


def test_report_files(sweep_dir: Path, tmp_path: Path) -> None:
    report = build_report(sweep_dir, tmp_path / "report")
    markdown = report.markdown.read_text()
    assert "Protocol departure (offline cross-dataset zero-shot)" in markdown
    assert "el, ru, th, tr never appear in training" in markdown
    assert "seeded sample (seed 0) of about 30 question ids" in markdown
    assert "**Budget:** 10 optimizer steps of 16 pairs at lr 3e-05" in markdown
    for section in (
        "## All-round standing",
        "## How certain: the interval method",
        "## Hybrid's all-round standing by size and budget",
        "## Hybrid against each single strategy (question-id level)",
        "## Against the untrained encoder",
        "## Synergy: hybrid against the mixture of mono and cross, and the baselines",
        "## Alpha frontier: setting means",
        "## Language bias, raw and after post-hoc language centering",
    ):
        assert section in markdown
    for figure in report.figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({figure.relative_to(tmp_path / 'report').as_posix()})" in markdown
    assert {f.name for f in report.figures} == {
        "map_vs_params.png",
        "all_round.png",
        "standing_size_budget.png",
        "alpha_frontier.png",
        "bias_raw_vs_centered.png",
        "rank_distance_vs_params.png",
        "cross_heatmap_xquad-r.png",
        "batch_mix.png",
    }
    assert report.stats is not None and report.stats.cluster_kind == "paragraphs"
    assert "clusters of question ids (xquad-r: 10 paragraphs" in markdown
    assert report.html is not None
    html = report.html.read_text()
    assert html.count('src="data:image/png;base64,') == len(report.figures)
    rows = list(csv.DictReader(report.csv.open()))
    assert len(rows) == 3 * (1 + 3 * 2)
    first = next(r for r in rows if r["run_id"] == "e5-small-q4-L1-mono-b16-s1")
    assert float(first["cross"]) == pytest.approx(setting_map(0, "mono", 1, "cross"))
    assert first["steps"] == "10" and float(first["centered_rank_distance"]) > 0


@pytest.mark.slow
def test_a_study_of_two_sweeps_with_budgets(tmp_path: Path) -> None:
    """A long sweep evaluated at 5 and 10 steps next to a 5-step sweep: pooled by budget,
    the size x budget section and the budget sentence appear, duplicates are checked."""
    short = parse_spec(spec_payload(name="short", budget={"steps": 5}, seeds=[1]))
    long = parse_spec(
        spec_payload(
            name="long",
            seeds=[0],
            include_untrained=False,
            budget={"steps": 10, "eval_at": [5], "lr_schedule": "constant", "warmup_steps": 1},
        )
    )
    dup = parse_spec(spec_payload(name="zdup", models=MODELS[:1], seeds=[1], budget={"steps": 5}))
    root = tmp_path / "study"
    write_sweep(root / "short", short)
    write_sweep(root / "long", long)
    write_sweep(root / "zdup", dup)
    results = load_results(root)
    assert results.budgets == [5, 10] and results.main_budget == 5
    assert len(results.duplicates) == 4  # zdup repeats 1.8M untrained + 3 strategies of short
    assert all(d["max_abs_map_difference"] == 0 for d in results.duplicates)
    seeds = {r.seed for r in results.at_budget(5).runs if r.strategy == "mono"}
    assert seeds == {0, 1}  # seed 0 from the long run's 5-step snapshot
    report = build_report(root, tmp_path / "report", html=False)
    markdown = report.markdown.read_text()
    assert "## Budget: paired change of the standing" in markdown
    assert "### Table 1 at 10 steps" in markdown
    answer = "\n".join(report.answer)
    assert "**Budget (exploratory; Holm family: budget changes).** With a longer budget" in answer
    # Every budget's standing, with its interval, in step order; one shared seed: no verdict.
    assert re.search(
        r"at 1\.8M, hybrid0\.5's standing by budget \(steps\) is [+-]\d\.\d{3} "
        r"\[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] \(5\) → [+-]\d\.\d{3} "
        r"\[[+-]\d\.\d{3}, [+-]\d\.\d{3}\] \(10\); from 5 to 10 steps the change is "
        r"without a verdict \(1 seed: training noise unknown\) \(paired change ",
        answer,
    )
    assert "map_vs_steps_xquad-r.png" in {f.name for f in report.figures}
    assert "## Reproducibility check" in markdown


def test_the_setup_gives_every_rate_the_runs_trained_at(tmp_path: Path) -> None:
    """Two sweeps at two rates: the setup lists both (from the runs, not one spec's budget),
    and the budget note gives their range."""
    root = tmp_path / "study"
    for name, lr in (("slow", 1e-4), ("fast", 3e-4)):
        budget = {"steps": 10, "lr": lr, "temperature": 0.05}
        write_sweep(root / name, parse_spec(spec_payload(name=name, seeds=[0], budget=budget)))
    text = build_report(root, tmp_path / "report", html=False).markdown.read_text()
    assert "steps (main: 10); lr 0.0001, 0.0003 (linear warmup and decay), temperature 0.05" in text
    assert "**Budget:** 10 optimizer steps of 16 pairs at lr 0.0001 to 0.0003 (the paper:" in text


def test_failed_runs_are_listed_and_left_out(tmp_path: Path) -> None:
    failed = "e5-small-q4-L4-hybrid0.5-b16-s1"
    root = write_sweep(tmp_path / "sweep", skip={failed})
    results = load_results(root)
    assert failed not in {r.run_id for r in results.runs}
    assert results.failed == {failed: "boom"}
    report = build_report(root, html=False)
    assert f"- `{failed}`: failed: boom" in report.markdown.read_text()
    row = next(
        r
        for r in report.table.rows
        if r.group.model == MODELS[2] and r.group.strategy_label == "hybrid0.5"
    )
    assert row.seeds == 1


def test_two_sizes_no_trend_is_fitted(tmp_path: Path) -> None:
    spec = parse_spec(spec_payload(models=MODELS[:2], seeds=[0]))
    report = build_report(write_sweep(tmp_path / "sweep", spec), html=False)
    assert report.stats is not None and report.stats.trends == []
    assert "Size trends at" not in "\n".join(report.answer)


def test_reading_a_folder_that_is_not_a_sweep(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match=r"no sweep\.json here or in its sub-folders"):
        load_results(tmp_path)
    root = write_sweep(tmp_path / "sweep", skip=None)
    for status in root.glob("runs/*/status.json"):
        status.unlink()
    with pytest.raises(XmirError, match="no finished runs yet"):
        load_results(root)


def test_report_cli_prints_the_table(sweep_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", str(sweep_dir), "--out", str(tmp_path / "r"), "--no-html"]
    )
    assert result.exit_code == 0, result.output
    assert "XQuAD-R: mAP" in result.output
    assert "hybrid0.5" in result.output
    assert (tmp_path / "r" / "report.md").is_file()
    assert not (tmp_path / "r" / "report.html").exists()
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2


def test_a_primary_test_on_fewer_seeds_than_ran_says_so(tmp_path: Path) -> None:
    """Seed 4 of hybrid at 1.8M is missing: the pooled test pairs seeds across every size and
    model, so it runs on the other four and says that five ran."""
    spec = parse_spec(spec_payload(seeds=FIVE_SEEDS, primary={"quantity": "standing"}))
    skip = {"e5-small-q4-L1-hybrid0.5-b16-s4"}
    text, _ = _answer(write_sweep(tmp_path / "sweep", spec, skip=skip), tmp_path)
    assert (
        "3 sizes (1.8M to 7.2M), 4 paired seeds: those every compared model ran at every size, "
        "of up to 5)"
    ) in text.split("\n", 1)[0]


def test_a_model_best_in_every_setting_gets_no_zero_width_interval(tmp_path: Path) -> None:
    """setting_map: at 7.2M hybrid leads in every setting, so its regret is 0 and the
    linearised interval would be [0, 0]; the tables say so in words instead."""
    _, markdown = _answer(_five(tmp_path), tmp_path)
    rows = _table(markdown, "All-round standing (the claim")
    hybrid = next(r for r in rows if r[2] == "7.2M" and r[3].strip("*") == "hybrid0.5")
    assert hybrid[-4] == hybrid[-3] == "0 (best in every setting)"
    assert "0.000 [0.000, 0.000]" not in markdown
    headline = _table(markdown, "Headline: worst-case regret per size")
    assert "**0 (best in every setting)**" in next(r for r in headline if r[1] == "7.2M")
