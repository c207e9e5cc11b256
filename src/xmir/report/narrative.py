"""The plain-language answer, written only from the computed estimates, tests and verdicts.

First the primary test the sweep spec names (or the default quantity, marked not
pre-registered); then, per dataset and budget, the all-round standing with its verdict per
size, the comparisons with mono, cross and the untrained encoder, budget changes, size trends,
synergy, and language bias. Every clause carries its verdict word (:mod:`xmir.report.verdicts`)
and every p-value after the primary one is Holm-adjusted within a named family.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from xmir.report.bias_summary import LESS_BIASED, UNKNOWN_NOISE, BiasComparison
from xmir.report.figures import DATASET_TITLES, SETTING_TITLES, format_params
from xmir.report.stats.allround import AllRoundCell
from xmir.report.stats.comparisons import MIXTURE, Difference
from xmir.report.stats.intervals import Estimate
from xmir.report.stats.study import (
    BUDGET_FAMILY,
    STANDING_FAMILY,
    BudgetChange,
    Primary,
    StudyStats,
)
from xmir.report.stats.trends import TREND_FAMILY, Trend
from xmir.report.verdicts import (
    AHEAD,
    BEHIND,
    LEVEL,
    ONE_SEED,
    ORDER,
    movement,
    regret_verdict,
    verdict,
)

STANDING_NOTE = (
    "standing = hybrid's worst-case regret minus the best other model's (the untrained encoder "
    "and any baseline included); negative means hybrid is the better all-rounder"
)
STANDING_WORDS = {
    BEHIND: "the worse all-rounder (behind)",
    AHEAD: "the better all-rounder (ahead)",
    LEVEL: "not distinguishable from the best other model (level)",
    ONE_SEED: f"without a verdict ({ONE_SEED})",
}
WORDS = {AHEAD: AHEAD, BEHIND: BEHIND, LEVEL: LEVEL, ONE_SEED: f"without a verdict ({ONE_SEED})"}


def listing(items: Iterable[str]) -> str:
    values = list(items)
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else "".join(values)


def size(params: float) -> str:
    return format_params(params)


def sizes_text(params: Iterable[float]) -> str:
    """Sizes as a sentence list, or "no size" for none."""
    return listing(size(p) for p in params) or "no size"


def signed_interval(i: Estimate) -> str:
    """``+0.012 [+0.004, +0.020]``: an estimate with its 95% interval."""
    return f"{i.estimate:+.3f} [{i.low:+.3f}, {i.high:+.3f}]"


def p_text(p: float) -> str:
    return "–" if p != p else f"{p:.2g}" if p < 0.01 else f"{p:.2f}"


def standing_word(r: AllRoundCell) -> str:
    return STANDING_WORDS[r.standing_verdict]


def answer(stats: StudyStats, bias: list[BiasComparison], main_budget: int | None) -> list[str]:
    """Paragraphs (Markdown) answering: how does hybrid batching scale with model size?"""
    if stats.hybrid is None:
        return ["No hybrid strategy ran: there is nothing to answer."]
    paragraphs: list[str] = []
    if stats.primary is not None:
        paragraphs.append(primary_sentence(stats.primary, stats.hybrid))
    for dataset in sorted({c.dataset for c in stats.cells}):
        rounds = [r for r in stats.all_round if r.cell.dataset == dataset]
        budgets = sorted({r.cell.steps for r in rounds}, key=lambda b: (b != main_budget, b))
        title = DATASET_TITLES.get(dataset, dataset)
        for steps in budgets:
            at = [r for r in rounds if r.cell.steps == steps]
            text = f"**{title}, {steps} steps (exploratory).** " + all_round_sentence(
                at, stats.hybrid
            )
            trend = _trend(stats.trends, dataset, steps, "standing")
            if trend is not None:
                text += " " + standing_trend_sentence(trend, stats.hybrid)
            if steps == main_budget:
                text += " " + verdict_sentences(stats.differences, stats.hybrid, dataset, steps)
            paragraphs.append(text)
        untrained = untrained_sentence(
            [d for d in stats.untrained if (d.dataset, d.steps) == (dataset, main_budget)],
            main_budget,
        )
        if untrained:
            paragraphs.append(untrained)
        changes = [b for b in stats.budget_changes if b.dataset == dataset]
        if changes:
            paragraphs.append(budget_sentence(changes, stats.hybrid))
        main_trends = [
            t
            for t in stats.trends
            if t.dataset == dataset and t.steps == main_budget and t.quantity != "standing"
        ]
        if main_trends:
            paragraphs.append(trend_sentences(main_trends, main_budget))
        synergy = [s for s in stats.synergies if (s.dataset, s.steps) == (dataset, main_budget)]
        if synergy:
            paragraphs.append(synergy_sentence(synergy, main_budget))
    bias_text = bias_sentence(bias, stats.hybrid, main_budget)
    if bias_text:
        paragraphs.append(bias_text)
    paragraphs.append(
        "Verdict words: *ahead*/*behind* = with two or more paired seeds, the test over seeds "
        "and question clusters rejects no difference at 0.05 after Holm's correction within its "
        "family; *level* = it does not reject; *1 seed: training noise unknown* = one seed, so "
        "no verdict is made (the interval then covers question sampling only). Intervals are "
        "per comparison, not adjusted, so an interval that excludes 0 can stand beside *level* "
        "when Holm's correction keeps its p-value above 0.05."
    )
    return paragraphs


def primary_sentence(primary: Primary, hybrid: str) -> str:
    """The primary test first: its estimate, interval, p-value and verdict."""
    e = primary.estimate
    if e is None:
        return (
            "**Primary test (pre-registered in the sweep spec): not computable** from these "
            f"results ({primary.missing}), so no verdict is primary; every verdict below is "
            "exploratory."
        )
    word = STANDING_WORDS[regret_verdict(verdict(e, e.p))]
    dataset = primary.dataset or ""
    first, last = size(primary.sizes[0]), size(primary.sizes[-1])
    sizes = (
        f"{len(primary.sizes)} sizes ({first} to {last})"
        if len(primary.sizes) > 1
        else f"1 size ({first})"
    )
    seeds = f"{e.seeds} paired seed{'s' * (e.seeds != 1)}"
    if primary.most_seeds > e.seeds:  # pairing kept only the seeds every model shares
        seeds += f": those every compared model ran at every size, of up to {primary.most_seeds}"
    where = f"{DATASET_TITLES.get(dataset, dataset)}, {primary.steps} steps, {sizes}, {seeds}"
    head = (
        "**Primary test (pre-registered in the sweep spec).**"
        if primary.registered
        else "**Primary quantity (not pre-registered: the sweep spec names no `primary:` test, "
        "so this default is exploratory like every verdict below).**"
    )
    return (
        f"{head} {hybrid}'s all-round standing averaged over the sizes ({where}) is "
        f"{signed_interval(e)} (95% interval, p = {p_text(e.p)}): {hybrid} is {word}."
    )


def _trend(trends: list[Trend], dataset: str, steps: int, quantity: str) -> Trend | None:
    return next(
        (t for t in trends if (t.dataset, t.steps, t.quantity) == (dataset, steps, quantity)), None
    )


def all_round_sentence(rounds: list[AllRoundCell], hybrid: str) -> str:
    """Lowest worst-case regret per size, then hybrid's standing per size with its verdict."""
    rounds = sorted(rounds, key=lambda r: r.cell.params)
    by_winner: dict[str, list[str]] = {}
    for r in rounds:
        by_winner.setdefault(_name(r.winner), []).append(size(r.cell.params))
    winners = "; ".join(f"{label} at {listing(sizes)}" for label, sizes in by_winner.items())
    compared = listing(_name(x) for x in rounds[0].compared) if rounds else ""
    text = (
        f"By point estimate, the lowest worst-case regret over the mono, cross and multi "
        f"settings among {compared} is {winners} (a ranking, not a verdict; the standing's "
        f"verdict follows)."
    )
    standings = [r for r in rounds if r.standing is not None]
    if standings:
        parts = ", ".join(
            f"{signed_interval(r.standing)} at {size(r.cell.params)}"  # type: ignore[arg-type]
            for r in standings
        )
        text += f" {hybrid}'s standing ({STANDING_NOTE}; 95% interval) is {parts}."
        groups: dict[str, list[str]] = {}
        for r in standings:
            p = "" if not r.standing.noise_known else f", Holm p = {p_text(r.adjusted_p)}"  # type: ignore[union-attr]
            groups.setdefault(standing_word(r), []).append(f"{size(r.cell.params)}{p}")
        pieces = [f"{word} at {'; '.join(places)}" for word, places in groups.items()]
        text += f" By the tests (family: {STANDING_FAMILY}), {hybrid} is " + "; ".join(pieces) + "."
    return text


