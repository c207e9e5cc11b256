"""Write a sentence-transformers model folder: transformer + mean pooling + L2 normalisation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel

E5_PROMPTS: dict[str, str] = {"query": "query: ", "passage": "passage: "}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model")


def save_sentence_transformer(
    model: PreTrainedModel,
    tokenizer_dir: Path,
    target_dir: Path,
    *,
    max_seq_length: int,
    prompts: dict[str, str] | None = None,
    readme: str | None = None,
) -> Path:
    """Save ``model`` with the tokenizer in ``tokenizer_dir`` as a sentence-transformers folder.

    The folder holds the transformers model at its root (so ``AutoModel`` loads it too), a mean
    pooling and a Normalize module, and the prompts in ``config_sentence_transformers.json``.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target_dir))
    for name in TOKENIZER_FILES:
        source = Path(tokenizer_dir) / name
        if source.is_file():
            shutil.copyfile(source, target_dir / name)

    transformer = Transformer(str(target_dir), max_seq_length=max_seq_length)
    pooling = Pooling(model.config.hidden_size, pooling_mode="mean")
    encoder = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        prompts=dict(prompts if prompts is not None else E5_PROMPTS),
        similarity_fn_name="cosine",
        device="cpu",
    )
    encoder.save(str(target_dir), create_model_card=False)
    if readme is not None:
        (target_dir / "README.md").write_text(readme, encoding="utf-8")
    return target_dir
