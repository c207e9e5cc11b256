"""Run ``xmir`` in this process and kill it with a signal at one chosen point.

``python fault_driver.py POINT SIGNAL xmir-arguments...``; POINT is where the process dies:

- ``training``: once step 3 has ended;
- ``checkpoint``: while checkpoint 4 is written (weights saved, optimizer not, no manifest);
- ``final-save``: while the final model moves into the output folder (after two files);
- ``record``: after the final model is saved, before the run record says finished.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any


def die(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(30)  # the signal ends the process before this returns
    raise SystemExit("the signal did not end the process")


def inject(point: str, signum: int) -> None:
    import xmir.train.final_model as final_model
    from xmir.train.callbacks import MixProgressCallback
    from xmir.train.hf_trainer import XmirTrainer

    if point == "training":
        original_step = MixProgressCallback.on_step_end

        def on_step_end(self: Any, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            result = original_step(self, args, state, control, **kwargs)
            if state.global_step == 3:
                die(signum)
            return result

        MixProgressCallback.on_step_end = on_step_end  # type: ignore[method-assign]
    elif point == "checkpoint":
        original_save = XmirTrainer._save_optimizer_and_scheduler

        def save(self: Any, output_dir: str) -> None:
            if self.state.global_step == 4:
                die(signum)
            original_save(self, output_dir)

        XmirTrainer._save_optimizer_and_scheduler = save  # type: ignore[method-assign]
    elif point == "final-save":
        moved: list[str] = []

        class CountingOs:
            def __getattr__(self, name: str) -> Any:
                return getattr(os, name)

            def replace(self, source: Any, target: Any) -> None:
                if len(moved) == 2:
                    die(signum)
                os.replace(source, target)
                moved.append(str(target))

        final_model.os = CountingOs()  # type: ignore[assignment]
    elif point == "record":
        from xmir.train.record import TrainRecord

        original_write = TrainRecord.to_disk

        def write(record: TrainRecord, path: Any) -> None:
            if record.is_finished:
                die(signum)
            original_write(record, path)

        TrainRecord.to_disk = write  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown fault point {point!r}")


if __name__ == "__main__":
    point, signal_name, *arguments = sys.argv[1:]
    inject(point, getattr(signal, signal_name))
    from xmir.cli import app

    app(arguments, prog_name="xmir")
