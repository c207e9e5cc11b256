"""A stand-in for the ``xmir`` CLI in sweep tests: fast, deterministic ``train`` and ``eval``.

Environment knobs:
- FAKE_XMIR_LOG: append "<command> <run id>" per call (counts re-executions)
- FAKE_XMIR_SLEEP: seconds each call sleeps before writing its output
- FAKE_XMIR_HANG: a run id whose calls sleep for a minute (to be killed mid-run)
- FAKE_XMIR_FAIL: a run id whose calls fail with a one-line ``error:`` message
- FAKE_XMIR_BOX: a run id whose calls fail with a usage error in a box (as Rich draws it)
- FAKE_XMIR_PIDS: folder where each call writes ``<pid>.pid`` (kill-safety tests)
- FAKE_XMIR_CORRUPT: a run id whose training writes a broken batches.jsonl
- FAKE_XMIR_HANG_AFTER: ``<run id>@<step>``: that run's first training hangs for a minute
  once it has written checkpoint-<step> (to be killed mid-training)
- FAKE_XMIR_LR_PEAK: a learning rate; every mAP of a trained model then falls with the
  distance of its rate from this one (0.9 at the peak, 0.1 less per factor of 10)

``train`` writes OUT/checkpoints/checkpoint-<step> for every step, refuses an OUT that holds a
run unless ``--resume`` is given, and with ``--resume`` continues after the last checkpoint
(logged as "resume <run id> from <step>").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

from xmir.evaluate.result import EvalResult, query_keys
from xmir.paths import TRAIN_BATCHES_FILE, TRAIN_RECORD_FILE
from xmir.train.record import TrainRecord

LANGS = ("ar", "de", "en")


def _append_log(line: str) -> None:
    if os.environ.get("FAKE_XMIR_LOG"):
        with open(os.environ["FAKE_XMIR_LOG"], "a", encoding="utf-8") as handle:
            handle.write(f"{line}\n")


def _log(command: str) -> None:
    run_id = os.environ.get("XMIR_SWEEP_RUN_ID", "?")
    _append_log(f"{command} {run_id}")
    if os.environ.get("FAKE_XMIR_PIDS"):
        Path(os.environ["FAKE_XMIR_PIDS"], f"{os.getpid()}.pid").write_text(run_id)
    if os.environ.get("FAKE_XMIR_FAIL") == run_id:
        print("some progress output")
        print(f"error: {command} failed on purpose for {run_id}")
        sys.exit(2)
    if os.environ.get("FAKE_XMIR_BOX") == run_id:
        print(f"Usage: xmir {command} [OPTIONS]\nTry 'xmir {command} --help' for help.")
        print("╭─ Error ─────────────────────────────────╮")
        print("│ No such option: --lerning-rate Did you  │")
        print("│ mean --learning-rate?                   │")
        print("╰─────────────────────────────────────────╯")
        sys.exit(2)
    time.sleep(float(os.environ.get("FAKE_XMIR_SLEEP", "0")))
    if os.environ.get("FAKE_XMIR_HANG") == run_id:
        time.sleep(60)


def _number(*parts: str) -> float:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _checkpoints(out: Path, args: argparse.Namespace) -> None:
    """Write one checkpoint per step, continuing after the last one with --resume."""
    run_id = os.environ.get("XMIR_SWEEP_RUN_ID", "?")
    root = out / "checkpoints"
    done = sorted(int(p.name.split("-")[1]) for p in root.glob("checkpoint-*")) or [0]
    if root.exists() and not args.resume:
        print(f"error: {out} already holds a training run; pass --resume to continue it")
        sys.exit(2)
    if args.resume:
        _append_log(f"resume {run_id} from {done[-1]}")
    for step in range(done[-1] + 1, args.steps + 1):
        folder = root / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"weights")
        (folder / "xmir-checkpoint.json").write_text(json.dumps({"step": step, "files": {}}))
        if os.environ.get("FAKE_XMIR_HANG_AFTER") == f"{run_id}@{step}" and not args.resume:
            time.sleep(60)


def train(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _checkpoints(out, args)
    (out / "model.safetensors").write_bytes(b"weights" * 100)
    lines = []
    for step in range(args.steps):
        mono = {"mono": True, "cross": False}.get(args.strategy, step % 2 == 0)
        queries = [LANGS[(step + i) % 3] for i in range(args.batch_size)]
        passages = queries if mono else [LANGS[(step + i + 1) % 3] for i in range(args.batch_size)]
        record = {
            "step": step,
            "rank": 0,
            "type": "mono" if mono else "cross",
            "query_langs": queries,
            "passage_langs": passages,
            "item_ids": [f"id{step}-{i}" for i in range(args.batch_size)],
        }
        lines.append(json.dumps(record))
    if os.environ.get("FAKE_XMIR_CORRUPT") == os.environ.get("XMIR_SWEEP_RUN_ID"):
        lines.append("{not json")
    (out / TRAIN_BATCHES_FILE).write_text("\n".join(lines) + "\n")
    for step in [int(s) for s in (args.snapshot_at or "").split(",") if s] + [args.steps]:
        folder = out if step == args.steps else out / "snapshots" / f"step-{step}"
        folder.mkdir(parents=True, exist_ok=True)
        identity = f"{args.model}|{args.strategy}|{args.alpha}|{args.seed}|{step}"
        weights = hashlib.sha256(identity.encode()).hexdigest()
        record = {"status": "finished", "model": {"spec": args.model}, "weights": weights}
        TrainRecord.model_validate({**record, "lr": args.lr}).to_disk(folder / TRAIN_RECORD_FILE)


def evaluate(args: argparse.Namespace) -> None:
    model = args.model
    meta = TrainRecord.read(Path(model) / TRAIN_RECORD_FILE) if Path(model).is_dir() else None
    if meta is not None:
        identity, model = meta.extra("weights", model), meta.model.spec or model
    else:
        identity = model
    layers = int(model.rsplit("layers=", 1)[1]) if "layers=" in model else 2
    if args.dataset == "miracl":
        EvalResult.model_validate(_miracl_document(args, identity, layers)).to_disk(args.out)
        return
    peak = os.environ.get("FAKE_XMIR_LR_PEAK")
    lr = meta.extra("lr") if meta is not None else None

    def score(*parts: str) -> float:
        if peak and lr:
            return 0.9 - 0.1 * abs(math.log10(lr / float(peak)))
        return _number(*parts)

    settings = {
        name: {
            "map": score(identity, args.dataset, name),
            "recall@1": 0.1,
            "recall@10": 0.5,
            "per_language": {},
        }
        for name in ("mono", "cross", "multi")
    }
    settings["cross"]["matrix"] = {
        q: {c: _number(identity, q, c) for c in LANGS if c != q} for q in LANGS
    }
    keys = query_keys([f"q{i}" for i in range(4) for _ in LANGS], [*LANGS] * 4)
    document = {
        "settings": settings,
        "bias": {
            "rank_distance": 100 * _number(identity, "rd"),
            "own_language_share@10": {"value": 0.5},
        },
        "per_query": {
            "keys": keys,
            **{
                f"{s}_ap": [_number(identity, s, k) for k in keys]
                for s in ("mono", "cross", "multi")
            },
        },
        "model": _model_record(args, identity, layers),
    }
    EvalResult.model_validate(document).to_disk(args.out)


def _model_record(args: argparse.Namespace, identity: str, layers: int) -> dict[str, object]:
    """The result's model block: sizes from the layer count, a hash of the run identity."""
    return {
        "spec": args.model,
        "total_params": 1000 + layers,
        "non_embedding_params": 100 * layers,
        "weights_sha256": hashlib.sha256(identity.encode()).hexdigest(),
        "description": "fake",
    }


def _miracl_document(args: argparse.Namespace, identity: str, layers: int) -> dict[str, object]:
    """A MIRACL-shaped result: nDCG@10 and Recall@100 per language and their mean."""
    langs = (args.languages or "sw,yo").split(",")
    per_language = {
        lang: {
            "ndcg@10": _number(identity, lang, "ndcg"),
            "recall@100": _number(identity, lang, "recall"),
            "queries": args.max_topics or 10,
        }
        for lang in langs
    }
    mean = {
        name: sum(v[name] for v in per_language.values()) / len(langs)
        for name in ("ndcg@10", "recall@100")
    }
    return {
        "task": "miracl",
        "dataset": {"name": "miracl", "languages": langs},
        "settings": {"mono": {**mean, "per_language": per_language}},
        "model": _model_record(args, identity, layers),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--model")
    parser.add_argument("--out")
    parser.add_argument("--strategy")
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--dataset")
    parser.add_argument("--snapshot-at")
    parser.add_argument("--languages")
    parser.add_argument("--max-topics", type=int)
    parser.add_argument("--resume", action="store_true")
    args, _ = parser.parse_known_args()
    _log(args.command)
    {"train": train, "eval": evaluate}[args.command](args)


if __name__ == "__main__":
    main()
