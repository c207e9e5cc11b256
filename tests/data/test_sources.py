"""Where LAReQA files come from: explicit folder, $XMIR_DATA_DIR, or the pinned download."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import requests

from xmir.data import sources
from xmir.data.lareqa import load_lareqa
from xmir.errors import XmirError


def test_env_dir_is_used_when_no_folder_is_given(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("XMIR_DATA_DIR", str(data_dir))
    rset = load_lareqa("xquad-r", languages=["en"])
    assert rset.num_queries == 1190


def _serve(monkeypatch: pytest.MonkeyPatch, body: bytes, requested: list[str]) -> None:
    """Answer every download with ``body`` (no network)."""

    def fake_download(url: str, output_file: str, pooch: object) -> None:
        requested.append(url)
        Path(output_file).write_bytes(body)

    monkeypatch.setattr(sources, "downloader", lambda: fake_download)


def test_download_is_pinned_verified_and_cached(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XMIR_DATA_DIR", raising=False)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))
    requested: list[str] = []
    _serve(
        monkeypatch, gzip.decompress((data_dir / "xquad-r" / "en.json.gz").read_bytes()), requested
    )
    first = load_lareqa("xquad-r", languages=["en"])
    second = load_lareqa("xquad-r", languages=["en"])
    assert first.num_queries == second.num_queries == 1190
    assert requested == [
        "https://raw.githubusercontent.com/google-research-datasets/lareqa/"
        "9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c/xquad-r/en.json"
    ]  # once: the cached copy matches its pin
    cached = next(tmp_path.rglob("en.json"))
    cached.write_bytes(cached.read_bytes()[:-10])  # damaged in the cache: fetched again
    assert load_lareqa("xquad-r", languages=["en"]).num_queries == 1190
    assert len(requested) == 2
    assert (
        sources.LAREQA_SOURCES["mlqa-r"]
        .url("de")
        .endswith("354d67d1cd066854cdfbf5ad0e6105528976141d/mlqa-r/de.json")
    )


@pytest.mark.parametrize(("name", "folder"), [("xquad-r", "xquad-r"), ("mlqa-r", "mlqa-r")])
def test_every_pin_is_the_sha256_of_the_upstream_file(
    data_dir: Path, name: str, folder: str
) -> None:
    source = sources.LAREQA_SOURCES[name]
    assert sorted(source.sha256) == sorted(source.languages)
    for lang in source.languages:
        upstream = gzip.decompress((data_dir / folder / f"{lang}.json.gz").read_bytes())
        assert hashlib.sha256(upstream).hexdigest() == source.sha256[lang], lang


def test_a_download_that_does_not_match_its_pin_is_refused_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XMIR_DATA_DIR", raising=False)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))
    _serve(monkeypatch, b'{"data": [], "version": "tampered"}', [])
    with pytest.raises(XmirError, match=r"does not match its pinned SHA-256 .*nothing was kept"):
        load_lareqa("mlqa-r", languages=["de"])
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_offline_download_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XMIR_DATA_DIR", raising=False)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path))

    def offline(url: str, output_file: str, pooch: object) -> None:
        raise requests.ConnectionError("network is unreachable")

    monkeypatch.setattr(sources, "downloader", lambda: offline)
    with pytest.raises(XmirError, match=r"could not download .*set XMIR_DATA_DIR"):
        load_lareqa("mlqa-r", languages=["de"])
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
