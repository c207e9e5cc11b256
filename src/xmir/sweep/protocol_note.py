"""Notes that must travel with results: zero-shot departures, subsets, unseen languages."""

from __future__ import annotations

from typing import Any

from xmir.data.sources import LAREQA_SOURCES
from xmir.sweep.figures import DATASET_TITLES


def protocol_notes(spec: dict[str, Any]) -> list[str]:
    """One Markdown sentence per departure from the paper's protocol that this sweep makes."""
    notes: list[str] = []
    train = spec.get("train_data", "")
    evals = spec.get("eval", [])
    if train in LAREQA_SOURCES:
        train_langs = set(LAREQA_SOURCES[train].languages)
        for eval_set in evals:
            dataset = eval_set["dataset"]
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
    for eval_set in evals:
        if eval_set.get("max_questions"):
            notes.append(
                f"**Subset:** {_title(eval_set['dataset'])} is evaluated on its first "
                f"{eval_set['max_questions']} question ids (sorted) in every language, with the "
                "paragraphs that hold them as the candidate pool; absolute numbers are not "
                "comparable with full-set results (the pool is smaller, so mAP is higher and rank "
                "distance lower)."
            )
    return notes


def _title(dataset: str) -> str:
    return DATASET_TITLES.get(dataset, dataset)
