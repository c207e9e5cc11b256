"""What a run encodes and trains, from the spec alone: model shapes and evaluation sizes.

Both cost models (:mod:`xmir.sweep.cost` for the reference CPU, :mod:`xmir.sweep.gpu_cost`
for one GPU) price this work; the shapes come from the model registry and the sizes from the
dataset registry, so no data or weights are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from xmir.data.datasets import CorpusSize, PooledSize, get_dataset
from xmir.data.miracl import MIRACL_NAME
from xmir.errors import XmirError
from xmir.models.spec import parse_model_spec
from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import EvalSet, MiraclEvalSet, SweepSpec

# The shape assumed for a model the registry does not know and that has no config.json.
DEFAULT_LAYERS = 12
REFERENCE_HIDDEN = 384
# The share of a dataset in a held-out development split (the default holdout fraction).
DEV_SHARE = 0.15
# A MIRACL passage (title and about 100 words) costs about this many short LAReQA texts to
# encode (token count); MIRACL estimates assume each language's full published corpus.
MIRACL_PASSAGE_UNITS = 4.0


@dataclass(frozen=True)
class RunCost:
    """Estimated seconds of one run, split into its parts."""

    train_s: float
    eval_s: float

    @property
    def total_s(self) -> float:
        return self.train_s + self.eval_s


def evaluation_seconds(spec: SweepSpec, run: PlannedRun, eval_s: float, start_s: float) -> float:
    """Seconds of evaluation of ``run``, given one evaluation on every eval set (``eval_s``)
    and one process start (``start_s``): the untrained encoder is evaluated once, any other
    run once per evaluated budget (a combination at its sources' snapshots too); a score
    ensemble only loads its two members, whose embeddings come from their own evaluations."""
    if run.is_baseline:
        return eval_s
    budgets = len(spec.budget.all_budgets)
    if run.strategy == "ensemble":
        return 2 * start_s * len(spec.eval) * budgets
    return eval_s * budgets


def model_shape(spec: str) -> tuple[int, int]:
    """(layers, hidden size) of a model spec, without loading it: a registered model's (by
    name or hub id), else a local folder's config.json, else 12 x 384; ``layers=k`` cuts."""
    try:
        parsed = parse_model_spec(spec)
    except XmirError:  # not a model this machine could load: the default shape
        return DEFAULT_LAYERS, REFERENCE_HIDDEN
    entry = parsed.entry
    layers, hidden = (entry.layers, entry.hidden) if entry else (DEFAULT_LAYERS, REFERENCE_HIDDEN)
    config = Path(parsed.target) / "config.json"
    if parsed.kind == "path" and config.is_file():
        try:
            payload = json.loads(config.read_text(encoding="utf-8"))
            layers = int(payload.get("num_hidden_layers", layers))
            hidden = int(payload.get("hidden_size", hidden))
        except (OSError, ValueError, TypeError):
            pass
    if parsed.layers is not None:
        layers = min(layers, parsed.layers)
    return layers, hidden


def eval_texts(eval_set: EvalSet | MiraclEvalSet) -> int:
    """Estimated queries + candidates encoded for one evaluation, in short-text units.

    A subset keeps whole paragraphs holding about N question ids, so the pool shrinks about
    as fast as the questions (XQuAD-R, 300 ids: 3,300 queries and about 2,400 candidates).
    MIRACL: every passage of each language's corpus (a topic sample does not shrink it),
    :data:`MIRACL_PASSAGE_UNITS` each, plus the topics.
    """
    if isinstance(eval_set, MiraclEvalSet):
        return round(
            sum(
                miracl_passages(lang) * MIRACL_PASSAGE_UNITS + miracl_topics(eval_set, lang)
                for lang in eval_set.language_list
            )
        )
    size = get_dataset(eval_set.dataset).size
    assert isinstance(size, PooledSize)
    ids, queries, candidates = size.question_ids, size.queries, size.candidates
    if eval_set.split == "dev":  # about the held-out fraction (0.15 of MLQA-R: 3,850 texts)
        ids = round(ids * DEV_SHARE)
        queries, candidates = round(queries * DEV_SHARE), round(candidates * DEV_SHARE)
    share = min(1.0, (eval_set.max_questions or ids) / ids)
    return round((queries + candidates) * share)


def _miracl_size() -> CorpusSize:
    size = get_dataset(MIRACL_NAME).size
    assert isinstance(size, CorpusSize)
    return size


def miracl_passages(language: str) -> int:
    """Passages of the published MIRACL corpus of ``language``."""
    return _miracl_size().passages[language]


def miracl_topics(eval_set: MiraclEvalSet, language: str) -> int:
    """Dev topics evaluated in ``language`` (at most ``max_topics``)."""
    published = _miracl_size().topics[language]
    return min(published, eval_set.max_topics or published)
