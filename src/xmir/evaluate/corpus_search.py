"""Top-k inner-product search of queries over a stored corpus: exact blocks or a FAISS index.

``exact``: the memory-mapped embeddings are read block by block (float32 copy), scored with
one matmul per block and merged into a running top-k; the block size is chosen so a block, its
score matrix and top-k's copy of it fit ``budget_bytes``. ``flat`` / ``ivf`` / ``hnsw``: a FAISS index over the
same vectors (float16 entries are stored as ``SQfp16``, exactly the cached values), built in
blocks, saved next to the embeddings with a SHA-256 and rebuilt when it does not verify.
``auto`` picks exact up to 1M passages, flat up to 10M, IVF beyond.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from xmir.errors import XmirError
from xmir.evaluate.embedding_store import EmbeddingStore, iter_blocks
from xmir.io import atomic_write_json, file_sha256

logger = logging.getLogger(__name__)

SEARCH_METHODS = ("auto", "exact", "flat", "ivf", "hnsw")
EXACT_MAX_ROWS = 1_000_000
FLAT_MAX_ROWS = 10_000_000
TRAIN_ROWS_PER_LIST = 40  # FAISS warns below 39 training points per IVF list


@dataclass(frozen=True)
class SearchOptions:
    """How to search; the FAISS parameters only apply to their index type."""

    method: str = "auto"
    depth: int = 100
    device: str | None = None
    budget_bytes: int = 256 << 20
    ivf_nlist: int | None = None
    ivf_nprobe: int = 64
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 256
    use_index_cache: bool = True
    seed: int = 0


@dataclass(frozen=True)
class SearchHits:
    """``rows[q]`` are the corpus rows of query q's top hits, best first, with their ``scores``."""

    rows: np.ndarray
    scores: np.ndarray
    method: str
    index_from_cache: bool | None
    params: dict[str, Any]


def choose_method(rows: int, method: str) -> str:
    """The concrete method for a corpus of ``rows`` passages."""
    if method not in SEARCH_METHODS:
        raise XmirError(
            f"unknown search method {method!r}; choose from {', '.join(SEARCH_METHODS)}"
        )
    if method != "auto":
        return method
    if rows <= EXACT_MAX_ROWS:
        return "exact"
    return "flat" if rows <= FLAT_MAX_ROWS else "ivf"


def search(store: EmbeddingStore, queries: np.ndarray, options: SearchOptions) -> SearchHits:
    """The top ``options.depth`` rows of ``store`` for each query embedding."""
    method = choose_method(store.rows, options.method)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    if method == "exact":
        rows, scores = exact_search(
            store.embeddings, queries, options.depth,
            device=options.device, budget_bytes=options.budget_bytes,
        )  # fmt: skip
        return SearchHits(rows, scores, method, None, {"budget_bytes": options.budget_bytes})
    index, from_cache, params = load_or_build_index(store, method, options)
    k = min(options.depth, store.rows)
    scores, rows = index.search(queries, k)
    return SearchHits(rows.astype(np.int64), scores, method, from_cache, params)


def exact_search(
    embeddings: np.ndarray,
    queries: np.ndarray,
    depth: int,
    *,
    device: str | None = None,
    budget_bytes: int = 256 << 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``depth`` rows and scores by inner product, one bounded block at a time."""
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    n_rows, dim = embeddings.shape
    k = min(depth, n_rows)
    # a float32 block, its score matrix and top-k's working copy of it fit the budget
    block_rows = max(1024, budget_bytes // (4 * (dim + 2 * len(queries))))
    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32)).to(device)
    best_scores = torch.full((len(queries), 0), -torch.inf, device=device)
    best_rows = torch.zeros((len(queries), 0), dtype=torch.int64, device=device)
    with torch.inference_mode():
        for lo, block in iter_blocks(embeddings, block_rows):
            scores = q @ torch.from_numpy(block).to(device).T
            top = torch.topk(scores, min(k, scores.shape[1]), dim=1)
            merged_scores = torch.cat([best_scores, top.values], dim=1)
            merged_rows = torch.cat([best_rows, top.indices + lo], dim=1)
            keep = torch.topk(merged_scores, min(k, merged_scores.shape[1]), dim=1).indices
            best_scores = torch.gather(merged_scores, 1, keep)
            best_rows = torch.gather(merged_rows, 1, keep)
    return best_rows.cpu().numpy(), best_scores.cpu().numpy()


def load_or_build_index(
    store: EmbeddingStore, method: str, options: SearchOptions
) -> tuple[Any, bool, dict[str, Any]]:
    """A FAISS index over ``store`` (from its cache when the saved one verifies)."""
    import faiss

    params = _index_params(store, method, options)
    name = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    path = store.folder / f"faiss-{method}-{name}.index"
    sidecar = path.with_suffix(".json")
    expected = {"embeddings": store.content_digest, "params": params}
    if options.use_index_cache and path.is_file() and sidecar.is_file():
        recorded = json.loads(sidecar.read_text(encoding="utf-8"))
        if {k: recorded.get(k) for k in expected} == expected and recorded.get(
            "sha256"
        ) == file_sha256(path):
            index = faiss.read_index(str(path))
            _set_search_params(index, method, options)
            return index, True, params
        logger.warning("FAISS index %s does not verify; rebuilding it", path)
    index = _build_index(store, method, params, options)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    faiss.write_index(index, str(tmp))
    digest = file_sha256(tmp)
    os.replace(tmp, path)
    atomic_write_json(sidecar, {**expected, "sha256": digest, "faiss": faiss.__version__})
    _set_search_params(index, method, options)
    return index, False, params


def _index_params(store: EmbeddingStore, method: str, options: SearchOptions) -> dict[str, Any]:
    storage = "Flat" if store.embeddings.dtype == np.float32 else "SQfp16"
    if method == "flat":
        return {"factory": storage}
    if method == "ivf":
        nlist = options.ivf_nlist or int(4 * math.sqrt(store.rows))
        nlist = max(1, min(nlist, store.rows // 39 or 1))
        return {"factory": f"IVF{nlist},{storage}", "seed": options.seed}
    if method == "hnsw":
        factory = f"HNSW{options.hnsw_m},{storage}"
        return {"factory": factory, "ef_construction": options.hnsw_ef_construction}
    raise XmirError(f"{method!r} is not a FAISS index type")


def _build_index(
    store: EmbeddingStore, method: str, params: dict[str, Any], options: SearchOptions
) -> Any:
    import faiss

    index = faiss.index_factory(store.dim, params["factory"], faiss.METRIC_INNER_PRODUCT)
    block_rows = max(1024, options.budget_bytes // (4 * store.dim))
    if method == "hnsw":
        faiss.downcast_index(index).hnsw.efConstruction = params["ef_construction"]
    if not index.is_trained:
        rng = np.random.default_rng(options.seed)
        sample = min(store.rows, TRAIN_ROWS_PER_LIST * faiss.extract_index_ivf(index).nlist)
        chosen = np.sort(rng.choice(store.rows, size=sample, replace=False))
        index.train(np.asarray(store.embeddings[chosen], dtype=np.float32))
    for _, block in iter_blocks(store.embeddings, block_rows):
        index.add(block)
    return index


def _set_search_params(index: Any, method: str, options: SearchOptions) -> None:
    import faiss

    if method == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = min(options.ivf_nprobe, ivf.nlist)
    elif method == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = max(options.hnsw_ef_search, options.depth)


def search_record(hits: SearchHits) -> dict[str, Any]:
    """What a result records about a search."""
    return {"method": hits.method, "index_from_cache": hits.index_from_cache, "params": hits.params}
