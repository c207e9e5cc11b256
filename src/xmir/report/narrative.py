"""The plain-language answer, written only from the computed verdicts and intervals.

Every sentence is a rendering of a number the report's tables also show: the best
all-rounder per size and budget, hybrid's all-round standing and how it moves with size and
budget, the per-setting verdicts (:mod:`xmir.report.verdicts`), the fitted trends per doubling
of non-embedding parameters, synergy above the mono-cross chord, and language bias raw and
after post-hoc centering. Nothing here judges a difference by itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from xmir.report.bias_summary import LESS_BIASED, BiasComparison
from xmir.report.figures import DATASET_TITLES, SETTING_TITLES, format_params
from xmir.report.stats.resampling import Interval
from xmir.report.stats.study import AllRoundCell, StudyStats, Synergy, Trend
from xmir.report.verdicts import AHEAD, BEHIND, LEVEL, NOISE, movement

STANDING_NOTE = (
    "standing = hybrid's worst-case regret minus the best other strategy's; negative means "
    "hybrid is the better all-rounder"
)


def listing(items: Iterable[str]) -> str:
    values = list(items)
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else "".join(values)


def size(params: float) -> str:
    return format_params(params)


def signed_interval(i: Interval) -> str:
    """``+0.012 [+0.004, +0.020]``: an estimate with its 95% interval."""
    return f"{i.estimate:+.3f} [{i.low:+.3f}, {i.high:+.3f}]"


def answer(stats: StudyStats, bias: list[BiasComparison], main_budget: int | None) -> list[str]:
    """Paragraphs (Markdown) answering: how does hybrid batching scale with model size?"""
    if stats.hybrid is None:
        return ["No hybrid strategy ran at every size: there is nothing to answer."]
    paragraphs: list[str] = []
    for dataset in sorted({c.dataset for c in stats.cells}):
        rounds = [r for r in stats.all_round if r.cell.dataset == dataset]
        budgets = sorted({r.cell.steps for r in rounds}, key=lambda b: (b != main_budget, b))
        title = DATASET_TITLES.get(dataset, dataset)
        for steps in budgets:
            at = [r for r in rounds if r.cell.steps == steps]
            text = f"**{title}, {steps} steps.** " + all_round_sentence(at, stats.hybrid)
            trend = _trend(stats.trends, dataset, steps, "standing")
            if trend is not None:
                text += " " + standing_trend_sentence(trend, stats.hybrid)
            if steps == main_budget:
                text += " " + verdict_sentences(stats, dataset, steps)
            paragraphs.append(text)
        budget_text = budget_sentence(rounds, stats.hybrid)
        if budget_text:
            paragraphs.append(budget_text)
        main_trends = [
            t
            for t in stats.trends
            if t.dataset == dataset and t.steps == main_budget and t.quantity != "standing"
        ]
        if main_trends:
            paragraphs.append(trend_sentences(main_trends, main_budget))
        synergy = [s for s in stats.synergies if s.dataset == dataset]
        if synergy:
            paragraphs.append(synergy_sentence(synergy, main_budget))
    bias_text = bias_sentence(bias, stats.hybrid, main_budget)
    if bias_text:
        paragraphs.append(bias_text)
    paragraphs.append(
        "Verdict words: *ahead*/*behind* = a bootstrap test over question ids and seeds rejects "
        "no difference (Benjamini-Hochberg q < 0.05) and the difference is at least the "
        "seed-to-seed spread; *within training noise* = the test rejects but the difference is "
        "smaller than the seed spread; *level* = the test does not reject."
    )
    return paragraphs


def _trend(trends: list[Trend], dataset: str, steps: int, quantity: str) -> Trend | None:
    return next(
        (t for t in trends if (t.dataset, t.steps, t.quantity) == (dataset, steps, quantity)), None
    )


def all_round_sentence(rounds: list[AllRoundCell], hybrid: str) -> str:
    """Best all-rounder per size, then hybrid's standing per size with its interval."""
    rounds = sorted(rounds, key=lambda r: r.cell.params)
    by_winner: dict[str, list[str]] = {}
    for r in rounds:
        by_winner.setdefault(r.winner, []).append(size(r.cell.params))
    winners = "; ".join(f"{label} at {listing(sizes)}" for label, sizes in by_winner.items())
    compared = listing(rounds[0].compared) if rounds else ""
    text = (
        f"The best all-rounder (lowest worst-case regret over the mono, cross and multi "
        f"settings among {compared}) is {winners}."
    )
    standings = [r for r in rounds if r.standing is not None]
    if standings:
        parts = ", ".join(
            f"{signed_interval(r.standing)} at {size(r.cell.params)}"
            for r in standings
            if r.standing is not None
        )
        text += f" {hybrid}'s standing ({STANDING_NOTE}; 95% interval) is {parts}."
        text += " " + standing_clarity_sentence(standings, hybrid)
    return text


