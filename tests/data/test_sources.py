"""Where LAReQA files come from: explicit folder, $XMIR_DATA_DIR, or the pinned download."""

from __future__ import annotations

import gzip
import io
import urllib.error
from pathlib import Path

import pytest

from xmir.data import sources
from xmir.data.lareqa import load_lareqa
from xmir.errors import XmirError


def test_env_dir_is_used_when_no_folder_is_given(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("XMIR_DATA_DIR", str(data_dir))
    rset = load_lareqa("xquad-r", languages=["en"])
    assert rset.num_queries == 1190


def test_download_is_pinned_and_cached(data_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("XMIR_DATA_DIR", raising=False)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))
    requested: list[str] = []
    english = gzip.decompress((data_dir / "xquad-r" / "en.json.gz").read_bytes())

    def fake_urlopen(url: str, timeout: float):
        requested.append(url)
        return io.BytesIO(english)

    monkeypatch.setattr(sources.urllib.request, "urlopen", fake_urlopen)
    first = load_lareqa("xquad-r", languages=["en"])
    second = load_lareqa("xquad-r", languages=["en"])
    assert first.num_queries == second.num_queries == 1190
    assert requested == [
        "https://raw.githubusercontent.com/google-research-datasets/lareqa/"
        "9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c/xquad-r/en.json"
    ]
    assert (
        sources.LAREQA_SOURCES["mlqa-r"]
        .url("de")
        .endswith("354d67d1cd066854cdfbf5ad0e6105528976141d/mlqa-r/de.json")
    )


def test_offline_download_fails_cleanly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("XMIR_DATA_DIR", raising=False)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))

    def offline(url: str, timeout: float):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(sources.urllib.request, "urlopen", offline)
    with pytest.raises(XmirError, match=r"could not download .*set XMIR_DATA_DIR"):
        load_lareqa("mlqa-r", languages=["de"])
    assert not list(tmp_path.rglob("*.json")) and not list(tmp_path.rglob("*.part"))
