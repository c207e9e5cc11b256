"""Where LAReQA files come from: a local folder, ``$XMIR_DATA_DIR``, or a pinned download.

A download is pinned twice: to an upstream commit, and to the SHA-256 of every file (pooch
fetches into a temporary file, checks the hash and only then moves it into the cache, so a
file that does not match is never kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmir.errors import XmirError
from xmir.paths import cache_dir, data_dir_from_env

LAREQA_REPO_RAW = "https://raw.githubusercontent.com/google-research-datasets/lareqa"


@dataclass(frozen=True)
class LareqaSource:
    """A LAReQA dataset: its languages, published counts and pinned upstream location."""

    name: str
    languages: tuple[str, ...]
    commit: str
    folder: str
    expected_candidates: int
    expected_queries: int
    relevant_per_query: int | None
    sha256: Mapping[str, str]  # language -> SHA-256 of the upstream {lang}.json

    def url(self, lang: str) -> str:
        return f"{LAREQA_REPO_RAW}/{self.commit}/{self.folder}/{lang}.json"


LAREQA_SOURCES: dict[str, LareqaSource] = {
    "xquad-r": LareqaSource(
        name="xquad-r",
        languages=("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"),
        commit="9bc8c7fb6dd8d01d72a05a93c2cb96882b0d299c",
        folder="xquad-r",
        expected_candidates=13_014,
        expected_queries=13_090,
        relevant_per_query=11,
        sha256={
            "ar": "c52922d3b8ac1ae03ed5ac38647ad59870dca3dda2beefe18ecdc30729acb69d",
            "de": "16fb0f4bf4916154b585a20c24c66074591c9718a1affe764ff4697572328949",
            "el": "163fd43ee785a30eb534ae2061e9eaa766a7ee4e8ffce5e4b422480c150f64b6",
            "en": "7b0954f39297c27a31fef610f0883337dd2907fa8699151dc922afdd0fa12ffe",
            "es": "f8e836b2d91009c4363e04315f7ede363eedbbb49c67dda60de6c4aa782f58de",
            "hi": "ea45ba8ae4513d1533b222bebdc02a90bc319c055d3aeea68584a053d2e92872",
            "ru": "7f4dff853538b9a5fcc28c070b8bb983a5c5d190ac747b8e005a1ada9cab18f1",
            "th": "c3a041864c3a9fb0b4dd91cfdf99cf36b411b3e704c58a303c97bc6dc786cfe4",
            "tr": "f3e8c13002bbce154a4578f535f7533cb70f3da08840e6b62735935baec7bd94",
            "vi": "e35926bf5cc6fc6ecbdfca49467aabeb454f08d152d7818143a906bd31dde995",
            "zh": "80c2cde7b9c2fb134c303cbb52f2ba396ead9eb0014aec43993543d2ba9e93ed",
        },
    ),
    "mlqa-r": LareqaSource(
        name="mlqa-r",
        languages=("ar", "de", "en", "es", "hi", "vi", "zh"),
        commit="354d67d1cd066854cdfbf5ad0e6105528976141d",
        folder="mlqa-r",
        expected_candidates=20_534,
        expected_queries=4_199,
        relevant_per_query=None,
        sha256={
            "ar": "2132fbc03208535c0fe01f2e2c5121d06f9c2aa799af93b0a719dbc105bdf137",
            "de": "ce9454dc5aa6f2d85c23cd6e49cb367fbb7c4c6e62d7f71e355c6b5dae4d0886",
            "en": "fedd9a5cc0848dda80caf84aa36f482adaae230526a3f6e9e86926a93ef3b1e4",
            "es": "70ecba276b8c96a692b120693a595d076ce94ad21d4b28311538a9fcbfe0f9d7",
            "hi": "4dd0fb3c06f737a5481d705bc1dcac7876712a5815c9265908fbb3a0696cb654",
            "vi": "9d3baff6ba03e6793b25594217265ea59a136b9733833dca8a9582a84a78ff85",
            "zh": "57f01d2fff50cf3392805635b01445339f225ad5bf28ba8443b12f8dbd1e69dc",
        },
    ),
}


def resolve_lareqa_dir(source: LareqaSource, data_dir: Path | None, languages: list[str]) -> Path:
    """The folder holding ``{lang}.json[.gz]`` for ``source``.

    ``data_dir`` may be the dataset folder itself or its parent (which holds ``xquad-r/``...).
    Without ``data_dir``: ``$XMIR_DATA_DIR``, else the user cache, filled by download.
    """
    if data_dir is not None:
        return _local_folder(Path(data_dir), source, "--data-dir")
    env_dir = data_dir_from_env()
    if env_dir is not None:
        return _local_folder(env_dir, source, "XMIR_DATA_DIR")
    return download_lareqa(source, languages)


def _local_folder(root: Path, source: LareqaSource, origin: str) -> Path:
    if not root.is_dir():
        raise XmirError(f"data directory {root} ({origin}) does not exist")
    nested = root / source.name
    return nested if nested.is_dir() else root


def download_lareqa(source: LareqaSource, languages: list[str]) -> Path:
    """Fetch the pinned upstream files once into the user cache, each checked against its
    pinned SHA-256 (a cached file that no longer matches is fetched again)."""
    folder = cache_dir() / "data" / f"{source.name}@{source.commit[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        if (folder / f"{lang}.json.gz").is_file():
            continue
        fetch_pinned(source.url(lang), source.sha256[lang], folder / f"{lang}.json")
    return folder


def fetch_pinned(url: str, sha256: str, target: Path) -> Path:
    """Download ``url`` to ``target`` unless it is there with this SHA-256; a download whose
    hash differs is an error and leaves nothing behind."""
    import pooch
    import requests

    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{sha256}",
            fname=target.name,
            path=target.parent,
            downloader=downloader(),
            progressbar=False,
        )
    except ValueError:
        raise XmirError(
            f"{url} does not match its pinned SHA-256 {sha256} (changed upstream or "
            "damaged in transit); nothing was kept. Pass --data-dir or set XMIR_DATA_DIR to a "
            "folder with the LAReQA json files"
        ) from None
    except (requests.RequestException, OSError) as error:
        raise XmirError(
            f"could not download {url} ({error}); pass --data-dir or set XMIR_DATA_DIR to a "
            "folder with the LAReQA json files"
        ) from None
    return target


def downloader() -> Any:
    """pooch's HTTP(S) downloader (a function ``(url, output_file, pooch)``)."""
    import pooch

    return pooch.HTTPDownloader(timeout=60, progressbar=False)
