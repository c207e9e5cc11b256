"""Where a sweep keeps its files, and the per-run ``status.json`` that makes it resumable.

```
OUT/
  sweep.json                 the validated spec and the ordered plan (ids + configs)
  runs/<run_id>/
    status.json              state: running | finished | failed | interrupted (+ error)
    result.json              the run's summary, written last, atomically
    eval-<dataset>.json      one `xmir eval` result per eval set
    train/                   train metadata and batches.jsonl (kept after the weights go)
    model/                   the fine-tuned weights (deleted after eval unless --keep-models)
    train.log, eval-<dataset>.log
  runs/<run_id>.lock         held (flock) while a process works on the run
  report/                    written by `xmir report`
```

A run counts as done only when its ``status.json`` says ``finished`` for the same config
fingerprint. A run cut off while training (``running`` or ``interrupted``, same config, with
a checkpoint in ``model/checkpoints``) keeps its folder and continues with ``xmir train
--resume``; anything else is redone from an empty run folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmir.io import atomic_write_json
from xmir.paths import RUN_RESULT_FILE, RUN_STATUS_FILE, SWEEP_FILE
from xmir.records import read_json_object

FINISHED, FAILED, RUNNING, INTERRUPTED = "finished", "failed", "running", "interrupted"


@dataclass(frozen=True)
class SweepLayout:
    """Paths inside one sweep output folder."""

    root: Path

    @property
    def sweep_file(self) -> Path:
        return self.root / SWEEP_FILE

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def lock_file(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.lock"

    def status_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / RUN_STATUS_FILE

    def result_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / RUN_RESULT_FILE


def eval_file_name(dataset: str, budget: int | None = None) -> str:
    """The file an evaluation on ``dataset`` writes inside a run folder (``@N``: the snapshot
    of an N-step budget; none: the final model)."""
    return f"eval-{dataset}.json" if budget is None else f"eval-{dataset}@{budget}.json"


def read_status(layout: SweepLayout, run_id: str) -> dict[str, Any] | None:
    """The status record of a run, if any."""
    return read_json_object(layout.status_file(run_id))


def write_status(layout: SweepLayout, run_id: str, record: dict[str, Any]) -> None:
    """Replace a run's status record atomically."""
    atomic_write_json(layout.status_file(run_id), record)


def is_finished(layout: SweepLayout, run_id: str, fingerprint: str) -> bool:
    """True when the run finished with exactly this config and its result file is readable."""
    status = read_status(layout, run_id)
    return (
        status is not None
        and status.get("state") == FINISHED
        and status.get("config_sha") == fingerprint
        and read_json_object(layout.result_file(run_id)) is not None
    )
