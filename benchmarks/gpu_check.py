"""GPU check kit: xmir's GPU paths on one GPU, in one run, into one JSON and one markdown file.

What it measures, each step on its own (a failing step is recorded and the next one runs):

1. ``train``: bf16 training of e5-small-q4 (all 12 layers, word embeddings trainable) with
   mono, cross and hybrid batches of 100 MLQA-R pairs: pairs/s and peak GPU memory;
2. ``cached_mnrl``: CachedMultipleNegativesRankingLoss (GradCache) at a batch of 1024 pairs
   (cross batches: MLQA-R has at most 511 item ids per language for a mono batch);
3. ``encode_eval``: the full XQuAD-R evaluation with the model in fp32, fp16 and bf16 on the
   GPU: texts/s and mAP, against the fp32 CPU result of the same model (from the bundle);
4. ``torchrun``: ``xmir train`` under ``torchrun --nproc-per-node 1`` (the NCCL path);
5. ``miracl``: MIRACL-style encoding of a synthetic corpus (real sentences, MIRACL layout)
   and search with exact blocks and FAISS flat, IVF and HNSW;
6. ``study``: a small GPU study, ``xmir sweep --shard I/N`` processes side by side on the one
   GPU (12 layers x mono/cross/hybrid x 2 seeds, lr 3e-5, batch 100, 200 steps, XQuAD-R
   subset of 300 question ids).

The model travels as a restricted-vocabulary bundle of e5-small-q4 (exact for every text the
kit feeds it; :mod:`xmir.models.restricted`), so the bundle fits the 64 MiB a lent GPU
machine accepts per call. Prepare it here, with PyPI and the data at hand::

    XMIR_DATA_DIR=../shared/data python benchmarks/gpu_check.py prepare --out gpu-bundle

(add ``--reference-json R.json`` to reuse an ``xmir eval --model e5-small-q4 --dataset
xquad-r`` result instead of computing the fp32 CPU reference, about 15 minutes on 2 cores);
``gpu-bundle/`` is git-ignored, so name it in the device call's ``carry``. The GPU machine's
image (Python 3.12, torch 2.11, transformers 5.17, sentence-transformers 6.0.1) lacks
pydantic, datasets, FAISS and bm25s: the bundle's wheels bring them (``WHEELS``). There, one
command::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \\
        --target /tmp/site gpu-bundle/wheels/*.whl && export PYTHONPATH=/tmp/site:src && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py run --bundle gpu-bundle --out $OUT

Before any step the run imports every module it will need (``RUN_IMPORTS``) and, if any is
missing or broken, stops within seconds with one line naming them all (``check`` does only
that, and prints the library versions). It writes ``$OUT/gpu-check.json`` and
``$OUT/gpu-check.md`` after every step (so a run cut short still leaves its results) and skips
the steps that no longer fit ``--time-budget-s``; ``--steps torchrun,study`` reruns only those.
``run --tiny --model DIR --data-dir DATA`` runs every step at toy sizes on CPU (the tests);
``benchmarks/gpu_env_rehearsal.sh`` runs the tiny mode from a prepared bundle in a CPU copy of
the GPU machine's Python environment (see ``benchmarks/README.md``).

Sizing
------
One call on the GPU machine may run 10 minutes, and a loan of it lasts 15 minutes of device
time, machine start (a minute or two) included. ``estimate_s`` sizes each step from its sizes
(``REAL``) and the throughput xmir assumes for one H100-class GPU (:mod:`xmir.sweep.gpu_cost`:
150 TFLOP/s for bf16 training, 30 TFLOP/s for encoding; 6N FLOPs per trained token, 8N with
GradCache, 2N per encoded token, N = 21.3M non-embedding parameters of e5-small; 224 tokens per
training pair, 48 per XQuAD-R text, 192 per MIRACL passage; 0.02 s of overhead per optimizer
step) plus the kit's fixed costs (``SETUP_S``, ``LOAD_S``, ``PROCESS_START_S`` and so on)::

    step         size                                                    estimate
    setup        imports, model expansion, coverage check of 34k texts      20 s
    train        3 strategies x 60 steps x 100 pairs (18k pairs)            22 s
    cached_mnrl  6 steps x 1024 pairs, mini-batches of 128                   8 s
    encode_eval  3 precisions x 26,104 XQuAD-R texts                        20 s
    torchrun     one process: start + 20 steps x 100 pairs                  21 s
    miracl       100k passages + 500 topics encoded; 3 FAISS indexes        87 s
    study        6 runs on 3 shards: 2 runs per shard, each a train
                 process (200 steps x 100 pairs) and an eval process        97 s
    total                                                                 about 275 s

The arithmetic is small (the 18k training pairs are 0.5 PFLOP, 3 s at the assumed rate):
process starts, model loads and per-step overhead dominate, and the fixed costs are assumptions
for those (the set-up took 15 s on two busy CPU cores in the rehearsal). So the run takes about 5 minutes; with a machine start of up to 2 minutes the first call
ends near 7 minutes into the loan, which leaves about 8 minutes: room for a whole rerun on
the still-warm machine (or ``--steps`` with only the failed steps). ``--time-budget-s`` (450 s)
caps the run well inside one call even if every step is 1.6 times slower than estimated: a step
starts only while 1.5 times its estimate remains, and the run records each step's estimate
beside its measured seconds, so the first real run checks these assumptions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUNDLE_LIMIT_MIB = 60  # of the 64 MiB that travel per call, leaving room for the repository
WHEELS = (
    "pydantic==2.14.4",
    "pydantic_core==2.50.5",
    "annotated-types==0.8.0",
    "typing-inspection==0.4.5",
    "faiss-cpu==1.15.1",
    "bm25s==0.3.16",
    # sentence-transformers trains only with datasets installed; the GPU image has its other
    # needs (pyarrow, pandas, xxhash, fsspec, huggingface-hub) but not these
    "datasets==5.2.0",
    "dill==0.4.1",
    "multiprocess==0.70.19",
)
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64")
# Everything ``run`` imports, checked before any step (``check_imports``). The third-party names
# include those imported lazily, inside functions (datasets by the training bridge, faiss by the
# search), which importing the xmir modules alone would not reveal.
RUN_IMPORTS = (
    "numpy", "torch", "torch.distributed.run", "transformers", "sentence_transformers",
    "accelerate", "datasets", "tokenizers", "safetensors", "huggingface_hub", "scipy", "yaml",
    "typer", "rich", "tqdm", "pydantic", "faiss",
    "xmir.cli", "xmir.train.trainer", "xmir.train.plan_dataset", "xmir.evaluate.lareqa",
    "xmir.evaluate.miracl", "xmir.evaluate.corpus_search", "xmir.models.registry",
    "xmir.models.restricted", "xmir.data.lareqa", "xmir.data.parallel", "xmir.sweep.layout",
)  # fmt: skip
# The distributions whose versions every report records (absent ones are recorded as such).
LIBRARIES = (
    "torch", "transformers", "sentence-transformers", "accelerate", "numpy", "datasets",
    "huggingface-hub", "tokenizers", "safetensors", "pyarrow", "pandas", "fsspec", "scipy",
    "typer", "pydantic", "faiss-cpu", "bm25s",
)  # fmt: skip
MIRACL_LANGUAGE = "en"  # the synthetic corpus is filed under one MIRACL language code
MIB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """How big every step is; ``REAL`` for one H100, ``TINY`` for a CPU test run."""

    train_batch: int = 100
    train_steps: int = 60
    precision: str = "bf16"
    cached_batch: int = 1024
    cached_mini_batch: int = 128
    cached_steps: int = 6
    eval_max_questions: int | None = None
    eval_precisions: tuple[str, ...] = ("fp32", "fp16", "bf16")
    eval_batch: int = 256
    torchrun_steps: int = 20
    miracl_passages: int = 100_000
    miracl_topics: int = 500
    miracl_methods: tuple[str, ...] = ("exact", "flat", "ivf", "hnsw")
    study_strategies: tuple[str, ...] = ("mono", "cross", "hybrid")
    study_seeds: tuple[int, ...] = (0, 1)
    study_steps: int = 200
    study_questions: int = 300
    study_shards: int = 3
    time_budget_s: float = 450.0
    device: str = "cuda"


# Sizing the real run (the docstring's "Sizing"): the throughput rates are xmir's stated GPU
# assumptions (:mod:`xmir.sweep.gpu_cost`); these fixed costs are the kit's own, for a GPU
# machine with 16 CPU cores.
SETUP_S = 20.0  # imports, expanding the restricted model, the coverage check of every kit text
LOAD_S = 5.0  # loading the model folder (and, for training, the batch plan) in this process
PROCESS_START_S = 20.0  # a new Python process: imports, model load, batch plan
INDEX_S = 15.0  # building one FAISS index (IVF training or HNSW graph) of 100k rows on the CPU
CORPUS_S = 10.0  # writing and reading the synthetic MIRACL corpus of 100k passages
GRADCACHE_MINI_STEP_S = 0.02  # each GradCache mini-batch: its own forward calls and collation
XQUAD_R_TEXTS = 13_090 + 13_014  # queries + candidates of the full XQuAD-R
XQUAD_R_QUESTION_IDS = 1_190  # a subset of q ids holds about q / 1190 of the texts


def estimate_s(sizes: Sizes) -> dict[str, float]:
    """Seconds each part of a run should take on one H100-class GPU at the stated rates."""
    from xmir.sweep import gpu_cost as g

    n = g.non_embedding_parameters("e5-small-q4")

    def train_s(steps: int, batch: int, flops_per_token: int = 6) -> float:
        tokens = steps * batch * g.TRAIN_TOKENS_PER_PAIR
        return steps * g.STEP_OVERHEAD_S + flops_per_token * n * tokens / (g.TRAIN_TFLOPS * 1e12)

    def encode_s(tokens: float) -> float:
        return 2 * n * tokens / (g.ENCODE_TFLOPS * 1e12)

    def xquad_texts(question_ids: int | None) -> float:
        share = min(1.0, (question_ids or XQUAD_R_QUESTION_IDS) / XQUAD_R_QUESTION_IDS)
        return XQUAD_R_TEXTS * share

    mini_batches = sizes.cached_steps * -(-sizes.cached_batch // sizes.cached_mini_batch)
    runs = len(sizes.study_strategies) * len(sizes.study_seeds)
    study_run = (
        PROCESS_START_S
        + train_s(sizes.study_steps, sizes.train_batch)
        + PROCESS_START_S
        + encode_s(xquad_texts(sizes.study_questions) * g.LAREQA_TEXT_TOKENS)
    )
    miracl_tokens = (
        sizes.miracl_passages * g.MIRACL_PASSAGE_TOKENS
        + sizes.miracl_topics * g.MIRACL_QUERY_TOKENS
    )
    indexes = sum(method in ("ivf", "hnsw", "flat") for method in sizes.miracl_methods)
    return {
        "setup": SETUP_S,
        "train": 3 * (LOAD_S + train_s(sizes.train_steps, sizes.train_batch)),
        # GradCache runs the forward pass twice: 8N FLOPs per token instead of 6N
        "cached_mnrl": LOAD_S
        + train_s(sizes.cached_steps, sizes.cached_batch, flops_per_token=8)
        + mini_batches * GRADCACHE_MINI_STEP_S,
        "encode_eval": len(sizes.eval_precisions)
        * (LOAD_S + encode_s(xquad_texts(sizes.eval_max_questions) * g.LAREQA_TEXT_TOKENS)),
        "torchrun": PROCESS_START_S + train_s(sizes.torchrun_steps, sizes.train_batch),
        "miracl": CORPUS_S + LOAD_S + encode_s(miracl_tokens) + indexes * INDEX_S,
        "study": -(-runs // sizes.study_shards) * study_run,
    }


REAL = Sizes()
TINY = Sizes(
    train_batch=4, train_steps=2, precision="auto", cached_batch=16, cached_mini_batch=4,
    cached_steps=2, eval_max_questions=8, eval_precisions=("fp32", "bf16"), eval_batch=32,
    torchrun_steps=2, miracl_passages=120, miracl_topics=6, study_strategies=("mono", "hybrid"),
    study_seeds=(0,), study_steps=2, study_questions=4, study_shards=2, time_budget_s=900.0,
    device="cpu",
)  # fmt: skip


# ----------------------------------------------------------------------------- imports


def check_imports(names: tuple[str, ...] = RUN_IMPORTS) -> dict[str, list[str]]:
    """Import every module a run needs: ``missing`` and ``broken`` imports, empty when all work.

    A missing module is named once, with the modules of ``names`` that need it when it is not
    itself one of them; any other import error (a name a library version lacks, a binary that
    does not load) keeps its message under ``broken``."""
    import importlib

    missing: dict[str, list[str]] = {}
    broken: list[str] = []
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            top = (error.name or name).split(".")[0]
            needers = missing.setdefault(top, [])
            if top != name.split(".")[0]:
                needers.append(name)
        except Exception as error:  # an API or binary mismatch, not an absence
            broken.append(f"{name} ({type(error).__name__}: {error})")
    return {
        "missing": [f"{top} (for {', '.join(by)})" if by else top for top, by in missing.items()],
        "broken": broken,
    }


def library_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`LIBRARIES` (``None`` where absent)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def require_imports() -> None:
    """Stop with one line listing every import problem, before any step runs."""
    found = check_imports()
    problems = [f"{kind}: {', '.join(names)}" for kind, names in found.items() if names]
    if problems:
        print(
            "error: cannot run; " + "; ".join(problems) + " (install the bundle's wheels with "
            "--target and put that folder and src on PYTHONPATH, as the docstring shows)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(2)


# ----------------------------------------------------------------------------- the texts


def kit_texts(data_dir: Path) -> list[str]:
    """Every text the kit feeds the model, prompts included: MLQA-R training pairs and the
    full XQuAD-R (the synthetic MIRACL corpus joins these sentences with spaces, and the
    XLM-R tokenizer splits on whitespace first, so its tokens are among these)."""
    from xmir.data.lareqa import load_lareqa
    from xmir.data.parallel import load_training_data

    texts: dict[str, None] = {}
    for item in load_training_data("mlqa-r", data_dir=data_dir).items:
        texts[f"query: {item.query}"] = None
        texts[f"passage: {item.positive}"] = None
    rset = load_lareqa("xquad-r", data_dir)
    for query in rset.query_texts:
        texts[f"query: {query}"] = None
    for candidate in rset.candidate_texts:
        texts[f"passage: {candidate}"] = None
    return list(texts)


# ----------------------------------------------------------------------------- prepare


def prepare(options: argparse.Namespace) -> None:
    """Build the bundle: restricted model, data, wheels and the fp32 CPU reference."""
    from xmir.models.restricted import build_restricted_bundle
    from xmir.paths import data_dir_from_env

    data_dir = Path(options.data_dir or data_dir_from_env() or "")
    if not (data_dir / "xquad-r").is_dir():
        sys.exit("error: point --data-dir (or XMIR_DATA_DIR) at the folder with xquad-r/")
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    texts = kit_texts(data_dir)
    record = build_restricted_bundle(texts, out / "model")
    print(f"model: {record['kept_tokens']:,} tokens kept for {len(texts):,} texts")
    for name in ("xquad-r", "mlqa-r"):
        shutil.copytree(data_dir / name, out / "data" / name, dirs_exist_ok=True)
    if not options.no_wheels:
        fetch_wheels(out / "wheels")
    if options.reference_json:
        write_reference(json.loads(Path(options.reference_json).read_text()), out)
    elif not options.no_reference:
        compute_reference(data_dir, out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"bundle {out}: {size / MIB:.1f} MiB")
    if size > BUNDLE_LIMIT_MIB * MIB:
        sys.exit(f"error: the bundle is {size / MIB:.1f} MiB, over {BUNDLE_LIMIT_MIB} MiB")


def fetch_wheels(folder: Path) -> None:
    """The wheels the GPU image lacks, for its Python 3.12 on x86-64 Linux."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", "-d", str(folder)]
    for platform_tag in WHEEL_PLATFORMS:
        command += ["--platform", platform_tag]
    subprocess.run([*command, *WHEELS], check=True)


