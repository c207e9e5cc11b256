"""The ``xmir eval --dataset miracl`` command line of a sweep's MIRACL eval set.

Kept apart from :mod:`xmir.sweep.commands` (which builds every step of a run) so the MIRACL
options live in one place: corpus, languages, the seeded topic sample, search, BM25, and
whether the passage embeddings are kept (a fine-tuned model is evaluated once, so its
embeddings, which can be many GB for a full corpus, are deleted after the search).
"""

from __future__ import annotations

from pathlib import Path

from xmir.sweep.spec import MiraclEvalSet, SweepSpec


def miracl_eval_args(
    spec: SweepSpec,
    model: str,
    eval_set: MiraclEvalSet,
    out: Path,
    *,
    keep_embeddings: bool = True,
) -> list[str]:
    """Arguments of ``xmir eval`` of ``model`` on a MIRACL eval set (after ``xmir``)."""
    args = ["eval", "--model", model, "--dataset", eval_set.dataset, "--corpus", eval_set.corpus]
    if eval_set.languages is not None:
        args += ["--languages", ",".join(eval_set.languages)]
    if eval_set.max_topics is not None:
        args += ["--max-topics", str(eval_set.max_topics), "--seed", str(eval_set.subset_seed)]
    if eval_set.topics is not None:
        args += ["--topics", eval_set.topics]
    if eval_set.qrels is not None:
        args += ["--qrels", eval_set.qrels]
    if eval_set.search != "auto":
        args += ["--search", eval_set.search]
    if not eval_set.bm25:
        args.append("--no-bm25")
    if not keep_embeddings:
        args.append("--drop-embeddings")
    return [*args, "--out", str(out), *spec.extra_eval_args]


def overlap_checked_datasets(spec: SweepSpec) -> list[str]:
    """The eval sets that ``xmir train --eval-data`` checks for overlap: ``zero_shot_guard``
    when the spec names them, else its LAReQA eval sets (the zero-shot guard has no MIRACL
    reader; a development split is held out of the training data by construction)."""
    if spec.zero_shot_guard is not None:
        return list(spec.zero_shot_guard)
    return [e.dataset for e in spec.eval if not isinstance(e, MiraclEvalSet) and e.split == "all"]
