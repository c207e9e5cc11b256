"""Rough cost of a run, from the spec alone (no data or weights are read).

The figures were measured on a 2-core CPU with ``e5-small-q4`` (hidden 384): a text costs
time proportional to the number of transformer layers, plus a per-text part (tokenisation,
embedding lookup) that does not scale with depth, plus a fixed start-up per process. Larger
hidden sizes scale the per-layer part by (hidden / 384)^2. Model shapes and dataset sizes
come from the registries (see :mod:`xmir.sweep.workload`). The estimate orders and balances
runs (``--dry-run``, ``--shard``); it is no promise about another machine.
"""

from __future__ import annotations

from xmir.sweep.gpu_cost import estimate_gpu_run, gpu_assumptions, parameter_summary
from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import SweepSpec
from xmir.sweep.workload import (
    REFERENCE_HIDDEN,
    RunCost,
    eval_texts,
    evaluation_seconds,
    miracl_passages,
    miracl_topics,
    model_shape,
)

__all__ = [
    "RunCost",
    "cost_reference",
    "estimate_run",
    "eval_texts",
    "format_duration",
    "miracl_passages",
    "miracl_topics",
    "model_shape",
]

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


def estimate_run(spec: SweepSpec, run: PlannedRun) -> RunCost:
    """Estimated seconds of ``run`` on the reference CPU (or, for ``hardware: gpu``, on one
    GPU: see :mod:`xmir.sweep.gpu_cost`)."""
    if spec.hardware == "gpu":
        return estimate_gpu_run(spec, run)
    layers, hidden = model_shape(run.model)
    width = (hidden / REFERENCE_HIDDEN) ** 2
    encode_per_text = ENCODE_TEXT_FIXED_S + ENCODE_TEXT_LAYER_S * layers * width
    eval_s = sum(EVAL_START_S + eval_texts(e) * encode_per_text for e in spec.eval)
    evaluation = evaluation_seconds(spec, run, eval_s, EVAL_START_S)
    if not run.trains:
        return RunCost(0.0, evaluation)
    per_pair = TRAIN_PAIR_FIXED_S + TRAIN_PAIR_LAYER_S * layers * width
    pairs = spec.budget.steps * (run.batch_size or 0)
    return RunCost(TRAIN_START_S + pairs * per_pair, evaluation)


CPU_REFERENCE = "reference: a 2-core CPU; steps x batch x per-size cost per pair, plus encoding"


def cost_reference(spec: SweepSpec, models: list[str]) -> str:
    """What the estimate assumes, for the dry run (GPU: the parameter counts and rates)."""
    if spec.hardware != "gpu":
        return CPU_REFERENCE
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