def compute_reference(data_dir: Path, out: Path) -> None:
    """The fp32 CPU XQuAD-R result of e5-small-q4 (the full model: the restricted one gives
    the same embeddings)."""
    from xmir.data.lareqa import load_lareqa
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
    from xmir.models.registry import load_model

    loaded = load_model("e5-small-q4", device="cpu")
    result = evaluate_lareqa(loaded, load_lareqa("xquad-r", data_dir), EvalOptions()).to_dict()
    write_reference(result, out)


def write_reference(result: dict[str, Any], out: Path) -> None:
    summary = {
        "model": result["model"]["spec"],
        "device": "cpu",
        "precision": "fp32",
        "settings": lareqa_summary(result),
    }
    (out / "reference.json").write_text(json.dumps(summary, indent=1))


# ----------------------------------------------------------------------------- the report


@dataclass
class Report:
    """The JSON document, rewritten (with its markdown) after every step."""

    out: Path
    document: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("gpu-check.json", json.dumps(self.document, indent=1, default=str)),
            ("gpu-check.md", markdown(self.document)),
        ):
            tmp = self.out / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.out / name)


def lareqa_summary(result: dict[str, Any]) -> dict[str, float]:
    settings = result["settings"]
    return {
        "mono_map": settings["mono"]["map"],
        "cross_map": settings["cross"]["map"],
        "multi_map": settings["multi"]["map"],
        "rank_distance": result["bias"]["rank_distance"],
    }


