"""GPU cost of a run (``hardware: gpu``), from known parameter counts and a stated throughput.

A transformer layer of hidden size h (feed-forward 4h) holds 12h^2 + 13h parameters; the
non-embedding parameters N of a model are its layers' (the word-embedding matrix is a lookup,
not a matrix product). A token costs about 2N FLOPs forward and 6N forward plus backward;
attention scores add a few percent at these lengths and are left out. The rates below are
assumptions for one H100-class GPU, not measurements: ``benchmarks/gpu_check.py`` measures
pairs/s and texts/s on a lent GPU to check them. Downloads are not counted.
"""

from __future__ import annotations

import itertools
import re

from xmir.errors import XmirError
from xmir.models.spec import parse_model_spec
from xmir.sweep.plan import PlannedRun
from xmir.sweep.spec import MiraclEvalSet, SweepSpec
from xmir.sweep.workload import (
    RunCost,
    eval_texts,
    evaluation_seconds,
    miracl_passages,
    miracl_topics,
    model_shape,
)

TRAIN_TFLOPS = 150.0  # sustained, bf16 mixed precision (about a fifth of dense bf16 peak)
ENCODE_TFLOPS = 30.0  # sustained, fp32: `xmir eval` encodes with the weights as stored
TRAIN_TOKENS_PER_PAIR = 32 + 192  # query + passage tokens of one training pair, padded
LAREQA_TEXT_TOKENS = 48  # a question or an answer sentence, padded per batch
MIRACL_PASSAGE_TOKENS = 192  # title + passage (about 100 words), padded per batch
MIRACL_QUERY_TOKENS = 24
STEP_OVERHEAD_S = 0.02  # optimizer step, collation, logging
TRAIN_START_S = 60.0  # process start, model load from the local hub cache, batch plan
EVAL_START_S = 30.0
# hf:unicamp-dl/mmarco, per training language, on the GPU machine's CPU: reading a 3-8 GB
# collection (about 60 s) and the zero-shot guard over about 1.2M texts (about 90 s).
MMARCO_LANGUAGE_S = 150.0
MMARCO_ALL_LANGUAGES = 14


def non_embedding_parameters(model: str) -> int:
    """Parameters of the transformer layers of ``model`` (a layer cut counts its layers)."""
    layers, hidden = model_shape(model)
    return layers * (12 * hidden * hidden + 13 * hidden)


def total_parameters(model: str) -> int | None:
    """The published parameter count of a known hub model (None for others and layer cuts)."""
    if ":" in model:
        return None
    try:
        entry = parse_model_spec(model).entry
    except XmirError:
        return None
    return entry.parameters if entry else None


def eval_tokens(eval_set: object) -> int:
    """Tokens encoded by one evaluation."""
    if isinstance(eval_set, MiraclEvalSet):
        return sum(
            miracl_passages(lang) * MIRACL_PASSAGE_TOKENS
            + miracl_topics(eval_set, lang) * MIRACL_QUERY_TOKENS
            for lang in eval_set.language_list
        )
    return eval_texts(eval_set) * LAREQA_TEXT_TOKENS  # type: ignore[arg-type]


def train_start_s(spec: SweepSpec) -> float:
    """Seconds before the first step: start-up, plus reading and guarding hub mMARCO data."""
    if not spec.train_data.startswith("hf:unicamp-dl/mmarco"):
        return TRAIN_START_S
    return TRAIN_START_S + MMARCO_LANGUAGE_S * _train_languages(spec, MMARCO_ALL_LANGUAGES)


def estimate_gpu_run(spec: SweepSpec, run: PlannedRun) -> RunCost:
    """Estimated seconds of ``run`` on one GPU at the stated rates."""
    n = non_embedding_parameters(run.model)
    eval_s = sum(EVAL_START_S + 2 * n * eval_tokens(e) / (ENCODE_TFLOPS * 1e12) for e in spec.eval)
    evaluation = evaluation_seconds(spec, run, eval_s, EVAL_START_S)
    if not run.trains:
        return RunCost(0.0, evaluation)
    steps = spec.budget.steps
    tokens = steps * (run.batch_size or 0) * TRAIN_TOKENS_PER_PAIR
    train_s = train_start_s(spec) + steps * STEP_OVERHEAD_S + 6 * n * tokens / (TRAIN_TFLOPS * 1e12)
    return RunCost(train_s, evaluation)


def gpu_assumptions() -> str:
    """The throughput assumption, as the dry run states it."""
    return (
        f"reference: one H100-class GPU at an assumed {TRAIN_TFLOPS:g} TFLOP/s for bf16 "
        f"training and {ENCODE_TFLOPS:g} TFLOP/s for fp32 encoding; 6N (training) and 2N "
        f"(encoding) FLOPs per token for N non-embedding parameters; {TRAIN_TOKENS_PER_PAIR} "
        f"tokens per training pair, {LAREQA_TEXT_TOKENS} per LAReQA text, "
        f"{MIRACL_PASSAGE_TOKENS} per MIRACL passage (full published corpora); downloads not "
        "counted"
    )


def parameter_summary(models: list[str]) -> str:
    """``xlm-roberta-base: 278M parameters, 85.1M non-embedding; ...`` for the plan."""
    parts = []
    for model in models:
        total = total_parameters(model)
        known = f"{total / 1e6:.0f}M parameters, " if total else ""
        parts.append(f"{model}: {known}{non_embedding_parameters(model) / 1e6:.1f}M non-embedding")
    return "; ".join(parts)


def _train_languages(spec: SweepSpec, default: int) -> int:
    """How many languages ``--languages`` in the budget's extra train args names."""
    args = spec.budget.extra_train_args
    for flag, value in itertools.pairwise(args):
        if flag == "--languages":
            return len([lang for lang in re.split(r"\s*,\s*", value) if lang])
    return default
