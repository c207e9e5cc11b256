"""`xmir sweep` vs the same `xmir train` / `xmir eval` commands run one by one.

The sweep must add no measurable overhead: it runs exactly the commands that
``xmir.sweep.commands.run_steps`` lists, one process each, plus status files and a lock.
Three modes, each on a fresh output folder (and a fresh embedding cache, so neither side
profits from the other's cached embeddings):

    # the two sides, for any external process timer (one whole process per measurement)
    python benchmarks/sweep_overhead.py sweep --workdir /tmp/bench
    python benchmarks/sweep_overhead.py sequential --workdir /tmp/bench

    # both, alternating, timed here: median wall times and the ratio sweep / sequential
    XMIR_DATA_DIR=... python benchmarks/sweep_overhead.py compare --repeats 3

Without ``--spec`` the benchmark writes a small spec into the work folder: a tiny random
encoder (built once), the untrained baseline plus mono and hybrid runs of a few steps, and
an XQuAD-R subset, so that process start-up and bookkeeping, not model compute, dominate.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_STEPS = 2
DEFAULT_QUESTIONS = 5


def default_spec(workdir: Path) -> Path:
    """A small sweep over a tiny random encoder (built once into ``workdir``)."""
    import yaml

    from xmir.models.tiny import build_tiny_encoder

    model = workdir / "tiny-encoder"
    if not (model / "modules.json").is_file():
        build_tiny_encoder(model, seed=0)
    spec = {
        "name": "sweep-overhead",
        "models": [str(model)],
        "strategies": ["mono", "hybrid"],
        "batch_sizes": [4],
        "seeds": [0],
        "train_data": "mlqa-r",
        "eval": [{"dataset": "xquad-r", "max_questions": DEFAULT_QUESTIONS}],
        "budget": {"steps": DEFAULT_STEPS},
    }
    path = workdir / "sweep-overhead.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _fresh(workdir: Path, prefix: str) -> tuple[Path, dict[str, str]]:
    """A new output folder and an environment with a new, empty embedding cache."""
    import os

    out = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=workdir))
    env = {**os.environ, "XMIR_CACHE_DIR": str(out / "cache")}
    return out / "sweep", env


def run_sweep(spec: Path, workdir: Path) -> float:
    """`xmir sweep SPEC --out FRESH`; returns its wall time."""
    from xmir.sweep.commands import DEFAULT_CLI

    out, env = _fresh(workdir, "sweep")
    start = time.perf_counter()
    subprocess.run(
        [*DEFAULT_CLI, "sweep", str(spec), "--out", str(out)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    shutil.rmtree(out.parent, ignore_errors=True)
    return seconds


def run_sequential(spec: Path, workdir: Path) -> float:
    """The sweep's own commands, one by one, with no sweep machinery; returns the wall time."""
    from xmir.sweep.commands import DEFAULT_CLI, MODEL_DIR, run_steps
    from xmir.sweep.layout import SweepLayout
    from xmir.sweep.prepare import plan_sweep
    from xmir.sweep.spec import load_spec

    out, env = _fresh(workdir, "sequential")
    start = time.perf_counter()
    sweep = plan_sweep(load_spec(spec))
    layout = SweepLayout(out)
    for run in sweep.runs:
        layout.run_dir(run.run_id).mkdir(parents=True)
        for step in run_steps(sweep.spec, run, layout):
            log_path = layout.run_dir(run.run_id) / step.log_name  # output kept, as the sweep does
            with log_path.open("w", encoding="utf-8") as log:
                subprocess.run(
                    [*DEFAULT_CLI, *step.args],
                    check=True,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        shutil.rmtree(layout.run_dir(run.run_id) / MODEL_DIR, ignore_errors=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(out.parent, ignore_errors=True)
    return seconds


def compare(spec: Path, workdir: Path, repeats: int) -> None:
    """Alternate the two sides ``repeats`` times; print medians and the per-pair ratios."""
    sweep_times, sequential_times = [], []
    for index in range(repeats):
        sweep_times.append(run_sweep(spec, workdir))
        sequential_times.append(run_sequential(spec, workdir))
        print(
            f"pair {index + 1}: sweep {sweep_times[-1]:.1f} s, sequential "
            f"{sequential_times[-1]:.1f} s, ratio {sweep_times[-1] / sequential_times[-1]:.3f}",
            flush=True,
        )
    ratios = [a / b for a, b in zip(sweep_times, sequential_times, strict=True)]
    print(
        f"median wall time: sweep {statistics.median(sweep_times):.1f} s, one by one "
        f"{statistics.median(sequential_times):.1f} s; ratio sweep/one-by-one: median "
        f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=("sweep", "sequential", "compare"))
    parser.add_argument("--spec", type=Path, help="a sweep spec (default: a tiny built-in one)")
    parser.add_argument("--workdir", type=Path, help="where outputs go (default: a temp folder)")
    parser.add_argument("--repeats", type=int, default=3, help="compare: pairs to run")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xmir-sweep-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    spec = args.spec or default_spec(workdir)
    if args.mode == "sweep":
        print(f"sweep: {run_sweep(spec, workdir):.2f} s")
    elif args.mode == "sequential":
        print(f"sequential: {run_sequential(spec, workdir):.2f} s")
    else:
        compare(spec, workdir, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
