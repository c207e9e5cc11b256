"""The committed files of a results folder, as a fresh clone would have them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def committed_copy(folder: Path, into: Path) -> Path:
    """``folder`` as committed: a sweep may be adding runs to the working copy (study v3 runs
    in the background across sessions), so copy the files git tracks, when git is at hand."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", str(folder.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0 or not listed.stdout:
        return folder  # not a git checkout: the folder is what was shipped
    for name in filter(None, listed.stdout.decode().split("\0")):
        target = into / Path(name).relative_to(folder.relative_to(ROOT))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return into