def _name(label: str) -> str:
    return "the untrained encoder" if label == "none" else label


def standing_trend_sentence(trend: Trend, hybrid: str) -> str:
    how = movement(trend.verdict, lower_is_better=True)
    low_size, high_size = size(trend.points[0][0]), size(trend.points[-1][0])
    return (
        f"Across the {trend.sizes} sizes ({low_size} to {high_size}), {hybrid}'s all-round "
        f"standing {how} with size ({regret_verdict(trend.verdict)}; "
        f"{trend.slope.estimate:+.4f} per doubling of non-embedding parameters, 95% interval "
        f"{trend.slope.low:+.4f} to {trend.slope.high:+.4f}, Holm p = {p_text(trend.adjusted_p)} in the family "
        f"{TREND_FAMILY})."
    )


def _grouped(found: list[Difference], describe: Callable[[Difference], str]) -> str:
    """``ahead in the X setting at A and B; level in ...`` in verdict order."""
    groups: dict[str, dict[str, list[str]]] = {}
    for d in sorted(found, key=lambda d: d.params):
        groups.setdefault(d.verdict, {}).setdefault(SETTING_TITLES[d.setting], []).append(
            describe(d)
        )
    parts = []
    for word in ORDER:
        if word in groups:
            places = "; ".join(
                f"in the {setting} setting at {listing(where)}"
                for setting, where in groups[word].items()
            )
            parts.append(f"{WORDS[word]} {places}")
    return "; ".join(parts)


