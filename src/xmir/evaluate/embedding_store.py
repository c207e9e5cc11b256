"""Passage embeddings of a whole corpus on disk: memory-mapped, resumable, verified by hash.

One cache entry per (model weights, module configuration, corpus content, prefix, max length,
dtype, text format):
``<cache>/corpus-embeddings/<key>/`` holds

- ``key.json``: what the entry was built from (checked on every open),
- ``embeddings.bin``: ``rows x dim`` float16/float32, C order (opened with ``np.memmap``),
- ``docids.bin`` / ``offsets.bin``: each row's docid, newline-terminated UTF-8, and the int64
  end offset of each row's docid (row -> docid in O(1)),
- ``progress.json``: rows written so far and the SHA-256 of every finished chunk (embedding,
  docid and offset bytes); written atomically after the data files are synced,
- ``complete.json``: present once every passage is encoded.

Encoding appends one chunk at a time, so memory holds one chunk, and an interrupted run
resumes after the last finished chunk. Opening re-hashes every chunk: an entry whose bytes or
key do not match is rebuilt (from the first bad chunk when it is unfinished), never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from tqdm.auto import tqdm

from xmir.data.miracl_corpus import CorpusShards
from xmir.errors import XmirError
from xmir.io import atomic_write_json
from xmir.paths import cache_dir
from xmir.provenance import utc_now

logger = logging.getLogger(__name__)

STORE_FORMAT = 1
EMBEDDING_DTYPES = ("float16", "float32")
DATA_FILES = ("embeddings.bin", "docids.bin", "offsets.bin")
PassageEncodeFn = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class EncodingKey:
    """Everything the stored embeddings depend on; its digest names the cache entry."""

    weights_sha256: str
    corpus_sha256: str
    prefix: str
    max_seq_length: int
    dtype: str
    with_title: bool
    modules_sha256: str = ""  # pooling, normalisation, prompts, tokenizer (module_config)

    def digest(self) -> str:
        payload = json.dumps({"format": STORE_FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CacheStatus:
    """How an :class:`EmbeddingStore` was obtained."""

    from_cache: bool
    resumed_at_row: int
    rebuilt_reason: str | None


@dataclass(frozen=True)
class EmbeddingStore:
    """A finished, verified cache entry: ``embeddings`` is a read-only memmap."""

    folder: Path
    key: EncodingKey
    embeddings: np.ndarray
    chunk_digests: tuple[str, ...]

    @property
    def rows(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def content_digest(self) -> str:
        """SHA-256 over the chunk digests: names these exact embeddings (for derived indexes)."""
        return hashlib.sha256("".join(self.chunk_digests).encode()).hexdigest()

    def docids_at(self, rows: np.ndarray) -> list[str]:
        """The docid of each row index."""
        offsets = _offsets(self.folder, self.rows)
        blob = np.memmap(self.folder / "docids.bin", dtype=np.uint8, mode="r")
        out = []
        for row in np.asarray(rows, dtype=np.int64).ravel():
            start = int(offsets[row - 1]) if row > 0 else 0
            out.append(bytes(blob[start : int(offsets[row]) - 1]).decode("utf-8"))
        return out

    def find_rows(self, docids: set[str], block_rows: int = 1 << 20) -> dict[str, int]:
        """Row of each of ``docids`` present in the corpus (first occurrence); absent ones are left out.

        Scans the docid file ``block_rows`` rows at a time, so memory stays bounded.
        """
        found: dict[str, int] = {}
        offsets = _offsets(self.folder, self.rows)
        with open(self.folder / "docids.bin", "rb") as handle:
            for lo in range(0, self.rows, block_rows):
                hi = min(lo + block_rows, self.rows)
                start = int(offsets[lo - 1]) if lo > 0 else 0
                handle.seek(start)
                names = handle.read(int(offsets[hi - 1]) - start).decode("utf-8").split("\n")
                for index, name in enumerate(names[: hi - lo]):
                    if name in docids and name not in found:
                        found[name] = lo + index
        return found


def open_or_encode(
    encode: PassageEncodeFn,
    shards: CorpusShards,
    key: EncodingKey,
    *,
    chunk_rows: int = 16384,
    root: Path | None = None,
    use_cache: bool = True,
    show_progress: bool = True,
) -> tuple[EmbeddingStore, CacheStatus]:
    """The verified embeddings of ``shards`` under ``key``: reused, resumed or encoded.

    ``encode`` maps passage texts to L2-normalised float32 embeddings (one row per text).
    """
    if key.dtype not in EMBEDDING_DTYPES:
        raise XmirError(
            f"embedding dtype {key.dtype!r} is not one of {', '.join(EMBEDDING_DTYPES)}"
        )
    folder = (root or cache_dir() / "corpus-embeddings") / key.digest()
    reason: str | None = None
    if not use_cache:
        shutil.rmtree(folder, ignore_errors=True)
    elif (folder / "complete.json").is_file():
        store, reason = _verified_store(folder, key)
        if store is not None:
            return store, CacheStatus(True, 0, None)
        logger.warning("embedding cache %s is unusable (%s); rebuilding it", folder, reason)
        (folder / "complete.json").unlink()
    start_row, chunks, why = _resumable_prefix(folder, key)
    reason = reason or why
    if reason:
        logger.warning("embedding cache %s: %s; encoding from row %d", folder, reason, start_row)
    _encode_into(encode, shards, key, folder, start_row, chunks, chunk_rows, show_progress)
    store, problem = _verified_store(folder, key)
    if store is None:
        raise XmirError(
            f"embedding cache {folder} failed verification right after writing ({problem})"
        )
    return store, CacheStatus(False, start_row, reason)


def _encode_into(
    encode: PassageEncodeFn,
    shards: CorpusShards,
    key: EncodingKey,
    folder: Path,
    start_row: int,
    chunks: list[dict[str, Any]],
    chunk_rows: int,
    show_progress: bool,
) -> None:
    """Append chunks after ``start_row``, checkpointing ``progress.json`` after each one."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "key.json", {"format": STORE_FORMAT, **asdict(key)})
    rows, docid_end = start_row, _docid_bytes(folder, start_row)
    _truncate(folder, key, start_row, docid_end, chunks)
    if not chunks:
        atomic_write_json(folder / "progress.json", {"rows": 0, "dim": None, "chunks": []})
    bar = tqdm(
        total=None, initial=rows, unit="passage", desc=f"encode {shards.language}",
        disable=not show_progress,
    )  # fmt: skip
    dim = chunks[0]["dim"] if chunks else None
    with _appenders(folder) as (emb_out, ids_out, off_out):
        for batch in shards.iter_batches(chunk_rows, skip=start_row):
            vectors = np.ascontiguousarray(encode(batch.passages(key.with_title)), dtype=key.dtype)
            if vectors.ndim != 2 or len(vectors) != len(batch):
                raise XmirError(
                    f"the encoder returned shape {vectors.shape} for {len(batch)} passages"
                )
            if dim is not None and vectors.shape[1] != dim:
                raise XmirError(
                    f"embedding size changed from {dim} to {vectors.shape[1]} mid-corpus"
                )
            dim = int(vectors.shape[1])
            names = "".join(f"{d}\n" for d in batch.docids).encode("utf-8")
            ends = docid_end + np.cumsum([len(d.encode("utf-8")) + 1 for d in batch.docids])
            parts = (vectors.tobytes(), names, ends.astype(np.int64).tobytes())
            for handle, part in zip((emb_out, ids_out, off_out), parts, strict=True):
                handle.write(part)
                handle.flush()
            for handle in (emb_out, ids_out, off_out):
                _fsync(handle)
            rows, docid_end = rows + len(batch), int(ends[-1])
            chunks.append({"rows": len(batch), "dim": dim, "sha256": _chunk_digest(parts)})
            atomic_write_json(
                folder / "progress.json", {"rows": rows, "dim": dim, "chunks": chunks}
            )
            bar.update(len(batch))
    bar.close()
    if rows == 0:
        raise XmirError(f"corpus {shards.root} ({shards.language}) holds no passages")
    atomic_write_json(
        folder / "complete.json",
        {
            "rows": rows,
            "dim": dim,
            "dtype": key.dtype,
            "chunks": len(chunks),
            "finished": utc_now(),
        },
    )