def standing_clarity_sentence(standings: list[AllRoundCell], hybrid: str) -> str:
    """Where the standing's interval excludes 0 (a clear all-round winner) and where not."""
    better = [r for r in standings if r.standing is not None and r.standing.high < 0]
    worse = [r for r in standings if r.standing is not None and r.standing.low > 0]
    tied = [r for r in standings if r not in better and r not in worse]
    parts = []
    if better:
        parts.append(
            f"{hybrid} is distinguishably the better all-rounder at {sizes_text(r.cell.params for r in better)}"
        )
    if worse:
        parts.append(
            f"{hybrid} is distinguishably the worse all-rounder at {sizes_text(r.cell.params for r in worse)}"
        )
    if tied:
        parts.append(
            f"the all-round comparison is not distinguishable (the interval includes 0) at "
            f"{sizes_text(r.cell.params for r in tied)}"
        )
    return "By these intervals, " + "; ".join(parts) + "."


def sizes_text(params: Iterable[float]) -> str:
    """Sizes as a sentence list, or "no size" for none."""
    return listing(size(p) for p in params) or "no size"


def standing_trend_sentence(trend: Trend, hybrid: str) -> str:
    how = movement(trend.slope, trend.low, trend.high, lower_is_better=True)
    low_size, high_size = size(trend.points[0][0]), size(trend.points[-1][0])
    return (
        f"Across the {trend.sizes} sizes ({low_size} to {high_size}), {hybrid}'s all-round standing "
        f"{how} with size ({trend.slope:+.4f} per doubling of non-embedding parameters, "
        f"95% CI {trend.low:+.4f} to {trend.high:+.4f})."
    )


def verdict_sentences(stats: StudyStats, dataset: str, steps: int) -> str:
    """Per baseline: where hybrid is ahead, level, within noise or behind, by setting."""
    hybrid = stats.hybrid
    rows = [
        d for d in stats.differences if (d.dataset, d.steps, d.label) == (dataset, steps, hybrid)
    ]
    sentences = []
    for other in ("mono", "cross"):
        mine = [d for d in rows if d.other == other]
        if not mine:
            continue
        groups: dict[str, dict[str, list[str]]] = {}
        for d in sorted(mine, key=lambda d: d.params):
            groups.setdefault(d.verdict, {}).setdefault(SETTING_TITLES[d.setting], []).append(
                size(d.params)
            )
        parts = []
        for word in (AHEAD, LEVEL, NOISE, BEHIND):
            if word in groups:
                places = "; ".join(
                    f"in the {setting} setting at {listing(sizes)}"
                    for setting, sizes in groups[word].items()
                )
                parts.append(f"{word} {places}")
        sentences.append(f"Against {other}, {hybrid} is {'; '.join(parts)}.")
    return " ".join(sentences)


def budget_sentence(rounds: list[AllRoundCell], hybrid: str) -> str:
    """For each size evaluated at several budgets: how the winner and the standing move."""
    by_model: dict[str, list[tuple[AllRoundCell, Interval]]] = {}
    for r in rounds:
        if r.standing is not None:
            by_model.setdefault(r.cell.model, []).append((r, r.standing))
    parts = []
    for cells in sorted(by_model.values(), key=lambda c: c[0][0].cell.params):
        if len(cells) < 2:
            continue
        cells.sort(key=lambda pair: pair[0].cell.steps)
        (first_cell, first), (last_cell, last) = cells[0], cells[-1]
        direction = (
            "does not move distinguishably: the first and last intervals overlap"
            if _overlap(first.low, first.high, last.low, last.high)
            else ("improves" if last.estimate < first.estimate else "worsens")
        )
        path = " → ".join(f"{signed_interval(i)} ({r.cell.steps})" for r, i in cells)
        winners = " → ".join(f"{r.winner} ({r.cell.steps})" for r, _ in cells)
        parts.append(
            f"at {size(first_cell.cell.params)}, {hybrid}'s standing by budget (steps) is "
            f"{path}; from {first_cell.cell.steps} to {last_cell.cell.steps} steps it "
            f"{direction} (best all-rounder by budget: {winners})"
        )
    if not parts:
        return ""
    return "**Budget.** With a longer budget at a fixed size: " + "; ".join(parts) + "."


