"""BM25 (bm25s) over a corpus, as the lexical reference next to a dense model.

Tokens are lower-cased word characters; scripts written without spaces (Chinese, Japanese,
Thai) become overlapping character bigrams, as Lucene's CJK analyzer does. Stopwords are
removed where bm25s ships a list (de en es fr ko ru zh); there is no stemming, so scores sit
below Pyserini's Lucene-analyzer BM25 baseline. Defaults k1=0.9, b=0.4 follow that baseline.
The index is built from the corpus stream and cached (verified by SHA-256) under
``<cache>/bm25/<key>/``; bm25s holds the tokenised corpus in memory while it builds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xmir.data.miracl_corpus import CorpusShards
from xmir.io import atomic_write_json, file_sha256
from xmir.paths import cache_dir

logger = logging.getLogger(__name__)

BM25_FORMAT = 1
BM25S_STOPWORDS = {"de", "en", "es", "fr", "ko", "ru", "zh"}
_WORD = re.compile(r"\w+")
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Bm25Options:
    """BM25 parameters and the passage text it indexes."""

    k1: float = 0.9
    b: float = 0.4
    method: str = "lucene"
    with_title: bool = True
    use_cache: bool = True
    show_progress: bool = True


def split_words(text: str) -> list[str]:
    """Word tokens; runs of unspaced-script characters become character bigrams."""
    tokens: list[str] = []
    for word in _WORD.findall(text):
        if _UNSPACED.search(word):
            tokens.extend(word[i : i + 2] for i in range(max(len(word) - 1, 1)))
        elif len(word) > 1 or not word.isascii():
            tokens.append(word)
    return tokens


def make_tokenizer(language: str) -> Any:
    """The bm25s tokenizer for ``language``."""
    import bm25s

    stopwords = language if language in BM25S_STOPWORDS else None
    return bm25s.tokenization.Tokenizer(lower=True, splitter=split_words, stopwords=stopwords)


def bm25_search(
    shards: CorpusShards,
    corpus_sha256: str,
    queries: list[str],
    depth: int,
    options: Bm25Options | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Top-``depth`` corpus rows and scores per query, and whether the index came from cache.

    Rows count passages in corpus order, the same rows as the embedding store's.
    """
    options = options or Bm25Options()
    retriever, tokenizer, from_cache = load_or_build(shards, corpus_sha256, options)
    k = min(depth, retriever.scores["num_docs"])
    tokens = tokenizer.tokenize(queries, update_vocab=False, return_as="ids", show_progress=False)
    rows, scores = retriever.retrieve(tokens, k=k, show_progress=False)
    return np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32), from_cache


def load_or_build(
    shards: CorpusShards, corpus_sha256: str, options: Bm25Options
) -> tuple[Any, Any, bool]:
    """The bm25s retriever and tokenizer for ``shards`` (from the cache when it verifies)."""
    import bm25s

    key = {
        "format": BM25_FORMAT,
        "corpus_sha256": corpus_sha256,
        "language": shards.language,
        "bm25s": bm25s.__version__,
        **{k: v for k, v in asdict(options).items() if k in ("k1", "b", "method", "with_title")},
    }
    folder = (
        cache_dir()
        / "bm25"
        / hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    )
    tokenizer = make_tokenizer(shards.language)
    if options.use_cache and _verifies(folder, key):
        tokenizer.load_vocab(str(folder))
        return bm25s.BM25.load(str(folder), mmap=True), tokenizer, True
    if folder.exists():
        logger.warning("BM25 cache %s does not verify; rebuilding it", folder)
        shutil.rmtree(folder)
    retriever = bm25s.BM25(k1=options.k1, b=options.b, method=options.method)
    texts = _texts(shards, options.with_title)
    ids = list(tokenizer.streaming_tokenize(texts, update_vocab=True))
    retriever.index((ids, tokenizer.get_vocab_dict()), show_progress=options.show_progress)
    del ids
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    retriever.save(str(staging))
    tokenizer.save_vocab(str(staging))
    atomic_write_json(staging / "xmir-bm25.json", {"key": key, "files": _digests(staging)})
    staging.replace(folder)
    return retriever, tokenizer, False


def _texts(shards: CorpusShards, with_title: bool) -> Iterator[str]:
    for batch in shards.iter_batches(8192):
        yield from batch.passages(with_title)


def _verifies(folder: Path, key: dict[str, Any]) -> bool:
    try:
        manifest = json.loads((folder / "xmir-bm25.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("key") == key and manifest.get("files") == _digests(folder)


def _digests(folder: Path) -> dict[str, str]:
    digests = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name != "xmir-bm25.json":
            digests[path.name] = file_sha256(path)
    return digests
