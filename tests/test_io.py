"""Atomic writes: content, normal file mode, and no partial file on failure."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from xmir.io import atomic_write_json, atomic_write_text, file_sha256


def test_atomic_write_gives_a_normal_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "result.json"
    atomic_write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("previous")
    with pytest.raises(TypeError):
        atomic_write_json(target, {"not serialisable": object()})
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    target = tmp_path / "f.txt"
    atomic_write_text(target, "x" * 10_000)
    assert file_sha256(target) == hashlib.sha256(target.read_bytes()).hexdigest()