def verdict_sentences(found: list[Difference], hybrid: str, dataset: str, steps: int) -> str:
    """Per single strategy: where hybrid is ahead, level, behind, or has one seed."""
    rows = [d for d in found if (d.dataset, d.steps, d.label) == (dataset, steps, hybrid)]
    sentences = []
    for other in ("mono", "cross"):
        mine = [d for d in rows if d.other == other]
        if mine:
            sentences.append(
                f"Against {other}, {hybrid} is {_grouped(mine, lambda d: size(d.params))}."
            )
    if sentences:
        sentences.append(f"(Holm family: {rows[0].family}; p-values in the table below.)")
    return " ".join(sentences)


def untrained_sentence(found: list[Difference], steps: int | None) -> str:
    """Where each trained model falls below the untrained encoder, with its verdict."""
    below = [d for d in found if d.diff.estimate < 0]
    if not found:
        return ""
    head = f"**Does training help at all? ({steps} steps, exploratory; Holm family: {found[0].family}.)** "
    if not below:
        return (
            head
            + "No trained model scores below the untrained encoder in any setting, by point estimate."
        )
    parts = []
    for label in sorted({d.label for d in below}, key=lambda x: [d.label for d in found].index(x)):
        mine = [d for d in below if d.label == label]
        parts.append(
            f"{label} falls below it: "
            + _grouped(mine, lambda d: f"{size(d.params)} ({signed_interval(d.diff)})")
        )
    return (
        head
        + "Trained minus untrained mAP, where the trained model's mean is lower (95% interval): "
        + ". ".join(parts)
        + ". Everywhere else every trained model is at or above the untrained encoder by point "
        "estimate (the verdicts are in the table below)."
    )


def budget_sentence(changes: list[BudgetChange], hybrid: str) -> str:
    """Per size: the standing at each budget, and the paired test of the longest against the
    main budget (the budgets are prefixes of one run, so the seeds pair)."""
    parts = []
    for b in sorted(changes, key=lambda b: b.params):
        path = " → ".join(
            f"{signed_interval(r.standing)} ({r.cell.steps})"  # type: ignore[arg-type]
            for r in b.path
        )
        word = verdict(b.change, b.adjusted_p)
        change = f"paired change {signed_interval(b.change)}"
        if b.change.noise_known:
            how = (
                f"it {movement(word, lower_is_better=True)} ({regret_verdict(word)}; {change}, "
                f"Holm p = {p_text(b.adjusted_p)})"
            )
        else:
            how = f"the change is {WORDS[ONE_SEED]} ({change})"
        parts.append(
            f"at {size(b.params)}, {hybrid}'s standing by budget (steps) is {path}; from "
            f"{b.short} to {b.long} steps {how}"
        )
    return (
        f"**Budget (exploratory; Holm family: {BUDGET_FAMILY}).** With a longer budget at a "
        "fixed size: " + "; ".join(parts) + "."
    )