def _resumable_prefix(
    folder: Path, key: EncodingKey
) -> tuple[int, list[dict[str, Any]], str | None]:
    """Rows and chunks of an unfinished entry that still verify; the reason when some do not."""
    progress = _read_json(folder / "progress.json")
    if progress is None:
        return 0, [], None
    if _read_json(folder / "key.json") != {"format": STORE_FORMAT, **asdict(key)}:
        return 0, [], "its key.json does not match this model/corpus"
    good, why = _verified_chunks(folder, progress.get("chunks", []), key.dtype)
    return sum(c["rows"] for c in good), good, why


def _verified_store(folder: Path, key: EncodingKey) -> tuple[EmbeddingStore | None, str | None]:
    """The entry as a store when its key and every chunk hash match, else the reason."""
    if _read_json(folder / "key.json") != {"format": STORE_FORMAT, **asdict(key)}:
        return None, "key.json does not match this model/corpus (stale entry)"
    progress, complete = _read_json(folder / "progress.json"), _read_json(folder / "complete.json")
    if progress is None or complete is None or complete.get("rows") != progress.get("rows"):
        return None, "progress.json and complete.json disagree"
    chunks = progress.get("chunks", [])
    good, why = _verified_chunks(folder, chunks, key.dtype)
    if why or len(good) != len(chunks):
        return None, why or "chunk list incomplete"
    rows, dim = int(progress["rows"]), int(progress["dim"])
    embeddings = np.memmap(folder / "embeddings.bin", dtype=key.dtype, mode="r", shape=(rows, dim))
    return EmbeddingStore(folder, key, embeddings, tuple(c["sha256"] for c in chunks)), None


