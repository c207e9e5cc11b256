"""Run a sweep with the fake ``xmir`` in this process: ``drive_sweep.py SPEC.yaml OUT [I/N]``.

Used by tests that must kill or signal a whole sweep process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sweep_helpers import FAKE_CLI

from xmir.sweep.plan import Shard
from xmir.sweep.prepare import plan_sweep, prepare_output
from xmir.sweep.runner import RunnerOptions, run_sweep
from xmir.sweep.spec import load_spec

if __name__ == "__main__":
    spec_file, out = Path(sys.argv[1]), Path(sys.argv[2])
    shard = Shard.parse(sys.argv[3]) if len(sys.argv) > 3 else None
    sweep = plan_sweep(load_spec(spec_file))
    layout = prepare_output(sweep, out)
    outcomes = run_sweep(sweep, layout, RunnerOptions(shard=shard, cli=FAKE_CLI))
    print(" ".join(f"{o.run_id}={o.state}" for o in outcomes))