def markdown(document: dict[str, Any]) -> str:
    """A readable summary: machine, then one section per step."""
    env = document.get("environment", {})
    lines = [
        "# GPU check",
        "",
        f"Machine: {env.get('gpu', 'no GPU')} ({env.get('gpu_memory_gib', '-')} GiB), "
        f"torch {env.get('torch', '?')}, CUDA {env.get('cuda', '-')}, Python "
        f"{env.get('python', '?')}; mode {document.get('mode', '?')}; model "
        f"{document.get('model', {}).get('description', '?')}.",
        "",
    ]
    for name, step in document.get("steps", {}).items():
        estimate = step.get("estimate_s")
        planned = f"; estimate {estimate:.0f} s" if estimate is not None else ""
        lines += [f"## {name}: {step.get('status')} ({step.get('seconds', 0):.0f} s{planned})", ""]
        if step.get("error"):
            lines += [f"Error: `{step['error']}`", ""]
        rows = step.get("rows") or []
        if rows:
            columns = list(rows[0])
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
            lines.append("")
        for note in step.get("notes", []):
            lines.append(f"- {note}")
        if step.get("notes"):
            lines.append("")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


# ----------------------------------------------------------------------------- the run


@dataclass
class Kit:
    """What every step needs: sizes, folders, the model and the report."""

    sizes: Sizes
    model_dir: Path
    data_dir: Path
    work: Path
    report: Report
    reference: dict[str, Any] | None
    started: float = field(default_factory=time.perf_counter)

    @property
    def cuda(self) -> bool:
        return self.sizes.device == "cuda"

    def remaining_s(self) -> float:
        return self.sizes.time_budget_s - (time.perf_counter() - self.started)

    def env(self) -> dict[str, str]:
        """The environment of child processes: this interpreter's path, data and cache."""
        paths = [str(REPO / "src"), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "XMIR_DATA_DIR": str(self.data_dir),
            "XMIR_CACHE_DIR": str(self.work / "cache"),
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }


