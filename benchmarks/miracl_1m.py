"""Corpus-scale MIRACL machinery on a synthetic corpus: passages/s and peak memory.

Writes N random short passages as MIRACL-layout shards (``docs-K.jsonl.gz``), then runs the
same code ``xmir eval --dataset miracl`` runs: hash the corpus, stream it through a tiny
random encoder into the memory-mapped embedding cache, and search it with random queries
(exact blocked search, then a FAISS flat index). A background thread samples this process's
RSS; each phase reports its peak.

The memory bound it checks (main process, single-process encoding):

    peak RSS <= RSS after loading the model + embedding matrix (N x dim x itemsize)
                + FAISS index (flat phase only; the same size as the matrix for SQfp16)
                + W,   W = 512 MiB

W is fixed, independent of N: one encoding chunk (16,384 passages with their tokens and
activations), one search block (256 MiB budget) and the running top-k. During encoding the
matrix is written with plain appends, so it is not even resident: the measured excess over
the base must stay flat as rows accumulate, which the per-chunk samples show.

    python benchmarks/miracl_1m.py --passages 1000000
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIB = 1 << 20
WORKING_SET_BOUND = 512 * MIB


@dataclass
class RssSampler:
    """Samples this process's RSS every ``interval`` seconds; keeps the peak per phase."""

    interval: float = 0.05
    peaks: dict[str, int] = field(default_factory=dict)
    phase: str = "setup"

    def __post_init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self.rss()
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), value)
            time.sleep(self.interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.peaks[phase] = max(self.peaks.get(phase, 0), self.rss())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def write_corpus(folder: Path, passages: int, seed: int, shard_rows: int = 100_000) -> Path:
    """Random short passages (6-16 pseudo-words) in MIRACL-layout gzip shards."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzäöüéèñç"))
    vocabulary = ["".join(rng.choice(letters, size=rng.integers(2, 9))) for _ in range(20_000)]
    folder.mkdir(parents=True, exist_ok=True)
    for shard, lo in enumerate(range(0, passages, shard_rows)):
        rows = min(shard_rows, passages - lo)
        lengths = rng.integers(6, 17, size=rows)
        words = rng.integers(0, len(vocabulary), size=int(lengths.sum()))
        ends = np.cumsum(lengths)
        with gzip.open(
            folder / f"docs-{shard}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1
        ) as out:
            for i in range(rows):
                text = " ".join(vocabulary[w] for w in words[ends[i] - lengths[i] : ends[i]])
                out.write(json.dumps({"docid": f"{lo + i}#0", "title": "", "text": text}) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-flat", action="store_true", help="Only the exact search.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the figures as JSON.")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xmir-miracl-bench-"))
    report = run(args, workdir)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import os

    os.environ["XMIR_CACHE_DIR"] = str(workdir / "cache")
    from xmir.data.miracl_corpus import resolve_corpus
    from xmir.evaluate.corpus_search import SearchOptions, search
    from xmir.evaluate.embedding_store import EncodingKey, open_or_encode
    from xmir.evaluate.passage_encoder import passage_encoder
    from xmir.models.registry import load_model
    from xmir.models.tiny import build_tiny_encoder

    sampler = RssSampler().start()
    clock = time.perf_counter()
    corpus_dir = workdir / "corpus" / "miracl-corpus-v1.0-sw"
    if not (corpus_dir / "docs-0.jsonl.gz").is_file():
        write_corpus(corpus_dir, args.passages, args.seed)
    generated = time.perf_counter()
    model_dir = workdir / "model"
    if not (model_dir / "modules.json").is_file():
        build_tiny_encoder(
            model_dir, layers=args.layers, hidden=args.hidden, heads=2,
            intermediate=2 * args.hidden, seed=args.seed,
        )  # fmt: skip
    loaded = load_model(str(model_dir), device="cpu")
    loaded.model.max_seq_length = args.seq_len
    import faiss  # noqa: F401  (imported before the base is taken, as evaluate_miracl does)

    base = sampler.rss()
    sampler.enter("hash")
    shards = resolve_corpus(workdir / "corpus", "sw")
    started = time.perf_counter()
    corpus_sha256 = shards.content_sha256()
    hashed = time.perf_counter()
    key = EncodingKey(
        loaded.weights_sha256, corpus_sha256, loaded.passage_prefix, args.seq_len, args.dtype, True
    )
    sampler.enter("encode")
    excess_per_chunk: list[tuple[int, int]] = []
    with passage_encoder(
        loaded.model, prefix=loaded.passage_prefix, batch_size=args.batch_size, devices=["cpu"]
    ) as encode:

        def sampled(texts: list[str]) -> np.ndarray:
            vectors = encode(texts)
            done = (excess_per_chunk[-1][0] if excess_per_chunk else 0) + len(texts)
            excess_per_chunk.append((done, sampler.rss() - base))
            return vectors

        store, status = open_or_encode(sampled, shards, key, show_progress=True)
    encoded = time.perf_counter()
    matrix_bytes = store.embeddings.nbytes
    rng = np.random.default_rng(args.seed + 1)
    queries = rng.normal(size=(args.queries, store.dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sampler.enter("search_exact")
    exact = search(store, queries, SearchOptions(method="exact", depth=100))
    searched = time.perf_counter()
    figures: dict[str, Any] = {}
    if not args.skip_flat:
        sampler.enter("search_flat")
        flat = search(store, queries, SearchOptions(method="flat", depth=100))
        figures["flat_s"] = round(time.perf_counter() - searched, 2)
        figures["flat_equals_exact_top10"] = float(np.mean(flat.rows[:, :10] == exact.rows[:, :10]))
    sampler.stop()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peaks = sampler.peaks
    bound = {
        "encode": base + WORKING_SET_BOUND,
        "search_exact": base + matrix_bytes + WORKING_SET_BOUND,
        "search_flat": base + 2 * matrix_bytes + WORKING_SET_BOUND,
    }
    picks = np.linspace(0, len(excess_per_chunk) - 1, 6).astype(int) if excess_per_chunk else []
    checkpoints = [excess_per_chunk[i] for i in picks]
    return {
        "passages": store.rows,
        "dim": store.dim,
        "dtype": args.dtype,
        "encoder": f"random BERT, {args.layers} layer(s), hidden {args.hidden}, max {args.seq_len} tokens",
        "from_cache": status.from_cache,
        "time_s": {
            "write_corpus": round(generated - clock, 1),
            "hash_corpus": round(hashed - started, 2),
            "encode": round(encoded - hashed, 1),
            "search_exact": round(searched - encoded, 2),
            **({"search_flat": figures["flat_s"]} if "flat_s" in figures else {}),
        },
        "passages_per_s": None if status.from_cache else round(store.rows / (encoded - hashed), 1),
        "queries": args.queries,
        "exact_queries_per_s": round(args.queries / (searched - encoded), 1),
        "memory_mib": {
            "base_after_model_load": round(base / MIB, 1),
            "embedding_matrix": round(matrix_bytes / MIB, 1),
            "working_set_bound_W": WORKING_SET_BOUND // MIB,
            "peak_rss_process_lifetime": round(peak_rss / MIB, 1),
            "peak_per_phase": {k: round(v / MIB, 1) for k, v in peaks.items()},
            "bound_per_phase": {k: round(v / MIB, 1) for k, v in bound.items() if k in peaks},
            "encode_excess_over_base_at_rows": [
                [rows, round(excess / MIB, 1)] for rows, excess in checkpoints
            ],
        },
        "bound_holds": all(peaks[k] <= bound[k] for k in bound if k in peaks),
        "flat_equals_exact_top10": figures.get("flat_equals_exact_top10"),
        "workdir": str(workdir),
    }


if __name__ == "__main__":
    main()
