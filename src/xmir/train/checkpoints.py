"""Verifiable training checkpoints, through the Trainer's public hooks.

The Trainer writes ``checkpoints/checkpoint-<step>`` as usual; then its ``on_save`` callback
:class:`xmir.train.callbacks.CheckpointManifests`, once every rank has written its files,
hashes every file into a manifest, written last and atomically. A checkpoint counts only with
its manifest: a folder without one is a save that was cut off, and is never resumed from.
``--resume`` verifies the manifest before loading, so a damaged checkpoint stops the run with
a clear message instead of training from garbage; nothing is ever deleted on that path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.io import atomic_write_json, file_sha256

MANIFEST_NAME = "xmir-checkpoint.json"
CHECKPOINT_PREFIX = "checkpoint-"
_CHECKPOINT_NAME = re.compile(rf"^{CHECKPOINT_PREFIX}(\d+)$")


def write_manifest(folder: Path, step: int, extra: dict[str, Any] | None = None) -> None:
    """Hash every file under ``folder`` into its manifest (the last file written)."""
    files = {
        str(path.relative_to(folder)): file_sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }
    atomic_write_json(folder / MANIFEST_NAME, {"step": step, "files": files, **(extra or {})})


def verify_checkpoint(folder: Path) -> dict[str, Any]:
    """Check every file of a checkpoint against its manifest; return the manifest."""
    manifest_path = folder / MANIFEST_NAME
    advice = (
        f"move {folder} aside to resume from an earlier checkpoint, or start again "
        "without --resume in a new --out folder"
    )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError):
        raise XmirError(f"checkpoint {folder} has no readable {MANIFEST_NAME}; {advice}") from None
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise XmirError(f"checkpoint {folder} is incomplete: {name} is missing; {advice}")
        if file_sha256(path) != expected:
            raise XmirError(
                f"checkpoint {folder} is corrupted: {name} does not match its manifest; {advice}"
            )
    return manifest


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every complete checkpoint (one with a manifest) under ``root``,
    oldest first."""
    return [(step, path) for step, path in _checkpoint_folders(root) if _has_manifest(path)]


def discard_partial(root: Path) -> list[Path]:
    """Delete checkpoint folders without a manifest (saves that were cut off); returns them."""
    partial = [path for _, path in _checkpoint_folders(root) if not _has_manifest(path)]
    for path in partial:
        shutil.rmtree(path, ignore_errors=True)
    return partial


def _checkpoint_folders(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = _CHECKPOINT_NAME.match(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


def _has_manifest(folder: Path) -> bool:
    return (folder / MANIFEST_NAME).is_file()


def latest_checkpoint(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1][1] if found else None


def rotate(root: Path, keep: int) -> None:
    """Delete the oldest complete checkpoints beyond the newest ``keep``."""
    if keep < 1:
        return
    for _step, path in list_checkpoints(root)[:-keep]:
        shutil.rmtree(path)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
