"""The plain-language answer to the research question, written from the measured numbers.

Every sentence is computed: who wins where, by how much, whether the difference survives
the paired tests, how the gap moves with size, and where the answer does not hold.
"""

from __future__ import annotations

import numpy as np

from xmir.sweep.aggregate import SETTINGS, Summary
from xmir.sweep.analysis import SINGLE_STRATEGIES, Comparison, GapSeries
from xmir.sweep.figures import DATASET_TITLES, SETTING_TITLES, format_params

SIGNIFICANCE = 0.05


def answer(summary: Summary, series: list[GapSeries], comparisons: list[Comparison]) -> list[str]:
    """Paragraphs (Markdown) answering: how does hybrid batching scale with model size?"""
    paragraphs: list[str] = []
    for dataset in summary.datasets:
        text = _dataset_paragraph(summary, dataset, series, comparisons)
        if text:
            paragraphs.append(text)
    baseline = _untrained_sentence(summary)
    if baseline:
        paragraphs.append(baseline)
    paragraphs.append(_noise_sentence(summary))
    return paragraphs


def _name(dataset: str) -> str:
    return DATASET_TITLES.get(dataset, dataset)


def _size(summary: Summary, model: str) -> str:
    params = summary.params.get(model)
    return f"{format_params(params)} ({model})" if params else model


def _dataset_paragraph(
    summary: Summary, dataset: str, series: list[GapSeries], comparisons: list[Comparison]
) -> str:
    """A headline sentence, one bullet per setting, then tests and rank distance."""
    own = [s for s in series if s.dataset == dataset]
    if not own:
        return ""
    lead = [_headline(summary, dataset, own, comparisons)]
    wins = _winners(summary, dataset)
    total = sum(wins.values())
    if total:
        ranked = sorted(wins.items(), key=lambda kv: -kv[1])
        shares = ", ".join(f"{label} in {n}" for label, n in ranked[1:])
        lead.append(
            f"Counting every size × setting cell ({total}), {ranked[0][0]} had the highest mean "
            f"mAP in {ranked[0][1]}" + (f", {shares}" if shares else "") + "."
        )
    bullets = [f"- {_gap_sentence(summary, s)}" for s in own]
    tail = [_significance_sentence([c for c in comparisons if c.dataset == dataset])]
    tail.append(_rank_distance_sentence(summary, dataset))
    return "\n\n".join([" ".join(lead), "\n".join(bullets), " ".join(t for t in tail if t)]).strip()


def _headline(
    summary: Summary, dataset: str, own: list[GapSeries], comparisons: list[Comparison]
) -> str:
    """Where hybrid is ahead of, level with or behind the best single strategy of each size
    (by the paired test over queries), and which way the gap moves with size."""
    verdicts: dict[str, dict[str, list[str]]] = {}
    trends: dict[str, list[str]] = {}
    for s in own:
        name = SETTING_TITLES[s.setting] + (
            f" ({s.hybrid}, batch {s.batch_size})" if len(own) > 3 else ""
        )
        for model in [m for m in summary.models if any(p.model == m for p in s.points)]:
            verdict = _verdict(s, model, comparisons)
            size = format_params(summary.params.get(model) or 0)
            verdicts.setdefault(verdict, {}).setdefault(name, []).append(size)
        if s.fit is not None:
            low, high = s.fit.slope_ci
            direction = "grows" if s.fit.slope > 0 else "shrinks"
            sure = "clearly" if low > 0 or high < 0 else "but not distinguishably from flat"
            trends.setdefault(f"{direction} {sure}", []).append(SETTING_TITLES[s.setting])
    order = ("significantly ahead", "ahead", "level", "behind", "significantly behind")
    ranked = sorted(
        verdicts.items(), key=lambda kv: next(i for i, o in enumerate(order) if kv[0].startswith(o))
    )
    parts = [f"{verdict} {_where(places)}" for verdict, places in ranked]
    text = (
        f"On {_name(dataset)} ({len(summary.models)} model size{'s' * (len(summary.models) > 1)}), "
        f"compared with the best single strategy of each size, hybrid is {'; '.join(parts)}."
    )
    if trends:
        moves = [
            f"{how} in the {_list(names)} setting{'s' * (len(names) > 1)}"
            for how, names in trends.items()
        ]
        text += f" With size (log-linear fit), the gap {'; '.join(moves)}."
    return text


