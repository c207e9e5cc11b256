"""mMARCO from the hub: the pinned files of the requested languages, laid out and read."""

from __future__ import annotations

from pathlib import Path

import pytest

import xmir.data.mmarco_hub as mmarco_hub
from xmir.data.mmarco_hub import MMARCO_REVISION, fetch_mmarco, load_mmarco_hub, mmarco_files
from xmir.data.parallel import ParallelItem, load_training_data
from xmir.errors import XmirError

WORDS = {"en": "hello", "de": "hallo", "ru": "privet"}


def _fake_repository(root: Path) -> Path:
    """The repository paths xmir downloads, with three queries and their passages."""
    (root / "data").mkdir(parents=True)
    triples = "1\t10\t11\n1\t12\t13\n2\t20\t21\n3\t30\t31\n"  # query 1: first triple wins
    (root / "data" / "triples.train.ids.small.tsv").write_text(triples)
    for lang, word in WORDS.items():
        files = mmarco_files("google", lang)
        queries = root / files["queries.tsv"]
        queries.parent.mkdir(parents=True, exist_ok=True)
        queries.write_text("".join(f"{q}\t{word} query {q}\n" for q in (1, 2, 3)))
        collection = root / files["collection.tsv"]
        collection.parent.mkdir(parents=True, exist_ok=True)
        pids = (10, 11, 12, 13, 20, 21, 30, 31, 99)
        collection.write_text("".join(f"{p}\t{word} passage {p}\n" for p in pids))
    return root


class _Downloads:
    def __init__(self, repository: Path) -> None:
        self.repository = repository
        self.calls: list[str] = []

    def __call__(self, filename: str) -> Path:
        self.calls.append(filename)
        return self.repository / filename


def test_only_the_requested_languages_are_fetched_and_read(tmp_path: Path) -> None:
    downloads = _Downloads(_fake_repository(tmp_path / "repo"))
    data = load_mmarco_hub("", ["en", "de"], download=downloads, root=tmp_path / "cache")
    assert not any("russian" in call for call in downloads.calls)
    assert downloads.calls[0] == "data/triples.train.ids.small.tsv"
    by_key = {(i.item_id, i.language): i for i in data.items}
    assert len(by_key) == 6 and data.languages == ("de", "en")
    assert by_key[("1", "de")] == ParallelItem(
        "1", "de", "hallo query 1", "hallo passage 10", "hallo passage 11"
    )
    assert data.name == "hf:unicamp-dl/mmarco:google"
    assert data.source["revision"] == MMARCO_REVISION and data.source["translation"] == "google"
    assert data.source["positive"] == "first triple's positive"
    assert set(data.source["file_sha256"]) == {
        "triples.tsv", "de/queries.tsv", "de/collection.tsv", "en/queries.tsv",
        "en/collection.tsv",
    }  # fmt: skip


def test_a_second_fetch_relinks_nothing_and_bad_requests_fail_in_one_line(tmp_path: Path) -> None:
    downloads = _Downloads(_fake_repository(tmp_path / "repo"))
    folder, chosen = fetch_mmarco(["ru"], download=downloads, root=tmp_path / "cache")
    link = folder / "ru" / "collection.tsv"
    before = link.lstat().st_mtime_ns
    fetch_mmarco(["ru"], download=downloads, root=tmp_path / "cache")
    assert link.lstat().st_mtime_ns == before and chosen == ["ru"]
    with pytest.raises(XmirError, match="unknown mMARCO translation"):
        fetch_mmarco(["ru"], version="v9", download=downloads)
    with pytest.raises(XmirError, match="unknown language code"):
        fetch_mmarco(["xx"], download=downloads)


def test_the_train_data_string_dispatches_to_the_mmarco_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads = _Downloads(_fake_repository(tmp_path / "repo"))
    monkeypatch.setattr(mmarco_hub, "hub_downloader", lambda revision=MMARCO_REVISION: downloads)
    monkeypatch.setattr(mmarco_hub, "require_hub", lambda what, instead: None)
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    data = load_training_data("hf:unicamp-dl/mmarco:google", languages=["ru"])
    assert {i.language for i in data.items} == {"ru"}
    assert {i.item_id for i in data.items} == {"1", "2", "3"}


def test_offline_the_hub_files_fail_with_a_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xmir.hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(xmir.hub, "hub_reachable", lambda timeout_s=3.0: False)
    with pytest.raises(XmirError, match="unreachable; download its tsv files elsewhere"):
        load_training_data("hf:unicamp-dl/mmarco", languages=["en"])