Step = Callable[[Kit], dict[str, Any]]


def run_step(kit: Kit, name: str, step: Step, needs_s: float) -> None:
    """Run one step unless the time budget cannot hold it; record its outcome and save."""
    steps = kit.report.document.setdefault("steps", {})
    estimate = kit.report.document.get("estimate_s", {}).get(name)
    if kit.remaining_s() < needs_s:
        steps[name] = {
            "status": "skipped",
            "seconds": 0.0,
            "estimate_s": estimate,
            "notes": [
                f"time budget spent ({kit.remaining_s():.0f} s left, {needs_s:.0f} s needed)"
            ],
        }
        kit.report.save()
        return
    print(f"[gpu-check] {name} ...", flush=True)
    clock = time.perf_counter()
    try:
        record = {"status": "ok", **step(kit)}
    except Exception as error:  # one failing step must not cost the others
        record = {"status": "failed", "error": f"{type(error).__name__}: {error}"[:500]}
        traceback.print_exc()
    record["seconds"] = round(time.perf_counter() - clock, 2)
    record["estimate_s"] = estimate
    steps[name] = record
    _free_gpu()
    kit.report.save()
    print(f"[gpu-check] {name}: {record['status']} in {record['seconds']:.0f} s", flush=True)


def _free_gpu() -> None:
    import gc

    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def step_train(kit: Kit) -> dict[str, Any]:
    """Pairs/s and peak memory of training per strategy (in this process)."""
    rows = []
    for strategy in ("mono", "cross", "hybrid"):
        figures = _train_in_process(
            kit, f"train-{strategy}", strategy, kit.sizes.train_batch, kit.sizes.train_steps
        )
        rows.append({"strategy": strategy, **figures})
    return {
        "rows": rows,
        "notes": [
            f"{kit.sizes.train_steps} steps of {kit.sizes.train_batch} MLQA-R pairs, lr 3e-5, "
            "all layers and the word embeddings trained; pairs/s over the whole run "
            "(first steps included)"
        ],
    }


