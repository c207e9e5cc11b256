"""Notes that must travel with results: zero-shot departures, subsets, unseen languages."""

from __future__ import annotations

from typing import Any

from xmir.data.sources import LAREQA_SOURCES
from xmir.report.figures import DATASET_TITLES

PAPER_LR, PAPER_BATCH = 3e-5, 100


def protocol_notes(
    spec: dict[str, Any],
    specs: list[dict[str, Any]] | None = None,
    trained_lrs: list[float] | None = None,
) -> list[str]:
    """One Markdown sentence per departure from the paper's protocol that this study makes
    (``trained_lrs``: the rates the trained runs used, when they differ from the specs')."""
    notes: list[str] = []
    train = spec.get("train_data", "")
    evals = spec.get("eval", [])
    if train in LAREQA_SOURCES:
        train_langs = set(LAREQA_SOURCES[train].languages)
        for eval_set in evals:
            dataset = eval_set["dataset"]
            if dataset not in LAREQA_SOURCES:
                continue  # MIRACL: its own note below
            if dataset == train:
                notes.append(
                    f"**Not zero-shot:** training and evaluation both use {_title(dataset)} "
                    "(the spec allowed the overlap); scores are optimistic."
                )
                continue
            unseen = [lang for lang in LAREQA_SOURCES[dataset].languages if lang not in train_langs]
            note = (
                f"**Protocol departure (offline cross-dataset zero-shot):** the paper fine-tunes on "
                f"mMARCO plus machine-translated QA data; here no such parallel corpus is "
                f"available, so the models are trained on {_title(train)} pairs and evaluated "
                f"zero-shot on {_title(dataset)} (disjoint sources: MLQA Wikipedia articles vs "
                "SQuAD dev paragraphs)."
            )
            if unseen:
                note += (
                    f" The languages {', '.join(unseen)} never appear in training, so their "
                    "scores measure transfer to unseen languages."
                )
            notes.append(note)
    elif train:
        notes.append(
            f"Training data: `{train}` (a local or hub dataset, not one of the eval sets)."
        )
    budget_note = _budget_note(specs or [spec], trained_lrs)
    if budget_note:
        notes.append(budget_note)
    for eval_set in evals:
        if eval_set["dataset"] == "miracl":
            languages = eval_set.get("languages") or ["all 18"]
            notes.append(
                f"**MIRACL** (dev, monolingual retrieval over the corpus, nDCG@10 and Recall@100) "
                f"in {', '.join(languages)}"
                + (
                    f", on a seeded sample (seed {eval_set.get('subset_seed', 0)}) of at most "
                    f"{eval_set['max_topics']} topics per language"
                    if eval_set.get("max_topics")
                    else ""
                )
                + "."
            )
        if eval_set.get("max_questions"):
            notes.append(
                f"**Subset:** {_title(eval_set['dataset'])} is evaluated on a seeded sample "
                f"(seed {eval_set.get('subset_seed', 0)}) of about {eval_set['max_questions']} "
                "question ids: whole paragraphs, stratified by article (every article is "
                "visited before any gives a second paragraph), each question in every language, "
                "with the sentences of the kept paragraphs as the candidate pool (counts in each "
                "result's `dataset.subset_sample`). Absolute numbers are not comparable with "
                "full-set results (the pool is smaller, so mAP is higher and rank distance lower)."
            )
    return notes


def _budget_note(specs: list[dict[str, Any]], trained_lrs: list[float] | None = None) -> str:
    """Steps, learning rate and batch size next to the paper's, and why they differ."""
    budgets = [s.get("budget", {}) for s in specs]
    steps = sorted(
        {int(b["steps"]) for b in budgets if "steps" in b}
        | {int(x) for b in budgets for x in b.get("eval_at", [])}
    )
    tuned = any(s.get("tuned_by") for s in specs)
    lrs = sorted(set(trained_lrs or []) or {float(b.get("lr") or PAPER_LR) for b in budgets})
    batches = sorted({int(x) for s in specs for x in s.get("batch_sizes", [])})
    if not steps:
        return ""
    rates = f"lr {lrs[0]:g}" if len(lrs) == 1 else f"lr {lrs[0]:g} to {lrs[-1]:g}"
    if tuned:
        rates += ", chosen per size and strategy on the development split"
    text = (
        f"**Budget:** {', '.join(map(str, steps))} optimizer steps of "
        f"{', '.join(map(str, batches))} pairs at {rates}"
    )
    if any(lr != PAPER_LR for lr in lrs) or any(b != PAPER_BATCH for b in batches):
        why = (
            "so the rate is tuned instead of taken from the paper"
            if tuned
            else "so the rate is raised"
        )
        text += (
            f" (the paper: lr {PAPER_LR:g}, batch {PAPER_BATCH}, trained to early stopping). A "
            f"CPU-sized budget of a few hundred steps barely moves the weights at the paper's "
            f"rate, {why}; verdicts are stated per budget because the strategies' gaps move "
            "with training length."
        )
    else:
        text += "."
    return text


def _title(dataset: str) -> str:
    return DATASET_TITLES.get(dataset, dataset)