def _verdict(s: GapSeries, model: str, comparisons: list[Comparison]) -> str:
    """``significantly ahead``, ``significantly behind`` or ``level`` (paired test, BH q)."""
    best = next(p.best_single for p in s.points if p.model == model)
    test = next(
        (
            c
            for c in comparisons
            if (c.dataset, c.model, c.setting, c.hybrid, c.batch_size, c.baseline)
            == (s.dataset, model, s.setting, s.hybrid, s.batch_size, best)
        ),
        None,
    )
    if test is None:
        return "ahead (untested)" if s.mean_gap(model) > 0 else "behind (untested)"
    if test.q_value < SIGNIFICANCE:
        return "significantly ahead" if test.test.mean_diff > 0 else "significantly behind"
    return f"level (no significant difference, q ≥ {SIGNIFICANCE})"


def _where(places: dict[str, list[str]]) -> str:
    """``in the mono and cross settings at 1.9M; in the multi setting at 1.9M and 3.7M``."""
    by_sizes: dict[tuple[str, ...], list[str]] = {}
    for setting, sizes in places.items():
        by_sizes.setdefault(tuple(sizes), []).append(setting)
    return ", and ".join(
        f"in the {_list(settings)} setting{'s' * (len(settings) > 1)} at {_list(sizes)}"
        for sizes, settings in by_sizes.items()
    )


def _winners(summary: Summary, dataset: str) -> dict[str, int]:
    wins: dict[str, int] = {}
    for model in summary.models:
        for batch in summary.batch_sizes():
            for setting in SETTINGS:
                cells = {}
                for label in summary.labels(trained_only=True):
                    group = summary.find(model, label, batch)
                    cell = summary.cell(group, dataset, setting) if group else None
                    if cell is not None:
                        cells[label] = cell.mean
                if cells:
                    best = max(cells, key=lambda k: cells[k])
                    wins[best] = wins.get(best, 0) + 1
    return wins


def _gap_sentence(summary: Summary, s: GapSeries) -> str:
    models = [m for m in summary.models if any(p.model == m for p in s.points)]
    gaps = {m: s.mean_gap(m) for m in models}
    parts = ", ".join(
        f"{gaps[m]:+.4f} at {format_params(summary.params.get(m) or 0)}"
        + f" (vs {next(p.best_single for p in s.points if p.model == m)})"
        for m in models
    )
    ahead = [m for m in models if gaps[m] > 0]
    behind = [m for m in models if gaps[m] <= 0]
    batch = f", batch {s.batch_size}" if len(summary.batch_sizes()) > 1 else ""
    text = f"{SETTING_TITLES[s.setting].capitalize()} ({s.hybrid}{batch}): hybrid minus the best single strategy is {parts}"
    if ahead and behind:
        text += (
            f"; hybrid is ahead at {_list(format_params(summary.params.get(m) or 0) for m in ahead)} "
            f"but not at {_list(format_params(summary.params.get(m) or 0) for m in behind)}"
        )
    elif behind:
        text += "; hybrid does not beat the best single strategy at any size"
    else:
        text += "; hybrid is ahead at every size"
    if s.fit is not None:
        low, high = s.fit.slope_ci
        trend = "grows" if s.fit.slope > 0 else "shrinks"
        certain = (
            "a trend distinguishable from zero"
            if low > 0 or high < 0
            else "not distinguishable from no trend"
        )
        text += (
            f". Fitted on {s.fit.n} points, the gap {trend} by {s.fit.slope:+.3f} mAP per 10× "
            f"parameters (95% CI {low:+.3f} to {high:+.3f}; {certain})"
        )
    elif len(models) < 3:
        text += ". With fewer than three sizes no trend is fitted"
    return text + "."


