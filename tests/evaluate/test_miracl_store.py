"""The on-disk corpus embedding cache: reuse, invalidation, corruption, interrupted encoding."""

from __future__ import annotations

import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pytest

from xmir.data.miracl_corpus import CorpusShards, resolve_corpus
from xmir.errors import XmirError
from xmir.evaluate.embedding_store import EncodingKey, open_or_encode

DIM = 8


def hash_encoder(texts: list[str]) -> np.ndarray:
    """Deterministic unit vectors from each text's CRC (a stand-in for a model)."""
    rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=DIM) for t in texts]
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class CountingEncoder:
    """Counts the passages it encodes; raises after ``fail_after`` calls when set."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.passages = 0
        self.fail_after = fail_after

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.passages += len(texts)
        return hash_encoder(texts)


def make_corpus(folder: Path, count: int = 50) -> CorpusShards:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "docs-0.jsonl", "w", encoding="utf-8") as handle:
        for i in range(count):
            record = {"docid": f"{i}#{i % 3}", "title": f"t{i}", "text": f"passage número {i}"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return resolve_corpus(folder, "fi")


def make_key(shards: CorpusShards, weights: str = "w1", dtype: str = "float16") -> EncodingKey:
    return EncodingKey(
        weights_sha256=weights,
        corpus_sha256=shards.content_sha256(),
        prefix="passage: ",
        max_seq_length=128,
        dtype=dtype,
        with_title=True,
    )


def expected_embeddings(shards: CorpusShards, dtype: str = "float16") -> np.ndarray:
    texts = [p for b in shards.iter_batches(1000) for p in b.passages()]
    return hash_encoder(texts).astype(dtype)


def test_encodes_once_then_reuses_the_cache(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    encoder = CountingEncoder()
    store, status = open_or_encode(
        encoder, shards, make_key(shards), chunk_rows=16, root=tmp_path / "c"
    )
    assert not status.from_cache and encoder.passages == 50
    np.testing.assert_array_equal(store.embeddings, expected_embeddings(shards))
    assert isinstance(store.embeddings, np.memmap) and store.embeddings.dtype == np.float16
    again, status = open_or_encode(
        encoder, shards, make_key(shards), chunk_rows=16, root=tmp_path / "c"
    )
    assert status.from_cache and encoder.passages == 50
    np.testing.assert_array_equal(again.embeddings, store.embeddings)


def test_other_weights_or_corpus_never_reuse_an_entry(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    encoder = CountingEncoder()
    first, _ = open_or_encode(encoder, shards, make_key(shards, "w1"), root=tmp_path / "c")
    _, status = open_or_encode(encoder, shards, make_key(shards, "w2"), root=tmp_path / "c")
    assert not status.from_cache and encoder.passages == 100
    changed = make_corpus(tmp_path / "corpus", count=51)
    store, status = open_or_encode(encoder, changed, make_key(changed, "w1"), root=tmp_path / "c")
    assert not status.from_cache and store.rows == 51
    assert store.folder != first.folder


def test_stale_entry_under_the_same_name_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shards = make_corpus(tmp_path / "corpus")
    key = make_key(shards)
    store, _ = open_or_encode(CountingEncoder(), shards, key, root=tmp_path / "c")
    recorded = json.loads((store.folder / "key.json").read_text())
    recorded["weights_sha256"] = "another-model"
    (store.folder / "key.json").write_text(json.dumps(recorded))
    encoder = CountingEncoder()
    with caplog.at_level(logging.WARNING):
        _, status = open_or_encode(encoder, shards, key, root=tmp_path / "c")
    assert not status.from_cache and encoder.passages == 50
    assert "key.json does not match" in (status.rebuilt_reason or "")
    assert "rebuilding" in caplog.text


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_embeddings_are_detected_and_rebuilt(tmp_path: Path, damage: str) -> None:
    shards = make_corpus(tmp_path / "corpus")
    key = make_key(shards)
    store, _ = open_or_encode(CountingEncoder(), shards, key, chunk_rows=16, root=tmp_path / "c")
    path = store.folder / "embeddings.bin"
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(bytes(data[:-10]))
    encoder = CountingEncoder()
    rebuilt, status = open_or_encode(encoder, shards, key, chunk_rows=16, root=tmp_path / "c")
    assert not status.from_cache
    assert "SHA-256" in (status.rebuilt_reason or "")
    # chunks before the damaged one (rows 0-31 for the flip, 0-47 for the cut) are kept
    assert status.resumed_at_row == (16 if damage == "flip" else 48)
    assert encoder.passages == 50 - status.resumed_at_row
    np.testing.assert_array_equal(rebuilt.embeddings, expected_embeddings(shards))


def test_corrupt_docids_are_detected(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    key = make_key(shards)
    store, _ = open_or_encode(CountingEncoder(), shards, key, chunk_rows=16, root=tmp_path / "c")
    path = store.folder / "docids.bin"
    path.write_bytes(path.read_bytes().replace(b"7#1", b"7#2"))
    _, status = open_or_encode(CountingEncoder(), shards, key, chunk_rows=16, root=tmp_path / "c")
    assert not status.from_cache and "chunk 0" in (status.rebuilt_reason or "")


def test_interrupted_encoding_resumes_after_the_last_chunk(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    key = make_key(shards, dtype="float32")
    with pytest.raises(KeyboardInterrupt):
        open_or_encode(
            CountingEncoder(fail_after=2), shards, key, chunk_rows=16, root=tmp_path / "c"
        )
    folder = tmp_path / "c" / key.digest()
    assert json.loads((folder / "progress.json").read_text())["rows"] == 32
    assert not (folder / "complete.json").exists()
    with open(folder / "embeddings.bin", "ab") as handle:  # a half-written third chunk
        handle.write(b"\0" * 40)
    encoder = CountingEncoder()
    store, status = open_or_encode(encoder, shards, key, chunk_rows=16, root=tmp_path / "c")
    assert status.resumed_at_row == 32 and not status.from_cache
    assert encoder.passages == 18
    np.testing.assert_array_equal(store.embeddings, expected_embeddings(shards, "float32"))
    assert store.docids_at(np.array([0, 31, 32, 49])) == ["0#0", "31#1", "32#2", "49#1"]


def test_docid_lookup_finds_rows_and_skips_absent(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    store, _ = open_or_encode(CountingEncoder(), shards, make_key(shards), root=tmp_path / "c")
    found = store.find_rows({"3#0", "49#1", "missing#0"}, block_rows=7)
    assert found == {"3#0": 3, "49#1": 49}


def test_disabled_cache_always_encodes(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    encoder = CountingEncoder()
    for _ in range(2):
        _, status = open_or_encode(
            encoder, shards, make_key(shards), root=tmp_path / "c", use_cache=False
        )
        assert not status.from_cache
    assert encoder.passages == 100


def test_bad_dtype_and_empty_corpus_are_refused(tmp_path: Path) -> None:
    shards = make_corpus(tmp_path / "corpus")
    with pytest.raises(XmirError, match="dtype"):
        open_or_encode(hash_encoder, shards, make_key(shards, dtype="int8"), root=tmp_path / "c")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "docs-0.jsonl").write_text("\n", encoding="utf-8")
    empty = resolve_corpus(tmp_path / "empty", "fi")
    with pytest.raises(XmirError, match="holds no passages"):
        open_or_encode(hash_encoder, empty, make_key(empty), root=tmp_path / "c")