def _overlap(a_low: float, a_high: float, b_low: float, b_high: float) -> bool:
    return a_low <= b_high and b_low <= a_high


def trend_sentences(trends: list[Trend], steps: int | None) -> str:
    """Trends of hybrid minus each baseline, per setting, per doubling of parameters."""
    clear = [t for t in trends if not (t.low <= 0 <= t.high)]
    flat = [t for t in trends if t.low <= 0 <= t.high]
    text = f"**Size trends at {steps} steps** (fitted on per-size means, {trends[0].sizes} sizes, "
    text += (
        f"{size(trends[0].points[0][0])} to {size(trends[0].points[-1][0])}; no extrapolation): "
    )
    if clear:
        text += "; ".join(_trend_phrase(t) for t in clear) + ". "
    if flat:
        text += (
            f"{len(flat)} other trend(s) do not move distinguishably from flat (95% CI includes 0)"
            + (f": {listing(_trend_name(t) for t in flat)}" if len(flat) <= 6 else "")
            + "."
        )
    return text.strip()


def _trend_name(t: Trend) -> str:
    _, rest = t.quantity.split(" - ", 1)
    other, setting = rest.rsplit(", ", 1)
    return f"relative to {other} in the {SETTING_TITLES[setting]} setting"


def _trend_phrase(t: Trend) -> str:
    label = t.quantity.split(" - ", 1)[0]
    return (
        f"{label}'s standing {_trend_name(t)} {movement(t.slope, t.low, t.high)} by "
        f"{t.slope:+.4f} mAP per doubling of non-embedding parameters (95% CI {t.low:+.4f} to "
        f"{t.high:+.4f})"
    )


def synergy_sentence(found: list[Synergy], main_budget: int | None) -> str:
    """Where each hybrid lies above, on or below the mono-cross chord."""
    text = "**Synergy or mixture?** "
    parts = []
    for label in sorted({s.label for s in found}, key=lambda x: float(x.removeprefix("hybrid"))):
        mine = sorted((s for s in found if s.label == label), key=lambda s: (s.steps, s.params))
        groups: dict[str, list[str]] = {}
        for s in mine:
            where = "above" if s.distance.low > 0 else "below" if s.distance.high < 0 else "on"
            suffix = "" if s.steps == main_budget else f" ({s.steps} steps)"
            groups.setdefault(where, []).append(
                f"{size(s.params)}{suffix} ({signed_interval(s.distance)})"
            )
        pieces = []
        for where, phrase in (
            ("above", "lies above the chord (synergy) at"),
            ("on", "lies on the chord (a plain mixture; the 95% interval includes 0) at"),
            ("below", "lies below the chord at"),
        ):
            if where in groups:
                pieces.append(f"{phrase} {listing(groups[where])}")
        parts.append(f"{label} {'; '.join(pieces)}")
    text += (
        "Distance above the straight line from cross (alpha 0) to mono (alpha 1) in "
        "(mono mAP, multi mAP), with its 95% interval: " + ". ".join(parts) + "."
    )
    return text


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
        text = (
            f"by {name}, {hybrid} is less biased than mono by more than the seed spread at "
            f"{sizes_text(b.params for b in reduces)} (of {len(rows)})"
        )
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
        f"**Language bias ({main_budget} steps).** {text[0].upper()}{text[1:]}. Less biased: "
        "lower rank distance, higher Mean Rank Correlation, lower own-language share; centering "
        "subtracts each language's mean embedding (no labels); stacking = centred "
        f"{hybrid} less biased than both centred mono and raw {hybrid}. Centering alone moves "
        "the untrained and every trained encoder (bias table)."
    )
