"""Checkpoint manifests: verification, listing only sealed checkpoints, rotation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from xmir.errors import XmirError
from xmir.train.checkpoints import (
    MANIFEST_NAME,
    discard_partial,
    latest_checkpoint,
    list_checkpoints,
    rotate,
    verify_checkpoint,
    write_manifest,
)


def _checkpoint(folder: Path, step: int) -> Path:
    path = folder / f"checkpoint-{step}"
    (path / "sub").mkdir(parents=True)
    (path / "weights.bin").write_bytes(bytes(range(256)) * step)
    (path / "sub" / "state.json").write_text(json.dumps({"step": step}), encoding="utf-8")
    write_manifest(path, step, {"config_fingerprint": "abc"})
    return path


def test_manifest_hashes_every_file(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, 3)
    manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["step"] == 3 and manifest["config_fingerprint"] == "abc"
    assert manifest["files"] == {
        "sub/state.json": hashlib.sha256(b'{"step": 3}').hexdigest(),
        "weights.bin": hashlib.sha256(bytes(range(256)) * 3).hexdigest(),
    }
    assert verify_checkpoint(path)["step"] == 3


def test_damage_is_reported_and_nothing_is_deleted(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, 1)
    weights = path / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:-1])
    before = sorted(p.name for p in path.rglob("*"))
    with pytest.raises(XmirError, match=r"corrupted: weights\.bin"):
        verify_checkpoint(path)
    (path / "sub" / "state.json").unlink()
    with pytest.raises(XmirError, match=r"incomplete: sub/state\.json is missing"):
        verify_checkpoint(path)
    (path / MANIFEST_NAME).write_text("{", encoding="utf-8")
    with pytest.raises(XmirError, match="no readable"):
        verify_checkpoint(path)
    assert sorted(p.name for p in path.rglob("*")) == [n for n in before if n != "state.json"]


def test_only_sealed_checkpoints_count_and_rotation(tmp_path: Path) -> None:
    root = tmp_path / "checkpoints"
    root.mkdir()
    for step in (2, 10, 9):
        _checkpoint(root, step)
    (root / "checkpoint-x").mkdir()
    (root / ".staging").mkdir()
    cut_off = root / "checkpoint-11"  # a save that never got its manifest
    cut_off.mkdir()
    (cut_off / "weights.bin").write_bytes(b"half")
    assert [step for step, _ in list_checkpoints(root)] == [2, 9, 10]
    assert latest_checkpoint(root) == root / "checkpoint-10"
    assert discard_partial(root) == [cut_off]
    assert not cut_off.exists() and (root / "checkpoint-x").exists()
    rotate(root, keep=2)
    assert [step for step, _ in list_checkpoints(root)] == [9, 10]
    verify_checkpoint(root / "checkpoint-10")
    assert latest_checkpoint(tmp_path / "none") is None
