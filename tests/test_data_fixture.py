"""Tests that need the evaluation data skip without it, except under CI, where they fail."""

from __future__ import annotations

import pytest

from needs_data import missing_data


def test_missing_data_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        missing_data("XMIR_DATA_DIR is not set")


def test_missing_data_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        missing_data("XMIR_DATA_DIR is not set")
