"""The E5S1 reader: header, vocabulary and Q4_0 dequantization."""

from __future__ import annotations

import numpy as np
import pytest

from xmir.errors import XmirError
from xmir.models.e5s1 import Q4_BLOCK_BYTES, dequantize_q4_0, read_e5s1


@pytest.fixture(scope="module")
def e5s1():
    return read_e5s1()


def test_header_describes_multilingual_e5_small(e5s1) -> None:
    header = e5s1.header
    assert (header.hidden, header.layers, header.heads, header.intermediate) == (384, 12, 12, 1536)
    assert (header.vocab_size, header.max_positions, header.type_vocab_size) == (250037, 512, 2)
    assert header.quant_block == 32
    assert header.layer_norm_eps == pytest.approx(1e-12)


def test_vocabulary_is_xlmr_layout(e5s1) -> None:
    vocab = e5s1.vocab
    assert len(vocab.pieces) == 250002
    assert vocab.pieces[:7] == ["<s>", "<pad>", "</s>", "<unk>", ",", ".", "▁"]
    assert vocab.pieces[-1] == "<mask>"
    assert (vocab.bos_id, vocab.pad_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
    assert vocab.scores.shape == (250002,)
    assert np.all(vocab.scores[4:-1] < 0)


def test_tensor_directory_maps_every_bert_weight(e5s1) -> None:
    per_layer = {"q", "k", "v", "ao", "fi", "fo", "aln", "oln"}
    expected = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"}
    expected |= {
        f"l{layer}.{part}.{wb}" for layer in range(12) for part in per_layer for wb in "wb"
    }
    assert set(e5s1.tensors) == expected
    assert e5s1.tensors["emb.word"].nbytes == 250037 * (384 // 32) * Q4_BLOCK_BYTES


def test_dequantize_matches_scalar_definition() -> None:
    rng = np.random.default_rng(0)
    rows, cols = 3, 64
    scales = rng.normal(size=rows * cols // 32).astype(np.float16)
    nibbles = rng.integers(0, 16, size=(rows * cols // 32, 32), dtype=np.uint8)
    raw = bytearray()
    for scale, block in zip(scales, nibbles, strict=True):
        raw += scale.tobytes()
        raw += bytes((block[i] | (block[i + 16] << 4)) for i in range(16))
    expected = np.array(
        [(int(n) - 8) * float(s) for s, block in zip(scales, nibbles, strict=True) for n in block],
        dtype=np.float32,
    ).reshape(rows, cols)
    np.testing.assert_array_equal(dequantize_q4_0(bytes(raw), (rows, cols)), expected)


def test_reading_a_tensor_with_wrong_shape_fails(e5s1) -> None:
    with pytest.raises(XmirError, match=r"l0\.q\.b"):
        e5s1.tensor("l0.q.b", (385,))


def test_not_an_e5s1_file(tmp_path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(XmirError, match="not an E5S1 file"):
        read_e5s1(bogus)