def step_cached_mnrl(kit: Kit) -> dict[str, Any]:
    """GradCache at a large batch: pairs/s and peak memory."""
    figures = _train_in_process(
        kit,
        "train-cached",
        "cross",
        kit.sizes.cached_batch,
        kit.sizes.cached_steps,
        mini_batch_size=kit.sizes.cached_mini_batch,
    )
    row = {"batch": kit.sizes.cached_batch, "mini_batch": kit.sizes.cached_mini_batch, **figures}
    return {
        "rows": [row],
        "notes": ["cross batches (a mono batch of MLQA-R holds at most 511 item ids)"],
    }


def _train_in_process(
    kit: Kit,
    name: str,
    strategy: str,
    batch: int,
    steps: int,
    *,
    mini_batch_size: int | None = None,
) -> dict[str, Any]:
    import torch

    from xmir.train.config import TrainConfig
    from xmir.train.trainer import train

    if kit.cuda:
        torch.cuda.reset_peak_memory_stats()
    config = TrainConfig(
        model=str(kit.model_dir),
        train_data="mlqa-r",
        data_dir=kit.data_dir,
        out=kit.work / name,
        strategy=strategy,
        alpha=0.5,
        batch_size=batch,
        steps=steps,
        lr=3e-5,
        precision=kit.sizes.precision,
        mini_batch_size=mini_batch_size,
        save_every=10**6,
        log_every=max(1, steps // 4),
        seed=0,
    )
    clock = time.perf_counter()
    metadata = train(config)
    wall = time.perf_counter() - clock
    training = metadata["training"]
    shutil.rmtree(kit.work / name, ignore_errors=True)
    return {
        "precision": metadata.get("precision", kit.sizes.precision),
        "steps": training["steps_this_session"],
        "pairs_per_s": training["pairs_per_second"],
        "train_s": training["seconds_this_session"],
        "wall_s": round(wall, 1),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if kit.cuda else None,
        "loss_last": (training["loss_log"] or [{}])[-1].get("loss"),
    }


def step_encode_eval(kit: Kit) -> dict[str, Any]:
    """The XQuAD-R evaluation per precision: texts/s and mAP against fp32 on CPU."""
    import torch

    from xmir.data.lareqa import load_lareqa
    from xmir.evaluate.lareqa import EvalOptions, evaluate_lareqa
    from xmir.models.registry import load_model

    rset = load_lareqa(
        "xquad-r", kit.data_dir, max_questions=kit.sizes.eval_max_questions, subset_seed=0
    )
    texts = rset.num_queries + rset.num_candidates
    options = EvalOptions(batch_size=kit.sizes.eval_batch, use_cache=False, show_progress=False)
    reference, notes = kit.reference, []
    if reference is None or kit.sizes.eval_max_questions is not None:
        cpu = load_model(str(kit.model_dir), device="cpu")
        reference = {
            "device": "cpu",
            "settings": lareqa_summary(evaluate_lareqa(cpu, rset, options).to_dict()),
        }
        notes.append("reference: fp32 on this machine's CPU, computed here")
    else:
        notes.append("reference: fp32 on CPU, computed when the bundle was prepared")
    rows = []
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    for precision in kit.sizes.eval_precisions:
        loaded = load_model(str(kit.model_dir), device=kit.sizes.device)
        loaded.model.to(dtypes[precision])
        result = evaluate_lareqa(loaded, rset, options).to_dict()
        summary = lareqa_summary(result)
        rows.append(
            {
                "precision": precision,
                "device": kit.sizes.device,
                "texts_per_s": round(texts / max(result["time_s"]["encode"], 1e-9), 1),
                **{k: round(v, 4) for k, v in summary.items()},
                **{
                    f"delta_{k}": round(v - reference["settings"][k], 4)
                    for k, v in summary.items()
                    if k.endswith("_map")
                },
            }
        )
        del loaded
        _free_gpu()
    notes.append(
        f"{rset.num_queries:,} queries and {rset.num_candidates:,} candidates"
        + (f" ({rset.subset})" if rset.subset else " (full XQuAD-R)")
        + "; delta = this precision minus the fp32 CPU reference"
    )
    return {"rows": rows, "reference": reference, "notes": notes}


TORCHRUN_DRIVER = """
import json, sys
import torch.distributed as dist
from xmir.cli import app
record, args = sys.argv[1], sys.argv[2:]
backend = {}
original = dist.init_process_group
def recording(*a, **k):
    out = original(*a, **k)
    backend["backend"] = dist.get_backend()
    backend["world_size"] = dist.get_world_size()
    return out
dist.init_process_group = recording
try:
    app(args, standalone_mode=False)
finally:
    if dist.is_initialized() and not backend:
        backend.update(backend=dist.get_backend(), world_size=dist.get_world_size())
    open(record, "w").write(json.dumps(backend))
"""


def step_torchrun(kit: Kit) -> dict[str, Any]:
    """``xmir train`` under torchrun on one process; records the process-group backend."""
    from xmir.paths import TRAIN_RECORD_FILE
    from xmir.train.record import TrainingOutcome, TrainRecord

    driver, record = kit.work / "torchrun_driver.py", kit.work / "torchrun-backend.json"
    driver.write_text(TORCHRUN_DRIVER, encoding="utf-8")
    out = kit.work / "torchrun-train"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1",
        str(driver), str(record), "train", "--model", str(kit.model_dir), "--train-data",
        "mlqa-r", "--strategy", "hybrid", "--batch-size", str(kit.sizes.train_batch),
        "--steps", str(kit.sizes.torchrun_steps), "--precision", kit.sizes.precision,
        "--save-every", "1000000", "--out", str(out),
    ]  # fmt: skip
    clock = time.perf_counter()
    done = subprocess.run(
        command,
        env=kit.env(),
        capture_output=True,
        text=True,
        timeout=max(30.0, kit.remaining_s()),
    )
    wall = time.perf_counter() - clock
    if done.returncode != 0:
        log = kit.work / "torchrun.log"
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        raise RuntimeError(f"torchrun exited with {done.returncode}: {child_error(log)}")
    backend = json.loads(record.read_text()) if record.is_file() else {}
    training = TrainRecord.from_disk(out / TRAIN_RECORD_FILE).training or TrainingOutcome()
    shutil.rmtree(out, ignore_errors=True)
    row = {
        "backend": backend.get("backend"),
        "world_size": backend.get("world_size"),
        "steps": training.steps_this_session,
        "pairs_per_s": training.pairs_per_second,
        "wall_s": round(wall, 1),
    }
    return {"rows": [row], "notes": ["process start, data and model load included in wall_s"]}


