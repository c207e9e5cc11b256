"""Rough cost of a run, from the spec alone (no data or weights are read).

The figures were measured on a 2-core CPU with ``e5-small-q4`` (hidden 384): a text costs
time proportional to the number of transformer layers, plus a per-text part (tokenisation,
embedding lookup) that does not scale with depth, plus a fixed start-up per process. Larger
hidden sizes scale the per-layer part by (hidden / 384)^2. The estimate orders and balances
runs (``--dry-run``, ``--shard``); it is no promise about another machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import EvalSet, MiraclEvalSet, SweepSpec

# Seconds on the reference CPU (see the module docstring), from the offline study v2 runs
# that shared the machine with nothing else: 64 steps of 32 pairs with frozen word
# embeddings took 32 s at 1 layer, 50 s at 2 and 88 s at 4 (process start included); the
# same runs next to other work took up to 3x longer. Encoding the XQuAD-R 300-question
# sample (about 6,400 texts) took 9 s at 1 layer and 42 s at 4.
TRAIN_PAIR_LAYER_S = 0.009  # one (query, passage) pair, forward + backward, one layer
TRAIN_PAIR_FIXED_S = 0.003  # per pair, independent of depth (embeddings, optimizer, data)
ENCODE_TEXT_LAYER_S = 0.0008  # one short text, forward only, one layer
ENCODE_TEXT_FIXED_S = 0.0012  # per text, independent of depth (tokenise, pool, score)
TRAIN_START_S = 8.0  # python + torch + data, overlap guard and batch plan, model load
EVAL_START_S = 12.0  # python + torch + data + model load
REFERENCE_HIDDEN = 384

# Known model depths and widths; other specs fall back to their config.json or 12 x 384.
_KNOWN_SHAPES = {
    "e5-small-q4": (12, 384),
    "multilingual-e5-small": (12, 384),
    "intfloat/multilingual-e5-small": (12, 384),
    "multilingual-e5-base": (12, 768),
    "intfloat/multilingual-e5-base": (12, 768),
    "multilingual-e5-large": (24, 1024),
    "intfloat/multilingual-e5-large": (24, 1024),
    "xlm-roberta-base": (12, 768),
    "FacebookAI/xlm-roberta-base": (12, 768),
    "xlm-roberta-large": (24, 1024),
    "FacebookAI/xlm-roberta-large": (24, 1024),
    "labse": (12, 768),
    "sentence-transformers/LaBSE": (12, 768),
}

# Whole-dataset sizes: (question ids, queries, candidates).
_EVAL_SIZES = {"xquad-r": (1190, 13090, 13014), "mlqa-r": (1148, 4199, 20534)}
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


def model_shape(spec: str) -> tuple[int, int]:
    """(layers, hidden size) of a model spec, without loading it."""
    base, _, options = spec.partition(":")
    layers_match = re.search(r"layers=(\d+)", options)
    layers, hidden = _KNOWN_SHAPES.get(base, (12, REFERENCE_HIDDEN))
    config = Path(base).expanduser() / "config.json"
    if base not in _KNOWN_SHAPES and config.is_file():
        try:
            payload = json.loads(config.read_text(encoding="utf-8"))
            layers = int(payload.get("num_hidden_layers", layers))
            hidden = int(payload.get("hidden_size", hidden))
        except (OSError, ValueError, TypeError):
            pass
    if layers_match:
        layers = min(layers, int(layers_match.group(1)))
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
    ids, queries, candidates = _EVAL_SIZES[eval_set.dataset]
    if eval_set.split == "dev":  # about the held-out fraction (0.15 of MLQA-R: 3,850 texts)
        ids = round(ids * DEV_SHARE)
        queries, candidates = round(queries * DEV_SHARE), round(candidates * DEV_SHARE)
    share = min(1.0, (eval_set.max_questions or ids) / ids)
    return round((queries + candidates) * share)


def miracl_passages(language: str) -> int:
    """Passages of the published MIRACL v1.0 corpus of ``language``."""
    from xmir.data.miracl import MIRACL_CORPUS_PASSAGES

    return MIRACL_CORPUS_PASSAGES[language]


def miracl_topics(eval_set: MiraclEvalSet, language: str) -> int:
    """Dev topics evaluated in ``language`` (at most ``max_topics``)."""
    from xmir.data.miracl import MIRACL_DEV_TOPICS

    return min(MIRACL_DEV_TOPICS[language], eval_set.max_topics or MIRACL_DEV_TOPICS[language])


def estimate_run(spec: SweepSpec, run: PlannedRun) -> RunCost:
    """Estimated seconds of ``run`` on the reference CPU (or, for ``hardware: gpu``, on one
    GPU: see :mod:`xmir.sweep.gpu_cost`)."""
    if spec.hardware == "gpu":
        from xmir.sweep.gpu_cost import estimate_gpu_run

        return estimate_gpu_run(spec, run)
    layers, hidden = model_shape(run.model)
    width = (hidden / REFERENCE_HIDDEN) ** 2
    encode_per_text = ENCODE_TEXT_FIXED_S + ENCODE_TEXT_LAYER_S * layers * width
    eval_s = sum(EVAL_START_S + eval_texts(e) * encode_per_text for e in spec.eval)
    if run.strategy == "ensemble":  # its members' embeddings come from their own evaluations
        return RunCost(0.0, 2 * EVAL_START_S * len(spec.eval))
    if not run.trains:  # untrained, or a weight average: one evaluation
        return RunCost(0.0, eval_s)
    eval_s *= len(spec.budget.all_budgets)  # every evaluated budget is one more evaluation
    per_pair = TRAIN_PAIR_FIXED_S + TRAIN_PAIR_LAYER_S * layers * width
    pairs = spec.budget.steps * (run.batch_size or 0)
    return RunCost(TRAIN_START_S + pairs * per_pair, eval_s)


CPU_REFERENCE = "reference: a 2-core CPU; steps x batch x per-size cost per pair, plus encoding"


def cost_reference(spec: SweepSpec, models: list[str]) -> str:
    """What the estimate assumes, for the dry run (GPU: the parameter counts and rates)."""
    if spec.hardware != "gpu":
        return CPU_REFERENCE
    from xmir.sweep.gpu_cost import gpu_assumptions, parameter_summary

    return f"{parameter_summary(models)}; {gpu_assumptions()}"


def format_duration(seconds: float) -> str:
    """``1h 05m``, ``12m 30s`` or ``45s``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
