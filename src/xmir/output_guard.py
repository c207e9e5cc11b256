"""Checks of an output path, made before any work: nothing a user has is replaced.

Every command that writes (``train``, ``eval``, ``report``, ``sweep``) calls one of the two
checks below first. A path is accepted when it is of the right kind (a file or a folder),
its location can be written, and what is there already was made by xmir for the same
purpose; anything else is refused with one line that names what is there. The checks
create nothing: the write probe is removed at once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from xmir.errors import XmirError
from xmir.paths import SWEEP_FILE, TRAIN_BATCHES_FILE, TRAIN_RECORD_FILE
from xmir.records import EVAL_RESULT_KEY, read_json_object

SHOWN_ENTRIES = 3  # entries named in a refusal before "and N more"
REPORT_ENTRIES = frozenset({"report.md", "report.html", "results.csv", "figures"})


def check_output_file(
    path: Path, *, option: str = "--out", owned: Callable[[Path], bool], what: str
) -> Path:
    """``path`` as a file to (re)write: not a folder, an existing file only when ``owned``
    says xmir made it (``what`` names such a file in the refusal), in a writable folder."""
    path = Path(path)
    if path.is_dir():
        raise XmirError(f"{option} {path} is a folder; give a file name such as result.json")
    if path.exists() and not owned(path):
        raise XmirError(
            f"{option} {path} exists and is not {what}; xmir does not replace it: "
            "choose another file name"
        )
    _check_can_create(path.parent if str(path.parent) else Path("."), option, path)
    return path


def check_output_folder(
    path: Path, *, option: str = "--out", owned: Callable[[Path], bool], what: str
) -> Path:
    """``path`` as a folder to write into: new, empty, or one that ``owned`` recognises as
    ``what`` (e.g. "an xmir training run"); never a file, never another program's folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise XmirError(f"{option} {path} is a file, not a folder; choose a folder path")
    if path.is_dir():
        entries = sorted(_names(path))
        if entries and not owned(path):
            raise XmirError(
                f"{option} {path} is not empty and not {what} (it holds {_listing(entries)}); "
                "give a new or empty folder"
            )
    _check_can_create(path, option, path)
    return path


def _leftover(name: str) -> bool:
    """A temporary file of an interrupted atomic write (``.NAME.*.tmp``), or a write probe."""
    return name.startswith(".") and (name.endswith(".tmp") or name.startswith(".xmir-write-probe"))


def _names(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir() if not _leftover(entry.name)}


def _listing(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:SHOWN_ENTRIES])
    more = len(names) - SHOWN_ENTRIES
    return shown + (f" and {more} more" if more > 0 else "")


def _check_can_create(folder: Path, option: str, path: Path) -> None:
    """Fail unless a file can be created in ``folder`` or, when it does not exist yet, in its
    nearest existing parent (which must be a folder)."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise XmirError(f"{option} {path}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".xmir-write-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise XmirError(
            f"{option} {path}: cannot write into {existing} ({error.strerror or error}); "
            "choose a writable location"
        ) from None


# ----------------------------------------------------------------------------- what xmir made


def is_xmir_result(path: Path) -> bool:
    """A JSON object written by ``xmir eval`` (it carries ``xmir_result``)."""
    path = Path(path)
    record = read_json_object(path) if path.is_file() else None
    return record is not None and EVAL_RESULT_KEY in record


def is_train_folder(path: Path) -> bool:
    """A folder of ``xmir train``: its run record, or only the plan of a dry run."""
    names = _names(Path(path))
    return TRAIN_RECORD_FILE in names or names <= {TRAIN_BATCHES_FILE}


def is_plan_folder(path: Path) -> bool:
    """A folder that holds only the plan of an earlier ``xmir train --dry-run``."""
    return _names(Path(path)) <= {TRAIN_BATCHES_FILE}


def is_sweep_folder(path: Path) -> bool:
    """A folder of ``xmir sweep``: its ``sweep.json``, or (a study) only sweep folders, empty
    folders and the report."""
    path = Path(path)
    if (path / SWEEP_FILE).is_file():
        return True
    for entry in path.iterdir():
        if _leftover(entry.name) or (entry.name == "report" and entry.is_dir()):
            continue
        if not entry.is_dir() or not ((entry / SWEEP_FILE).is_file() or _empty(entry)):
            return False
    return True


def is_report_folder(path: Path) -> bool:
    """A folder written by ``xmir report`` (only its Markdown, HTML, CSV and figures)."""
    return _names(Path(path)) <= REPORT_ENTRIES


def _empty(folder: Path) -> bool:
    return next(folder.iterdir(), None) is None