def child_error(log: Path) -> str:
    """The last exception or ``error:`` line a child process wrote (torchrun's own
    ``ChildFailedError`` and closing summary say only that a child failed), else the log's
    last line."""
    lines = [line.strip() for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in reversed(lines):
        head = line.split(":", 1)[0].split(".")[-1]
        if head == "ChildFailedError":  # torchrun's own
            continue
        if head.endswith(("Error", "Exception", "Exit")) or line.lower().startswith("error:"):
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def step_miracl(kit: Kit) -> dict[str, Any]:
    """Encode a synthetic MIRACL-layout corpus once, then search it with each method."""
    from xmir.evaluate.miracl import MiraclOptions, evaluate_miracl
    from xmir.models.registry import load_model

    files = write_synthetic_miracl(kit.work / "miracl", kit.data_dir, kit.sizes)
    loaded = load_model(str(kit.model_dir), device=kit.sizes.device)
    rows, notes = [], []
    for method in kit.sizes.miracl_methods:
        options = MiraclOptions(
            corpus=files["corpus"], languages=(MIRACL_LANGUAGE,), topics=files["topics"],
            qrels=files["qrels"], search=method, bm25=False, show_progress=False,
            batch_size=kit.sizes.eval_batch, devices=[kit.sizes.device],
        )  # fmt: skip
        result = evaluate_miracl(loaded, options).to_dict()
        times = result["time_s"]["per_language"][MIRACL_LANGUAGE]
        passages = result["counts"][MIRACL_LANGUAGE]["corpus_passages"]
        encoded = not result["embeddings"][MIRACL_LANGUAGE]["from_cache"]
        rows.append(
            {
                "search": method,
                "passages": passages,
                "encode_s": times["encode_corpus"] if encoded else None,
                "passages_per_s": round(passages / times["encode_corpus"], 1) if encoded else None,
                "search_s": times["search"],
                "ndcg@10": round(result["settings"]["mono"]["ndcg@10"], 4),
                "recall@100": round(result["settings"]["mono"]["recall@100"], 4),
            }
        )
    notes.append(
        f"{kit.sizes.miracl_topics} topics; passages join 2 to 4 XQuAD-R/MLQA-R sentences; "
        "the corpus is encoded once (first row), the other rows reuse the cached embeddings; "
        "search_s includes query encoding and building the FAISS index"
    )
    return {"rows": rows, "notes": notes}


def write_synthetic_miracl(root: Path, data_dir: Path, sizes: Sizes) -> dict[str, str]:
    """A MIRACL-layout corpus of real sentences: each topic (an XQuAD-R question) has two
    passages holding its answer sentence and one judged non-relevant passage."""
    from xmir.data.lareqa import load_lareqa

    rng = random.Random(0)
    xquad, mlqa = load_lareqa("xquad-r", data_dir), load_lareqa("mlqa-r", data_dir)
    sentences = list(xquad.candidate_texts) + list(mlqa.candidate_texts)
    picks = rng.sample(range(xquad.num_queries), sizes.miracl_topics)

    def passage(*fixed: str) -> str:
        parts = [*fixed, *rng.sample(sentences, rng.randint(2, 4) - len(fixed))]
        rng.shuffle(parts)
        return " ".join(parts)

    records = [
        {"docid": f"{i}#0", "title": "", "text": passage()} for i in range(sizes.miracl_passages)
    ]
    topics, qrels = [], []
    for number, index in enumerate(picks):
        qid = f"t{number}"
        gold = xquad.candidate_texts[xquad.gold_own_language[index]]
        topics.append(f"{qid}\t{xquad.query_texts[index]}\n")
        for j in range(2):
            records.append({"docid": f"{qid}#{j}", "title": "", "text": passage(gold)})
            qrels.append(f"{qid} Q0 {qid}#{j} 1\n")
        qrels.append(f"{qid} Q0 {rng.randrange(sizes.miracl_passages)}#0 0\n")
    rng.shuffle(records)
    folder = root / "corpus" / f"miracl-corpus-v1.0-{MIRACL_LANGUAGE}"
    folder.mkdir(parents=True, exist_ok=True)
    half = len(records) // 2
    for shard, part in enumerate((records[:half], records[half:])):
        with gzip.open(
            folder / f"docs-{shard}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1
        ) as out:
            out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    (root / "topics.en.tsv").write_text("".join(topics), encoding="utf-8")
    (root / "qrels.en.tsv").write_text("".join(qrels), encoding="utf-8")
    return {
        "corpus": str(root / "corpus"),
        "topics": str(root / "topics.{lang}.tsv"),
        "qrels": str(root / "qrels.{lang}.tsv"),
    }


def step_study(kit: Kit) -> dict[str, Any]:
    """A small sweep, ``--shard I/N`` processes side by side on the one device."""
    import yaml

    sizes = kit.sizes
    spec = {
        "name": "gpu-check-study",
        "models": [str(kit.model_dir)],
        "strategies": list(sizes.study_strategies),
        "hybrid_alphas": [0.5],
        "batch_sizes": [sizes.train_batch],
        "seeds": list(sizes.study_seeds),
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": sizes.study_questions}],
        "budget": {"steps": sizes.study_steps, "lr": 3e-5},
        "include_untrained": False,
    }
    spec_file, out = kit.work / "study.yaml", kit.work / "study"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    sampler = GpuMemorySampler(enabled=kit.cuda)
    clock = time.perf_counter()
    with sampler:
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "xmir",
                    "sweep",
                    str(spec_file),
                    "--out",
                    str(out),
                    "--shard",
                    f"{i}/{sizes.study_shards}",
                    "--no-report",
                ],
                env=kit.env(),
                stdout=(kit.work / f"study-{i}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            for i in range(sizes.study_shards)
        ]
        deadline = time.perf_counter() + max(10.0, kit.remaining_s() - 5)
        try:
            codes = [p.wait(timeout=max(1.0, deadline - time.perf_counter())) for p in processes]
        except subprocess.TimeoutExpired:
            for process in processes:
                process.kill()
            raise
    wall = time.perf_counter() - clock
    rows = study_rows(out)
    notes = [
        f"{len(rows)} runs on {sizes.study_shards} shards side by side in {wall:.0f} s "
        f"(exit codes {codes}); {sizes.study_steps} steps of {sizes.train_batch} pairs at lr "
        f"3e-5; XQuAD-R subset of about {sizes.study_questions} question ids",
    ]
    if sampler.peak_used_gib is not None:
        notes.append(f"peak GPU memory in use by all processes: {sampler.peak_used_gib:.1f} GiB")
    if any(codes):
        raise RuntimeError(f"a shard failed (exit codes {codes}); see the study logs")
    return {"rows": rows, "notes": notes, "wall_s": round(wall, 1)}


