"""The ``xmir eval --dataset miracl`` command line of a sweep's MIRACL eval set.

Kept apart from :mod:`xmir.sweep.commands` (which builds every step of a run) so the MIRACL
options live in one place: corpus, languages, the seeded topic sample, search, BM25, and
whether the passage embeddings are kept (a fine-tuned model is evaluated once, so its
embeddings, which can be many GB for a full corpus, are deleted after the search).
"""

from __future__ import annotations

from pathlib import Path

from xmir.evaluate.config import EvalConfig
from xmir.options import command_args
from xmir.sweep.spec import MiraclEvalSet, SweepSpec


def miracl_eval_args(
    spec: SweepSpec,
    model: str,
    eval_set: MiraclEvalSet,
    out: Path,
    *,
    keep_embeddings: bool = True,
) -> list[str]:
    """Arguments of ``xmir eval`` of ``model`` on a MIRACL eval set (after ``xmir``): the
    options are :class:`EvalConfig` fields (None: left out)."""
    sampled = eval_set.max_topics is not None
    values = {
        "model": model,
        "dataset": eval_set.dataset,
        "corpus": eval_set.corpus,
        "languages": eval_set.languages,
        "max_topics": eval_set.max_topics,
        "seed": eval_set.subset_seed if sampled else None,
        "topics": eval_set.topics,
        "qrels": eval_set.qrels,
        "search": None if eval_set.search == "auto" else eval_set.search,
        "bm25": None if eval_set.bm25 else False,
        "keep_embeddings": None if keep_embeddings else False,
        "out": out,
    }
    return ["eval", *command_args(values, EvalConfig), *spec.extra_eval_args]


def overlap_checked_datasets(spec: SweepSpec) -> list[str]:
    """The eval sets that ``xmir train --eval-data`` checks for overlap: ``zero_shot_guard``
    when the spec names them, else its LAReQA eval sets (the zero-shot guard has no MIRACL
    reader; a development split is held out of the training data by construction)."""
    if spec.zero_shot_guard is not None:
        return list(spec.zero_shot_guard)
    return [e.dataset for e in spec.eval if not isinstance(e, MiraclEvalSet) and e.split == "all"]
