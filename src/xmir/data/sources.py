"""Where LAReQA files come from: a local folder, ``$XMIR_DATA_DIR``, or a pinned download."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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
    ),
    "mlqa-r": LareqaSource(
        name="mlqa-r",
        languages=("ar", "de", "en", "es", "hi", "vi", "zh"),
        commit="354d67d1cd066854cdfbf5ad0e6105528976141d",
        folder="mlqa-r",
        expected_candidates=20_534,
        expected_queries=4_199,
        relevant_per_query=None,
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
    """Fetch the pinned upstream files once into the user cache (atomic per file)."""
    folder = cache_dir() / "data" / f"{source.name}@{source.commit[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        target = folder / f"{lang}.json"
        if target.is_file() or (folder / f"{lang}.json.gz").is_file():
            continue
        _download(source.url(lang), target)
    return folder


def _download(url: str, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(fd, "wb") as out:
            shutil.copyfileobj(response, out)
        Path(tmp).replace(target)
    except (urllib.error.URLError, OSError) as error:
        Path(tmp).unlink(missing_ok=True)
        raise XmirError(
            f"could not download {url} ({error}); pass --data-dir or set XMIR_DATA_DIR to a "
            "folder with the LAReQA json files"
        ) from None