def study_rows(out: Path) -> list[dict[str, Any]]:
    """One row per run: strategy, seed, seconds and the three mAPs."""
    from xmir.records import read_json_object

    rows = []
    for status_file in sorted(out.glob("runs/*/status.json")):
        status = json.loads(status_file.read_text())
        result = read_json_object(status_file.parent / "eval-xquad-r.json") or {}
        settings = result.get("settings", {})
        config = status.get("config", {})
        rows.append(
            {
                "run": status["run_id"],
                "state": status.get("state"),
                "strategy": config.get("strategy"),
                "seed": config.get("seed"),
                "seconds": status.get("seconds"),
                **{
                    f"{s}_map": round(settings[s]["map"], 4) if s in settings else None
                    for s in ("mono", "cross", "multi")
                },
            }
        )
    return rows


class GpuMemorySampler:
    """Samples the device's used memory (all processes) every 0.5 s; keeps the peak."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.peak_used_gib: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> GpuMemorySampler:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join(timeout=2)

    def _run(self) -> None:
        import torch

        while not self._stop.is_set():
            free, total = torch.cuda.mem_get_info()
            used = (total - free) / 2**30
            self.peak_used_gib = max(self.peak_used_gib or 0.0, used)
            self._stop.wait(0.5)


STEPS: dict[str, Step] = {
    "train": step_train,
    "cached_mnrl": step_cached_mnrl,
    "encode_eval": step_encode_eval,
    "torchrun": step_torchrun,
    "miracl": step_miracl,
    "study": step_study,
}


def environment(sizes: Sizes) -> dict[str, Any]:
    import torch

    record: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu_count": os.cpu_count(),
        "libraries": library_versions(),
    }
    if sizes.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("error: no CUDA device; use --tiny for a CPU run")
        props = torch.cuda.get_device_properties(0)
        record.update(
            gpu=props.name,
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            bf16=torch.cuda.is_bf16_supported(),
            nccl=torch.distributed.is_nccl_available(),
        )
    return record


def resolve_model(options: argparse.Namespace, kit_work: Path) -> tuple[Path, dict[str, Any]]:
    """The model folder: the given one, or the bundle's restricted build expanded here."""
    if options.model:
        return Path(options.model), {"description": f"model folder {Path(options.model).name}"}
    from xmir.models.restricted import expand_restricted_bundle

    clock = time.perf_counter()
    folder = expand_restricted_bundle(Path(options.bundle) / "model", kit_work / "model")
    index = json.loads((folder / "restricted.json").read_text())
    return folder, {
        "description": index["description"],
        "kept_tokens": index["kept_tokens"],
        "expand_s": round(time.perf_counter() - clock, 1),
    }


