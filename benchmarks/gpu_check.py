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
``gpu-bundle/`` is git-ignored, so name it in the device call's ``carry``. On the GPU machine, one command
(under 8 minutes; Python 3.12 there, the bundle's wheels bring pydantic and FAISS)::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \\
        --target /tmp/site gpu-bundle/wheels/*.whl && export PYTHONPATH=/tmp/site:src && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py run --bundle gpu-bundle --out $OUT

It writes ``$OUT/gpu-check.json`` and ``$OUT/gpu-check.md`` after every step (so a run cut
short still leaves its results) and skips the steps that no longer fit ``--time-budget-s``.
``run --tiny --model DIR --data-dir DATA`` runs every step at toy sizes on CPU (the tests).
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
)
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64")
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


REAL = Sizes()
TINY = Sizes(
    train_batch=4, train_steps=2, precision="auto", cached_batch=16, cached_mini_batch=4,
    cached_steps=2, eval_max_questions=8, eval_precisions=("fp32", "bf16"), eval_batch=32,
    torchrun_steps=2, miracl_passages=120, miracl_topics=6, study_strategies=("mono", "hybrid"),
    study_seeds=(0,), study_steps=2, study_questions=4, study_shards=2, time_budget_s=900.0,
    device="cpu",
)  # fmt: skip


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
    result = evaluate_lareqa(loaded, load_lareqa("xquad-r", data_dir), EvalOptions())
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
        lines += [f"## {name}: {step.get('status')} ({step.get('seconds', 0):.0f} s)", ""]
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
    if kit.remaining_s() < needs_s:
        steps[name] = {"status": "skipped", "seconds": 0.0, "notes": ["time budget spent"]}
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
            "settings": lareqa_summary(evaluate_lareqa(cpu, rset, options)),
        }
        notes.append("reference: fp32 on this machine's CPU, computed here")
    else:
        notes.append("reference: fp32 on CPU, computed when the bundle was prepared")
    rows = []
    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    for precision in kit.sizes.eval_precisions:
        loaded = load_model(str(kit.model_dir), device=kit.sizes.device)
        loaded.model.to(dtypes[precision])
        result = evaluate_lareqa(loaded, rset, options)
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
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"torchrun exited with {done.returncode}: {' | '.join(tail)}")
    backend = json.loads(record.read_text()) if record.is_file() else {}
    metadata = json.loads((out / "xmir-train.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    row = {
        "backend": backend.get("backend"),
        "world_size": backend.get("world_size"),
        "steps": metadata["training"]["steps_this_session"],
        "pairs_per_s": metadata["training"]["pairs_per_second"],
        "wall_s": round(wall, 1),
    }
    return {"rows": [row], "notes": ["process start, data and model load included in wall_s"]}


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
        result = evaluate_miracl(loaded, options)
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
    from xmir.sweep.layout import read_json

    rows = []
    for status_file in sorted(out.glob("runs/*/status.json")):
        status = json.loads(status_file.read_text())
        result = read_json(status_file.parent / "eval-xquad-r.json") or {}
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


def environment(sizes: Sizes) -> dict[str, Any]:
    import torch

    record: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu_count": os.cpu_count(),
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


def run(options: argparse.Namespace) -> None:
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
    report.save()
    for name, step, needs_s in (
        ("train", step_train, 40.0),
        ("cached_mnrl", step_cached_mnrl, 30.0),
        ("encode_eval", step_encode_eval, 60.0),
        ("torchrun", step_torchrun, 40.0),
        ("miracl", step_miracl, 60.0),
        ("study", step_study, 120.0),
    ):
        run_step(kit, name, step, needs_s if not options.tiny else 0.0)
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(REPO / "src"))
    options = parse(sys.argv[1:] if argv is None else argv)
    (prepare if options.command == "prepare" else run)(options)


if __name__ == "__main__":
    main()