def trend_sentences(trends: list[Trend], steps: int | None) -> str:
    """Slopes of hybrid minus each single strategy, per setting, per doubling of parameters."""
    text = (
        f"**Size trends at {steps} steps (exploratory; Holm family: {TREND_FAMILY}; "
        f"{trends[0].sizes} sizes, {size(trends[0].points[0][0])} to "
        f"{size(trends[0].points[-1][0])}; no extrapolation).** "
    )
    parts = [_trend_phrase(t) for t in trends]
    return text + "; ".join(parts) + "."


def _trend_phrase(t: Trend) -> str:
    label, rest = t.quantity.split(" - ", 1)
    other, setting = rest.rsplit(", ", 1)
    return (
        f"{label} minus {other} in the {SETTING_TITLES[setting]} setting "
        f"{movement(t.verdict)} ({t.verdict}; "
        f"{t.slope.estimate:+.4f} mAP per doubling, 95% interval {t.slope.low:+.4f} to "
        f"{t.slope.high:+.4f}, Holm p = {p_text(t.adjusted_p)})"
    )


def synergy_sentence(found: list[Difference], main_budget: int | None) -> str:
    """Per hybrid: above, on or below the mixture null and the baselines, per setting."""
    parts = []
    for label in sorted({s.label for s in found}):
        for other in sorted(
            {s.other for s in found if s.label == label}, key=lambda o: (o != MIXTURE, o)
        ):
            mine = [s for s in found if (s.label, s.other) == (label, other)]
            name = "the alpha-weighted mixture of mono and cross" if other == MIXTURE else other

            def where(s: Difference) -> str:
                return f"{size(s.params)} ({signed_interval(s.diff)})"

            parts.append(f"against {name}, {label} is {_grouped(mine, where)}")
    family = found[0].family
    return (
        f"**Synergy or mixture? ({main_budget} steps; other budgets in the synergy table; "
        f"exploratory; Holm family: {family}.)** The null of no synergy in a setting is the "
        "mixture alpha x mono + (1 - alpha) x cross (alpha = the share of monolingual "
        "batches); hybrid minus it, and minus any baseline, with its 95% interval: "
        + "; ".join(parts)
        + "."
    )


BIAS_METRIC_NAMES = {
    "rank_distance": "rank distance",
    "mrc": "Mean Rank Correlation",
    "own_share@10": "own-language share@10",
}


def bias_sentence(found: list[BiasComparison], hybrid: str, main_budget: int | None) -> str:
    """Per bias metric: is hybrid less biased than mono beyond the seed spread, does that
    survive post-hoc centering of both, and do centering and hybrid training stack?"""
    mine = [b for b in found if b.steps == main_budget and b.label == hybrid and b.other == "mono"]
    if not mine:
        return ""
    parts = []
    for metric, name in BIAS_METRIC_NAMES.items():
        rows = sorted((b for b in mine if b.metric == metric), key=lambda b: b.params)
        if not rows or all(b.raw_diff != b.raw_diff for b in rows):  # NaN: not recorded
            continue
        reduces = [b for b in rows if b.raw_verdict == LESS_BIASED]
        unknown = [b for b in rows if b.raw_verdict == UNKNOWN_NOISE]
        text = (
            f"by {name}, {hybrid} is less biased than mono by more than the seed spread at "
            f"{sizes_text(b.params for b in reduces)} (of {len(rows)})"
        )
        if unknown:
            text += f"; {ONE_SEED} at {sizes_text(b.params for b in unknown)}"
        if all(b.centered_diff != b.centered_diff for b in rows):
            parts.append(text + "; no centred variant is stored")
            continue
        survives = [b for b in reduces if b.centered_verdict == LESS_BIASED]
        stacks = [b for b in rows if b.stacks]
        if reduces:
            text += (
                f"; after centering both, this survives at {sizes_text(b.params for b in survives)}"
            )
        text += f"; centering and hybrid training stack at {sizes_text(b.params for b in stacks)}"
        parts.append(text)
    if not parts:
        return ""
    text = "; ".join(parts)
    return (
        f"**Language bias ({main_budget} steps; exploratory, a seed-spread rule: no per-query "
        f"bias is stored, so no test).** {text[0].upper()}{text[1:]}. Less biased: "
        "lower rank distance, higher Mean Rank Correlation, lower own-language share; centering "
        "subtracts each language's mean embedding (no labels); stacking = centred "
        f"{hybrid} less biased than both centred mono and raw {hybrid}. Centering alone moves "
        "the untrained and every trained encoder (bias table)."
    )
