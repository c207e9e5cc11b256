"""MIRACL topics, qrels and the streaming corpus reader: formats, layouts and bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xmir.data.miracl import (
    MIRACL_LANGUAGES,
    check_languages,
    file_language,
    load_judgements,
    read_qrels,
    read_topics,
)
from xmir.data.miracl_corpus import resolve_corpus
from xmir.errors import XmirError

# Published MIRACL dev counts (topics, judgements, positive judgements), see the data README.
DEV_COUNTS = {"sw": (482, 5092, 910), "yo": (119, 1188, 144), "de": (305, 3144, 811)}


def _write_jsonl(path: Path, records: list[dict[str, str]], *, gz: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _records(prefix: str, count: int) -> list[dict[str, str]]:
    return [
        {"docid": f"{prefix}{i}#0", "title": f"title {i}", "text": f"text {prefix} {i}"}
        for i in range(count)
    ]


@pytest.mark.parametrize("lang", sorted(DEV_COUNTS))
def test_real_dev_files_match_published_counts(data_dir: Path, lang: str) -> None:
    judged = load_judgements(lang, data_dir=data_dir)
    topics, judgements, positives = DEV_COUNTS[lang]
    assert len(judged.topics) == topics
    assert sum(len(j) for j in judged.qrels.values()) == judgements
    assert sum(len(judged.relevant(q)) for q in judged.qrels) == positives
    assert set(judged.topics) == set(judged.qrels)
    assert len(judged.files_sha256) == 2


def test_explicit_paths_with_language_placeholder(data_dir: Path) -> None:
    folder = data_dir / "miracl"
    judged = load_judgements(
        "yo",
        topics=folder / "topics.miracl-v1.0-{lang}-dev.tsv.gz",
        qrels=folder / "qrels.miracl-v1.0-{lang}-dev.tsv.gz",
    )
    assert len(judged.topics) == 119


def test_plain_and_gzip_topics_read_the_same(tmp_path: Path) -> None:
    body = "1\tWhat is x?\n2\tWho is y?\n\n"
    (tmp_path / "t.tsv").write_text(body, encoding="utf-8")
    with gzip.open(tmp_path / "t.tsv.gz", "wt", encoding="utf-8") as handle:
        handle.write(body)
    assert read_topics(tmp_path / "t.tsv") == read_topics(tmp_path / "t.tsv.gz")
    assert read_topics(tmp_path / "t.tsv") == {"1": "What is x?", "2": "Who is y?"}


def test_qrels_keep_graded_and_zero_judgements(tmp_path: Path) -> None:
    (tmp_path / "q.tsv").write_text("1 Q0 d#0 1\n1 Q0 d#1 0\n2 Q0 e#3 2\n", encoding="utf-8")
    assert read_qrels(tmp_path / "q.tsv") == {"1": {"d#0": 1, "d#1": 0}, "2": {"e#3": 2}}


@pytest.mark.parametrize(
    ("name", "body", "reader", "needle"),
    [
        ("t.tsv", "1\tok\n2 no tab here\n", read_topics, "t.tsv:2"),
        ("t.tsv", "1\ta\n1\tb\n", read_topics, "appears twice"),
        ("q.tsv", "1 Q0 d#0\n", read_qrels, "q.tsv:1"),
        ("q.tsv", "1 Q0 d#0 yes\n", read_qrels, "expected TREC qrels"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, name: str, body: str, reader: object, needle: str
) -> None:
    (tmp_path / name).write_text(body, encoding="utf-8")
    with pytest.raises(XmirError, match=needle):
        reader(tmp_path / name)  # type: ignore[operator]


def test_language_codes_are_checked() -> None:
    assert check_languages(None) == list(MIRACL_LANGUAGES)
    assert len(MIRACL_LANGUAGES) == 18
    assert check_languages(["fi", "ar"]) == ["fi", "ar"]
    with pytest.raises(XmirError, match="MIRACL: unknown language code"):
        check_languages(["fi", "xx"])
    with pytest.raises(XmirError, match="repeated"):
        check_languages(["fi", "fi"])


def test_file_named_for_another_language_is_refused(data_dir: Path) -> None:
    folder = data_dir / "miracl"
    assert file_language(folder / "topics.miracl-v1.0-sw-dev.tsv.gz") == "sw"
    with pytest.raises(XmirError, match="named for language 'sw'"):
        load_judgements(
            "yo",
            topics=folder / "topics.miracl-v1.0-sw-dev.tsv.gz",
            qrels=folder / "qrels.miracl-v1.0-yo-dev.tsv.gz",
        )


def test_topics_and_qrels_of_different_languages_are_refused(tmp_path: Path) -> None:
    (tmp_path / "topics.tsv").write_text("1\tq\n", encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("77 Q0 d#0 1\n", encoding="utf-8")
    with pytest.raises(XmirError, match="share no query id"):
        load_judgements("fi", topics=tmp_path / "topics.tsv", qrels=tmp_path / "qrels.tsv")


def test_missing_default_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match=r"no topics\.miracl-v1\.0-fi-dev\.tsv"):
        load_judgements("fi", data_dir=tmp_path)


@pytest.mark.slow
def test_hub_topics_fail_clearly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-xmir-test")
    with pytest.raises(XmirError, match=r"could not load miracl/miracl \(yo, dev\)"):
        load_judgements("yo", topics="hub")
    with pytest.raises(XmirError, match="'hub' for both or neither"):
        load_judgements("yo", topics="hub", qrels="some-file.tsv")


def test_hub_corpus_fails_clearly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-xmir-test")
    with pytest.raises(XmirError, match="pass --corpus with a local copy"):
        resolve_corpus("hub", "yo")


def test_corpus_layouts_resolve_to_the_language_folder(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "miracl-corpus-v1.0-sw" / "docs-0.jsonl.gz", _records("s", 3))
    _write_jsonl(tmp_path / "yo" / "docs-0.jsonl", _records("y", 2), gz=False)
    assert resolve_corpus(tmp_path, "sw").root.name == "miracl-corpus-v1.0-sw"
    assert resolve_corpus(tmp_path, "yo").root.name == "yo"
    assert resolve_corpus(tmp_path / "yo", "yo").shards[0].name == "docs-0.jsonl"
    assert resolve_corpus(tmp_path / "{lang}", "yo").root.name == "yo"
    with pytest.raises(XmirError, match="has no 'fi' corpus"):
        resolve_corpus(tmp_path, "fi")
    with pytest.raises(XmirError, match="named for language 'sw'"):
        resolve_corpus(tmp_path / "miracl-corpus-v1.0-sw", "yo")
    with pytest.raises(XmirError, match="does not exist"):
        resolve_corpus(tmp_path / "nowhere", "fi")


def test_shards_stream_in_natural_order_in_small_batches(tmp_path: Path) -> None:
    for shard in (0, 2, 10):
        _write_jsonl(tmp_path / f"docs-{shard}.jsonl.gz", _records(f"s{shard}-", 5))
    shards = resolve_corpus(tmp_path, "fi")
    assert [p.name for p in shards.shards] == [
        "docs-0.jsonl.gz",
        "docs-2.jsonl.gz",
        "docs-10.jsonl.gz",
    ]
    batches = list(shards.iter_batches(batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 4, 3]
    docids = [d for b in batches for d in b.docids]
    assert docids[:2] == ["s0-0#0", "s0-1#0"] and docids[-1] == "s10-4#0"
    assert batches[0].passages()[0] == "title 0 text s0- 0"
    assert batches[0].passages(with_title=False)[0] == "text s0- 0"
    skipped = [d for b in shards.iter_batches(batch_size=4, skip=6) for d in b.docids]
    assert skipped == docids[6:]


def test_parquet_shards_read_like_jsonl(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = _records("p", 7)
    table = pa.Table.from_pylist(records)
    pq.write_table(table, tmp_path / "part-0.parquet", row_group_size=3)
    _write_jsonl(tmp_path / "json" / "docs-0.jsonl.gz", records)
    from_parquet = list(resolve_corpus(tmp_path / "part-0.parquet", "fi").iter_batches(5, skip=4))
    from_json = list(resolve_corpus(tmp_path / "json", "fi").iter_batches(5, skip=4))
    assert from_parquet == from_json
    assert [d for b in from_parquet for d in b.docids] == [f"p{i}#0" for i in range(4, 7)]


def test_truncated_gzip_shard_names_shard_and_line(tmp_path: Path) -> None:
    good = _write_jsonl(tmp_path / "docs-0.jsonl.gz", _records("a", 2000))
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    with pytest.raises(XmirError, match=r"docs-0\.jsonl\.gz is truncated or corrupt: .*line \d+"):
        list(resolve_corpus(tmp_path, "fi").iter_batches(100))


def test_truncated_plain_shard_names_shard_and_line(tmp_path: Path) -> None:
    shard = _write_jsonl(tmp_path / "docs-0.jsonl", _records("a", 3), gz=False)
    shard.write_text(shard.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(XmirError, match=r"docs-0\.jsonl, line 3: .*truncated"):
        list(resolve_corpus(tmp_path, "fi").iter_batches(100))


def test_record_without_docid_is_refused(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "docs-0.jsonl", [{"title": "t", "text": "x"}], gz=False)
    with pytest.raises(XmirError, match="line 1: not a MIRACL passage record"):
        list(resolve_corpus(tmp_path, "fi").iter_batches(100))


def test_content_hash_tracks_bytes_not_location(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "a" / "docs-0.jsonl", _records("a", 3), gz=False)
    _write_jsonl(tmp_path / "b" / "docs-0.jsonl", _records("a", 3), gz=False)
    first = resolve_corpus(tmp_path / "a", "fi").content_sha256()
    assert first == resolve_corpus(tmp_path / "b", "fi").content_sha256()
    _write_jsonl(tmp_path / "b" / "docs-0.jsonl", _records("b", 3), gz=False)
    assert first != resolve_corpus(tmp_path / "b", "fi").content_sha256()


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(XmirError, match="holds no"):
        resolve_corpus(tmp_path, "fi")