def _significance_sentence(comparisons: list[Comparison]) -> str:
    if not comparisons:
        return ""
    better = [c for c in comparisons if c.q_value < SIGNIFICANCE and c.test.mean_diff > 0]
    worse = [c for c in comparisons if c.q_value < SIGNIFICANCE and c.test.mean_diff < 0]
    text = (
        f"In {len(comparisons)} paired tests over queries (hybrid vs {' and '.join(SINGLE_STRATEGIES)}, "
        f"per size and setting, Benjamini-Hochberg q < {SIGNIFICANCE}), hybrid was significantly "
        f"better in {len(better)} and significantly worse in {len(worse)}; "
        f"{len(comparisons) - len(better) - len(worse)} showed no significant difference"
    )
    if worse:
        where = "; ".join(
            f"{SETTING_TITLES[c.setting]} vs {c.baseline} at {c.model} ({c.test.mean_diff:+.4f})"
            for c in worse[:6]
        )
        text += f". It was worse in: {where}" + (" …" if len(worse) > 6 else "")
    return text + "."


def _rank_distance_sentence(summary: Summary, dataset: str) -> str:
    hybrids = [label for label in summary.labels(trained_only=True) if label.startswith("hybrid")]
    lower = total = 0
    for model in summary.models:
        for batch in summary.batch_sizes():
            for hybrid in hybrids:
                group = summary.find(model, hybrid, batch)
                mine = summary.cell(group, dataset, "rank_distance") if group else None
                others = [
                    summary.cell(g, dataset, "rank_distance")
                    for s in SINGLE_STRATEGIES
                    if (g := summary.find(model, s, batch))
                ]
                others = [o for o in others if o is not None]
                if mine is None or not others:
                    continue
                total += 1
                lower += mine.mean < min(o.mean for o in others)
    if not total:
        return ""
    return (
        f"Rank distance (language bias in the pooled setting, lower is better): hybrid was below "
        f"both single strategies in {lower} of {total} size(s)."
    )


def _untrained_sentence(summary: Summary) -> str:
    better = worse = 0
    worst: tuple[float, str] | None = None
    for model in summary.models:
        base = summary.find(model, "none", None)
        if base is None:
            continue
        for group in summary.groups(model):
            if group.strategy_label == "none":
                continue
            for dataset in summary.datasets:
                for setting in SETTINGS:
                    trained, untrained = (
                        summary.cell(group, dataset, setting),
                        summary.cell(base, dataset, setting),
                    )
                    if trained is None or untrained is None:
                        continue
                    delta = trained.mean - untrained.mean
                    better += delta > 0
                    worse += delta <= 0
                    if worst is None or delta < worst[0]:
                        worst = (
                            delta,
                            f"{group.strategy_label} {setting} on {_name(dataset)} at {model}",
                        )
    if not better + worse:
        return ""
    text = (
        f"Against the untrained encoder of the same size, fine-tuning raised mean mAP in {better} "
        f"of {better + worse} (size, strategy, setting, dataset) cells"
    )
    if worse and worst is not None:
        text += f" and lowered it in {worse} (largest drop {worst[0]:+.3f}: {worst[1]})"
    return text + "."


def _noise_sentence(summary: Summary) -> str:
    stds = [
        cell.std
        for group in summary.groups()
        for dataset in summary.datasets
        for setting in SETTINGS
        if (cell := summary.cell(group, dataset, setting)) is not None and cell.std is not None
    ]
    seeds = max(
        (len(summary.runs(g)) for g in summary.groups() if g.strategy_label != "none"), default=1
    )
    if not stds:
        return (
            f"Each configuration ran with {seeds} seed(s), so seed-to-seed variation is not "
            "measured here; read small differences with care."
        )
    return (
        f"Seed-to-seed standard deviation of mAP has median {np.median(stds):.3f} "
        f"(max {max(stds):.3f}) over {len(stds)} cells with {seeds} seeds; differences smaller "
        "than that are within training noise even when a paired test over queries calls them "
        "significant (the test treats queries, not seeds, as the unit)."
    )


def _list(items: object) -> str:
    values = list(items)  # type: ignore[call-overload]
    return ", ".join(values[:-1]) + f" and {values[-1]}" if len(values) > 1 else "".join(values)
