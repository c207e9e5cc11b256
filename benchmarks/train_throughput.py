"""Training throughput: ``xmir train`` vs a plain sentence-transformers MNRL fit, side by side.

Both fine-tune the same model on the same parallel data with the same loss
(MultipleNegativesRankingLoss, scale 1/T), batch size, steps, learning rate, precision,
checkpoint and logging intervals. The plain fit trains on same-language (query, positive)
pairs with the default random batch sampler; xmir adds its batch plan, the per-step plan
check, checkpoint manifests, batches.jsonl and the run record. pairs/s counts training pairs
per second of ``trainer.train()`` wall time (the final checkpoint included); "steady" counts
steps 2..N only (no warm-up, no saving).

    # both, alternating A B A B, medians and the xmir/st ratio (one command):
    XMIR_DATA_DIR=... python benchmarks/train_throughput.py --runner both --repeats 3 \\
        --model e5-small-q4:layers=2 --train-data mlqa-r --batch-size 32 --steps 20 \\
        --freeze-embeddings
    # one runner per process (to time whole processes with an external tool):
    python benchmarks/train_throughput.py --runner xmir ...   |   --runner st ...
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class StepClock(TrainerCallback):
    """Wall time of the whole train() loop (final checkpoint included) and of steps 2..N."""

    def __init__(self) -> None:
        self.begin = self.first_step_end = self.last_step_end = self.end = 0.0
        self.steps = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.begin = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1
        self.last_step_end = time.perf_counter()
        if self.steps == 1:
            self.first_step_end = self.last_step_end

    def on_train_end(self, args, state, control, **kwargs):
        self.end = time.perf_counter()

    def figures(self, pairs_per_step: int) -> dict[str, float]:
        total = self.end - self.begin
        steady = self.last_step_end - self.first_step_end
        return {
            "train_seconds": round(total, 3),
            "pairs_per_s": round(self.steps * pairs_per_step / total, 3),
            "steady_pairs_per_s": round((self.steps - 1) * pairs_per_step / steady, 3)
            if self.steps > 1
            else float("nan"),
        }


def run_xmir(options: argparse.Namespace, out: Path) -> dict[str, Any]:
    from xmir.train.config import TrainConfig
    from xmir.train.trainer import train

    clock = StepClock()
    start = time.perf_counter()
    config = TrainConfig(
        model=options.model,
        train_data=options.train_data,
        out=out,
        strategy=options.strategy,
        batch_size=options.batch_size,
        steps=options.steps,
        lr=options.lr,
        temperature=options.temperature,
        seed=options.seed,
        freeze_embeddings=options.freeze_embeddings,
        max_seq_length=options.max_seq_length,
        save_every=options.save_every,
        log_every=options.log_every,
    )
    train(config, callbacks=[clock])
    return {
        "runner": "xmir",
        **clock.figures(options.batch_size),
        "process_seconds": round(time.perf_counter() - start, 3),
    }


def run_st(options: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The plain baseline: SentenceTransformerTrainer + MNRL on (query, positive) pairs."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from xmir.data.parallel import load_training_data
    from xmir.models.registry import load_model

    clock = StepClock()
    start = time.perf_counter()
    data = load_training_data(options.train_data)
    loaded = load_model(options.model, device="cpu")
    model = loaded.model
    if options.max_seq_length:
        model.max_seq_length = options.max_seq_length
    if options.freeze_embeddings:
        model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    dataset = Dataset.from_dict(
        {
            "anchor": [item.query for item in data.items],
            "positive": [item.positive for item in data.items],
        }
    )
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        per_device_train_batch_size=options.batch_size,
        max_steps=options.steps,
        learning_rate=options.lr,
        weight_decay=0.01,
        warmup_steps=max(1, round(0.1 * options.steps)),
        seed=options.seed,
        bf16=bf16,
        fp16=cuda and not bf16,
        use_cpu=not cuda,
        save_strategy="steps",
        save_steps=options.save_every,
        logging_steps=options.log_every,
        logging_first_step=True,
        report_to="none",
        disable_tqdm=True,
        dataloader_drop_last=True,
        prompts={"anchor": loaded.query_prefix, "positive": loaded.passage_prefix},
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=MultipleNegativesRankingLoss(model, scale=1.0 / options.temperature),
        callbacks=[clock],
    )
    trainer.train()
    model.save(str(out / "model"), create_model_card=False)
    return {
        "runner": "st",
        **clock.figures(options.batch_size),
        "process_seconds": round(time.perf_counter() - start, 3),
    }


def run_one(options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{options.runner}-") as tmp:
        runner = run_xmir if options.runner == "xmir" else run_st
        return runner(options, Path(tmp) / "run")


def child_argv(options: argparse.Namespace, runner: str) -> list[str]:
    """The command-line options of one single-runner process with the same settings."""
    argv = ["--runner", runner]
    for key, value in vars(options).items():
        if key in ("runner", "repeats") or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return argv


def run_both(options: argparse.Namespace) -> None:
    """Alternate the two runners in fresh processes and report medians and the ratio."""
    results: dict[str, list[dict[str, Any]]] = {"xmir": [], "st": []}
    for repeat in range(options.repeats):
        for runner in ("xmir", "st") if repeat % 2 == 0 else ("st", "xmir"):
            done = subprocess.run(
                [sys.executable, __file__, *child_argv(options, runner)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                sys.exit(f"{runner} run failed:\n{done.stderr[-3000:]}")
            results[runner].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'figure':<22}{'xmir (median)':>16}{'st (median)':>16}{'xmir/st':>10}")
    for key in ("pairs_per_s", "steady_pairs_per_s", "train_seconds", "process_seconds"):
        xmir = statistics.median(r[key] for r in results["xmir"])
        st = statistics.median(r[key] for r in results["st"])
        print(f"{key:<22}{xmir:>16.3f}{st:>16.3f}{xmir / st:>10.3f}")
    print(json.dumps(results))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", choices=("xmir", "st", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=3, help="--runner both: runs of each")
    parser.add_argument("--model", default="e5-small-q4:layers=2")
    parser.add_argument("--train-data", default="mlqa-r")
    parser.add_argument("--strategy", default="hybrid")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--max-seq-length", type=int, default=None)
    parser.add_argument("--save-every", type=int, default=10_000, help="only the final save")
    parser.add_argument("--log-every", type=int, default=10)
    return parser.parse_args(argv)


def main() -> None:
    options = parse(sys.argv[1:])
    if options.runner == "both":
        run_both(options)
    else:
        print(json.dumps(run_one(options)))


if __name__ == "__main__":
    main()