def chosen_steps(text: str | None) -> list[str]:
    """The steps ``--steps`` names (comma-separated), all of them by default."""
    if not text:
        return list(STEPS)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in STEPS]
    if unknown or not names:
        sys.exit(f"error: unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    return names


def run(options: argparse.Namespace) -> None:
    chosen = chosen_steps(options.steps)
    require_imports()
    sizes = TINY if options.tiny else REAL
    if options.time_budget_s is not None:
        sizes = replace(sizes, time_budget_s=options.time_budget_s)
    if options.bundle is None and options.model is None:
        sys.exit("error: give --bundle (prepared here) or --model (a model folder)")
    bundle = Path(options.bundle) if options.bundle else None
    data_dir = Path(options.data_dir) if options.data_dir else bundle / "data"  # type: ignore[operator]
    work = Path(options.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.update(XMIR_DATA_DIR=str(data_dir), XMIR_CACHE_DIR=str(work / "cache"))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    report = Report(Path(options.out))
    report.document.update(mode="tiny" if options.tiny else "real", sizes=asdict(sizes))
    report.document["environment"] = environment(sizes)
    model_dir, model_record = resolve_model(options, work)
    if (model_dir / "token_ids.npy").is_file():
        from xmir.models.restricted import check_coverage

        model_record["texts_checked"] = check_coverage(model_dir, kit_texts(data_dir))
    report.document["model"] = model_record
    reference_file = bundle / "reference.json" if bundle else None
    reference = (
        json.loads(reference_file.read_text())
        if reference_file and reference_file.is_file()
        else None
    )
    kit = Kit(sizes, model_dir, data_dir, work, report, reference)
    estimates = estimate_s(sizes)
    report.document["estimate_s"] = {k: round(v, 1) for k, v in estimates.items()}
    report.save()
    for name, step in STEPS.items():
        if name in chosen:
            # a step starts only while 1.5 times its estimate remains (the docstring's sizing)
            run_step(kit, name, step, 0.0 if options.tiny else 1.5 * estimates[name])
    report.document["total_s"] = round(time.perf_counter() - kit.started, 1)
    report.save()
    print(f"[gpu-check] done in {report.document['total_s']:.0f} s -> {options.out}")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build the bundle (here: PyPI and the data needed)")
    prep.add_argument("--out", required=True)
    prep.add_argument("--data-dir")
    prep.add_argument("--reference-json", help="an fp32 CPU `xmir eval` result to reuse")
    prep.add_argument("--no-reference", action="store_true")
    prep.add_argument("--no-wheels", action="store_true")
    go = sub.add_parser("run", help="run every step and write gpu-check.json/.md")
    go.add_argument("--bundle")
    go.add_argument("--model", help="a model folder instead of the bundle's model")
    go.add_argument("--data-dir", help="default: the bundle's data folder")
    go.add_argument("--out", required=True)
    go.add_argument("--work", default="/tmp/gpu-check-work")
    go.add_argument("--tiny", action="store_true", help="toy sizes on CPU (tests)")
    go.add_argument("--time-budget-s", type=float)
    go.add_argument("--steps", help=f"comma-separated, of {','.join(STEPS)} (default: all)")
    sub.add_parser("check", help="only check the imports a run needs and print the versions")
    return parser.parse_args(argv)


def check(options: argparse.Namespace) -> None:
    """The import check alone, then the library versions, one per line."""
    require_imports()
    print(f"imports ok: {len(RUN_IMPORTS)} modules; Python {platform.python_version()}")
    for name, version in library_versions().items():
        print(f"  {name} {version or '(absent)'}")


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(REPO / "src"))
    options = parse(sys.argv[1:] if argv is None else argv)
    {"prepare": prepare, "run": run, "check": check}[options.command](options)


if __name__ == "__main__":
    main()