def _verified_chunks(
    folder: Path, chunks: list[dict[str, Any]], dtype: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The leading chunks whose bytes hash to their recorded digest."""
    itemsize = np.dtype(dtype).itemsize
    good: list[dict[str, Any]] = []
    paths = [folder / n for n in DATA_FILES]
    if not all(p.is_file() for p in paths):
        return good, "data files missing" if chunks else None
    previous_end = 0
    with open(paths[0], "rb") as emb, open(paths[1], "rb") as ids, open(paths[2], "rb") as off:
        for index, chunk in enumerate(chunks):
            offsets_bytes = off.read(8 * chunk["rows"])
            ends = np.frombuffer(offsets_bytes, dtype=np.int64)
            if len(ends) != chunk["rows"]:
                return good, f"offsets file ends inside chunk {index}"
            parts = (
                emb.read(chunk["rows"] * chunk["dim"] * itemsize),
                ids.read(max(int(ends[-1]) - previous_end, 0)),
                offsets_bytes,
            )
            if _chunk_digest(parts) != chunk["sha256"]:
                return good, f"chunk {index} does not match its SHA-256 (corrupt or truncated)"
            good.append(chunk)
            previous_end = int(ends[-1])
    return good, None


def _chunk_digest(parts: tuple[bytes, ...]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def _truncate(
    folder: Path, key: EncodingKey, rows: int, docid_end: int, chunks: list[dict[str, Any]]
) -> None:
    """Cut the data files back to the verified prefix (drops a half-written chunk)."""
    dim = chunks[0]["dim"] if chunks else 0
    sizes = {
        "embeddings.bin": rows * dim * np.dtype(key.dtype).itemsize,
        "docids.bin": docid_end,
        "offsets.bin": rows * 8,
    }
    for name, size in sizes.items():
        path = folder / name
        with open(path, "ab") as handle:
            handle.truncate(size)


def _docid_bytes(folder: Path, rows: int) -> int:
    if rows == 0:
        return 0
    return int(np.memmap(folder / "offsets.bin", dtype=np.int64, mode="r", shape=(rows,))[-1])


def _offsets(folder: Path, rows: int) -> np.ndarray:
    return np.memmap(folder / "offsets.bin", dtype=np.int64, mode="r", shape=(rows,))


@contextmanager
def _appenders(folder: Path) -> Iterator[tuple[BinaryIO, ...]]:
    """The three data files opened for appending."""
    with ExitStack() as stack:
        yield tuple(stack.enter_context(open(folder / n, "ab")) for n in DATA_FILES)


def _fsync(handle: BinaryIO) -> None:
    os.fsync(handle.fileno())


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def iter_blocks(embeddings: np.ndarray, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first_row, float32 copy)`` of consecutive row blocks of a (memory-mapped) matrix."""
    for lo in range(0, len(embeddings), block_rows):
        yield lo, np.asarray(embeddings[lo : lo + block_rows], dtype=np.float32)
