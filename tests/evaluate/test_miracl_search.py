"""Corpus search (exact blocks, FAISS flat/IVF/HNSW, index cache) and the BM25 reference."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from xmir.data.miracl_corpus import resolve_corpus
from xmir.errors import XmirError
from xmir.evaluate.bm25 import bm25_search, split_words
from xmir.evaluate.corpus_search import SearchOptions, choose_method, exact_search, search
from xmir.evaluate.embedding_store import EmbeddingStore, EncodingKey


def random_unit(rows: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def brute_force(corpus: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ np.asarray(corpus, dtype=np.float32).T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def make_store(folder: Path, embeddings: np.ndarray) -> EmbeddingStore:
    """A store over ``embeddings`` (the search code only reads these fields)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = EncodingKey("w", "c", "", 0, str(embeddings.dtype), True)
    digest = hashlib.sha256(np.ascontiguousarray(embeddings).tobytes()).hexdigest()
    return EmbeddingStore(folder, key, embeddings, (digest,))


def test_exact_search_matches_brute_force_across_blocks() -> None:
    corpus, queries = random_unit(5000, 16, 0), random_unit(37, 16, 1)
    rows, scores = exact_search(corpus, queries, 100, budget_bytes=4 * 1024 * (16 + 37))
    np.testing.assert_array_equal(rows, brute_force(corpus, queries, 100))
    expected = np.take_along_axis(queries @ corpus.T, rows, axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
    assert (np.diff(scores, axis=1) <= 0).all()


def test_exact_search_on_a_corpus_smaller_than_the_depth() -> None:
    corpus, queries = random_unit(30, 8, 2), random_unit(3, 8, 3)
    rows, _ = exact_search(corpus, queries, 100)
    assert rows.shape == (3, 30)
    np.testing.assert_array_equal(rows, brute_force(corpus, queries, 30))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_faiss_flat_equals_exact_search(tmp_path: Path, dtype: str) -> None:
    corpus = random_unit(3000, 24, 4).astype(dtype)
    queries = random_unit(50, 24, 5)
    store = make_store(tmp_path, corpus)
    exact = search(store, queries, SearchOptions(method="exact"))
    flat = search(store, queries, SearchOptions(method="flat"))
    assert (exact.method, flat.method) == ("exact", "flat")
    np.testing.assert_array_equal(flat.rows, exact.rows)
    np.testing.assert_allclose(flat.scores, exact.scores, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", ["ivf", "hnsw"])
def test_approximate_indexes_recover_most_neighbours(tmp_path: Path, method: str) -> None:
    corpus, queries = random_unit(4000, 16, 6), random_unit(40, 16, 7)
    store = make_store(tmp_path, corpus)
    hits = search(store, queries, SearchOptions(method=method, depth=10))
    truth = brute_force(corpus, queries, 10)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(hits.rows, truth, strict=True)])
    assert overlap > 0.9
    assert hits.index_from_cache is False


def test_faiss_index_is_cached_and_rebuilt_when_corrupt(tmp_path: Path) -> None:
    corpus, queries = random_unit(2000, 16, 8), random_unit(10, 16, 9)
    store = make_store(tmp_path, corpus)
    first = search(store, queries, SearchOptions(method="hnsw"))
    second = search(store, queries, SearchOptions(method="hnsw"))
    assert (first.index_from_cache, second.index_from_cache) == (False, True)
    np.testing.assert_array_equal(first.rows, second.rows)
    (index_file,) = tmp_path.glob("faiss-hnsw-*.index")
    data = bytearray(index_file.read_bytes())
    data[-100] ^= 0xFF
    index_file.write_bytes(bytes(data))
    third = search(store, queries, SearchOptions(method="hnsw"))
    assert third.index_from_cache is False
    np.testing.assert_array_equal(third.rows, first.rows)
    assert (
        json.loads(index_file.with_suffix(".json").read_text())["embeddings"]
        == store.content_digest
    )
    other = make_store(tmp_path, random_unit(2000, 16, 10))  # other embeddings, same file name
    fourth = search(other, queries, SearchOptions(method="hnsw", depth=10))
    assert fourth.index_from_cache is False
    assert (
        json.loads(index_file.with_suffix(".json").read_text())["embeddings"]
        == other.content_digest
    )


def test_auto_method_follows_corpus_size() -> None:
    assert choose_method(10_000, "auto") == "exact"
    assert choose_method(5_000_000, "auto") == "flat"
    assert choose_method(30_000_000, "auto") == "ivf"
    assert choose_method(10, "hnsw") == "hnsw"
    with pytest.raises(XmirError, match="unknown search method"):
        choose_method(10, "annoy")


def test_word_splitting_handles_unspaced_scripts() -> None:
    assert split_words("Mji MKUU wa Kenya") == ["Mji", "MKUU", "wa", "Kenya"]
    assert split_words("二战开始") == ["二战", "战开", "开始"]
    assert split_words("ประเทศไทย") == ["ปร", "ระ", "ะเ", "เท", "ทศ", "ศไ", "ไท", "ทย"]
    assert split_words("a 字") == ["字"]


def test_bm25_ranks_the_passage_sharing_the_query_terms_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XMIR_CACHE_DIR", str(tmp_path / "cache"))
    words = ["mji", "nchi", "bahari", "mlima", "ziwa", "mto", "jiji", "kisiwa"]
    rng = np.random.default_rng(0)
    records = [
        {"docid": f"{i}#0", "title": "", "text": " ".join(rng.choice(words, size=6))}
        for i in range(60)
    ]
    records[17]["text"] = "Nairobi ni mji mkuu wa Kenya"
    records[42]["text"] = "二战开始于1939年"
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "docs-0.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    shards = resolve_corpus(folder, "sw")
    digest = shards.content_sha256()
    rows, scores, cached = bm25_search(
        shards, digest, ["mji mkuu wa Kenya?", "二战什么时候开始"], 100
    )
    assert rows.shape == (2, 60) and not cached
    assert rows[0, 0] == 17 and rows[1, 0] == 42
    assert (np.diff(scores, axis=1) <= 0).all()
    again, _, cached = bm25_search(shards, digest, ["mji mkuu wa Kenya?"], 5)
    assert cached and again[0, 0] == 17
