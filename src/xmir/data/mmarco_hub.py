"""mMARCO from the Hugging Face hub (``hf:unicamp-dl/mmarco[:google]``) as parallel pairs.

The hub repository holds plain tsv files (its loading script no longer runs with current
``datasets``), so xmir downloads exactly the files it needs, pinned to one commit, and links
them into the mMARCO layout that :func:`xmir.data.mmarco.read_mmarco_dir` reads::

    <cache>/data/mmarco@<commit>/google/
      triples.tsv           data/triples.train.ids.small.tsv (qid, positive pid, negative pid)
      <lang>/queries.tsv    data/google/queries/train/<name>_queries.train.tsv
      <lang>/collection.tsv data/google/collections/<name>_collection.tsv

``google`` is mMARCO's current translation (14 languages; the repository's ``helsinki``
folder holds the older one, not read here).

Only the requested languages are fetched (each collection is 3 to 8 GB). A query's positive
is the positive passage of its first training triple and its hard negative that triple's
negative; query and passage ids are shared by all languages, so an item id is one MS MARCO
query in every translation.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from xmir.data.languages import select_languages
from xmir.data.mmarco import read_mmarco_dir
from xmir.data.pairs import ParallelData
from xmir.errors import XmirError
from xmir.hub import require_hub
from xmir.paths import cache_dir

MMARCO_REPO = "unicamp-dl/mmarco"
# The commit that last changed data/ (later commits touch the card and licence only).
MMARCO_REVISION = "4618200568100aa0bf7fbf494d8d022e7ecab9a6"
MMARCO_VERSIONS = ("google",)
TRIPLES_FILE = "data/triples.train.ids.small.tsv"
# ISO code -> the file-name language of mMARCO's "google" translations (14 languages).
MMARCO_LANGUAGES: dict[str, str] = {
    "ar": "arabic", "de": "german", "en": "english", "es": "spanish", "fr": "french",
    "hi": "hindi", "id": "indonesian", "it": "italian", "ja": "japanese", "nl": "dutch",
    "pt": "portuguese", "ru": "russian", "vi": "vietnamese", "zh": "chinese",
}  # fmt: skip

Downloader = Callable[[str], Path]


def mmarco_files(version: str, language: str) -> dict[str, str]:
    """The repository paths of one language's training queries and passage collection."""
    name = MMARCO_LANGUAGES[language]
    return {
        "queries.tsv": f"data/{version}/queries/train/{name}_queries.train.tsv",
        "collection.tsv": f"data/{version}/collections/{name}_collection.tsv",
    }


def hub_downloader(revision: str = MMARCO_REVISION) -> Downloader:
    """Download one repository file into the hub cache (once) and return its local path."""

    def download(filename: str) -> Path:
        from huggingface_hub import hf_hub_download

        try:
            return Path(
                hf_hub_download(MMARCO_REPO, filename, repo_type="dataset", revision=revision)
            )
        except Exception as error:  # the hub client raises many types; all mean "not there"
            raise XmirError(
                f"could not download {filename} of {MMARCO_REPO}@{revision[:12]} "
                f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
            ) from None

    return download


def fetch_mmarco(
    languages: list[str] | None,
    *,
    version: str = "google",
    download: Downloader | None = None,
    root: Path | None = None,
) -> tuple[Path, list[str]]:
    """Fetch the files of ``languages`` (default: all 14) and lay them out for the reader;
    returns the layout folder and the languages in it."""
    if version not in MMARCO_VERSIONS:
        raise XmirError(
            f"hf:{MMARCO_REPO}:{version}: unknown mMARCO translation; use "
            f"{' or '.join(MMARCO_VERSIONS)}"
        )
    chosen = select_languages(languages, sorted(MMARCO_LANGUAGES), source=f"hf:{MMARCO_REPO}")
    if download is None:
        require_hub(f"hub dataset {MMARCO_REPO!r}", "download its tsv files elsewhere and pass "
                    "a local mMARCO folder with --train-format mmarco")  # fmt: skip
        download = hub_downloader()
    folder = (root or cache_dir() / "data") / f"mmarco@{MMARCO_REVISION[:12]}" / version
    _link(download(TRIPLES_FILE), folder / "triples.tsv")
    for lang in chosen:
        for name, remote in mmarco_files(version, lang).items():
            _link(download(remote), folder / lang / name)
    return folder, chosen


def load_mmarco_hub(
    config: str,
    languages: list[str] | None,
    *,
    download: Downloader | None = None,
    root: Path | None = None,
) -> ParallelData:
    """``hf:unicamp-dl/mmarco[:google]`` as parallel training items (see the module text)."""
    version = config or "google"
    folder, chosen = fetch_mmarco(languages, version=version, download=download, root=root)
    data = read_mmarco_dir(folder, languages=chosen)
    source = {
        **data.source,
        "path": None,
        "repo_id": MMARCO_REPO,
        "revision": MMARCO_REVISION,
        "translation": version,
    }
    return ParallelData(f"hf:{MMARCO_REPO}:{version}", data.items, source)


def _link(source: Path, target: Path) -> None:
    """Point ``target`` at the downloaded file (a symlink; replaced if it points elsewhere)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() and Path(os.readlink(target)) == source:
        return
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(source)
