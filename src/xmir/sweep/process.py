"""Run one child process with its output in a log file, and never leave it orphaned.

The child dies with the sweep: on Linux the kernel sends it SIGKILL when the sweep process
dies for any reason (``PR_SET_PDEATHSIG``), and on Ctrl-C / SIGTERM the sweep stops it
before exiting. So a killed sweep never leaves a run writing into a folder it will redo.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BOX_EDGES = re.compile(r"^[\s\u2500-\u257f]+|[\s\u2500-\u257f]+$")  # box drawing
STOP_GRACE_S = 10.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def run_logged(args: Sequence[str], log_path: Path, env: Mapping[str, str]) -> int:
    """Run ``args`` to completion with stdout and stderr appended to ``log_path``.

    On any interruption (KeyboardInterrupt, SystemExit from a signal) the child is stopped
    (SIGTERM, then SIGKILL after a grace period) before the exception propagates.
    """
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            preexec_fn=preexec,  # only sets the parent-death signal
        )
        try:
            return process.wait()
        except BaseException:
            stop(process)
            raise


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``; kill it if it does not exit within the grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def error_line(log_path: Path, limit: int = 400) -> str:
    """The most telling line of a failed child's log: the message of its last error (an
    ``error:`` line, Click's ``Error:`` line or the text inside an error box drawn with
    box characters), else the last line of a traceback, else the last line with any text."""
    try:
        raw = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-200:]
    except OSError:
        return "no log written"
    lines = [_ANSI.sub("", line).strip() for line in raw]
    texts = [text for text in (_unboxed(line) for line in lines) if text]
    if not texts:
        return "the process printed nothing"
    boxed = _last_error_box(lines)
    chosen = boxed or next(
        (text for text in reversed(texts) if text.lower().startswith("error:")), None
    )
    if chosen is None:
        chosen = next(
            (
                text
                for text in reversed(texts)
                if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", text)
            ),
            texts[-1],
        )
    return chosen[:limit]


def _unboxed(line: str) -> str:
    """``line`` without the box-drawing characters (and spaces) at either end."""
    return _BOX_EDGES.sub("", line)


def _last_error_box(lines: list[str]) -> str | None:
    """The joined text of the last box titled ``Error`` (Rich's error panel), if any."""
    found: str | None = None
    inside: list[str] | None = None
    for line in lines:
        if line.startswith("╭") and "Error" in line:
            inside = []
        elif inside is not None and line.startswith("╰"):
            found = " ".join(inside) or found
            inside = None
        elif inside is not None:
            text = _unboxed(line)
            if text:
                inside.append(text)
    return found


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (so cleanup runs as for Ctrl-C)."""
    try:
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The sweep's environment plus ``extra`` (e.g. ``XMIR_DATA_DIR``)."""
    env = dict(os.environ)
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
