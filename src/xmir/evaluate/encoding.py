"""Encode texts once (deduplicated), optionally reusing a cache keyed by the exact encoder.

The key covers everything that shapes an embedding: the weights, and besides them the module
configuration (pooling mode, normalisation, every module's settings), the prompts, the
truncation length, the tokenizer and the backbone's config; so a change of pooling or
normalisation never reuses stale embeddings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xmir.models.combined import ScoreEnsemble
from xmir.paths import cache_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def encode_texts(
    model: SentenceTransformer,
    texts: list[str],
    *,
    prefix: str,
    batch_size: int = 64,
    show_progress: bool = True,
) -> np.ndarray:
    """L2-normalised float32 embeddings of ``prefix + text`` for each text (each unique text once)."""
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    embeddings = model.encode(
        [str(t) for t in unique],
        prompt=prefix or None,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(embeddings, dtype=np.float32)[inverse.reshape(-1)]


class EncodingProgress:
    """One labelled progress bar, with its ETA, over every text an evaluation encodes.

    A forward hook on the model's last module counts each batch it encodes, so the embeddings
    are computed exactly as without the bar; texts served from the cache are counted with :meth:`skip`.
    """

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def skip(self, count: int) -> None:
        """Count ``count`` texts that needed no encoding (cached)."""
        if self.bar is not None:
            self.bar.update(count)


@contextmanager
def encoding_progress(
    model: SentenceTransformer, total: int, label: str, *, enabled: bool = True
) -> Iterator[EncodingProgress]:
    """A bar titled ``label`` over ``total`` texts while ``model`` encodes inside the block."""
    if not enabled:
        yield EncodingProgress(None)
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=label, unit="text", dynamic_ncols=True)

    def count(module: Any, inputs: Any, output: Any) -> None:
        get = getattr(output, "get", None)  # a dict or the tokenizer's BatchEncoding
        embeddings = get("sentence_embedding") if callable(get) else None
        if embeddings is not None:
            bar.update(int(embeddings.shape[0]))

    # The last module sees every batch once (an ensemble: its first member's, once per text).
    last = model.first[-1] if isinstance(model, ScoreEnsemble) else model[-1]
    hook = last.register_forward_hook(count)
    try:
        yield EncodingProgress(bar)
    finally:
        hook.remove()
        bar.close()


def unique_count(texts: list[str]) -> int:
    """How many distinct texts :func:`encode_texts` encodes."""
    return len(set(texts))


def module_config(model: Any) -> dict[str, Any]:
    """What shapes ``model``'s embeddings besides its weights: each module's type and
    settings (pooling mode, normalisation, ...), the prompts, the tokenizer and the backbone
    config (paths and versions left out, so a copy of a model keeps its key)."""
    children = model.named_children() if hasattr(model, "named_children") else []
    return {
        "modules": [
            {
                "name": name,
                "type": f"{type(module).__module__}.{type(module).__qualname__}",
                "config": module.get_config_dict() if hasattr(module, "get_config_dict") else None,
            }
            for name, module in children
        ],
        "prompts": dict(getattr(model, "prompts", None) or {}),
        "default_prompt_name": getattr(model, "default_prompt_name", None),
        "tokenizer": _tokenizer_digest(getattr(model, "tokenizer", None)),
        "backbone": _backbone_config(getattr(model, "transformers_model", None)),
    }


def module_config_sha256(model: Any) -> str:
    """SHA-256 of :func:`module_config` (canonical JSON)."""
    payload = json.dumps(module_config(model), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


_PATH_KEYS = frozenset({"_name_or_path", "name_or_path", "transformers_version", "_commit_hash"})


def _backbone_config(backbone: Any) -> dict[str, Any] | None:
    config = getattr(backbone, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        return None
    return {k: v for k, v in config.to_dict().items() if k not in _PATH_KEYS}


def _tokenizer_digest(tokenizer: Any) -> str | None:
    """A hash of the tokenizer's full definition (vocabulary, normaliser, special tokens)."""
    if tokenizer is None:
        return None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # From "added_tokens" on: the truncation and padding settings before it change with
        # each encode call, the definition does not (a different layout only costs reuse).
        definition = backend.to_str()
        definition = definition[max(definition.find('"added_tokens"'), 0) :]
    else:
        vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
        definition = json.dumps([type(tokenizer).__name__, sorted(vocab.items())], default=str)
    return hashlib.sha256(definition.encode()).hexdigest()


def embedding_cache_key(
    weights_sha256: str,
    prefix: str,
    max_seq_length: int,
    texts: list[str],
    modules_sha256: str = "",
) -> str:
    """A key that changes with the weights, the module configuration (see
    :func:`module_config`), the prefix, the truncation length or any text."""
    digest = hashlib.sha256()
    digest.update(json.dumps([weights_sha256, prefix, max_seq_length, modules_sha256]).encode())
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def cached_encode(
    model: SentenceTransformer,
    texts: list[str],
    *,
    prefix: str,
    weights_sha256: str,
    batch_size: int = 64,
    show_progress: bool = True,
    use_cache: bool = True,
) -> tuple[np.ndarray, bool]:
    """Embeddings of ``texts``, from the cache when this exact encoder (weights and module
    configuration) encoded them before.

    Returns the embeddings and whether they came from the cache. A cache file that fails to
    load or has the wrong shape is re-encoded and overwritten, never trusted. A score
    ensemble (:class:`xmir.models.combined.ScoreEnsemble`) encodes through each member, so
    members evaluated before cost nothing.
    """
    if isinstance(model, ScoreEnsemble):
        parts = [
            cached_encode(
                member, texts, prefix=prefix, weights_sha256=sha, batch_size=batch_size,
                show_progress=show_progress, use_cache=use_cache,
            )
            for member, sha in zip((model.first, model.second), model.member_hashes, strict=True)
        ]  # fmt: skip
        return model.combine(parts[0][0], parts[1][0]), parts[0][1] and parts[1][1]
    key = embedding_cache_key(
        weights_sha256,
        prefix,
        int(model.max_seq_length or 0),
        texts,
        module_config_sha256(model),
    )
    path = cache_dir() / "embeddings" / f"{key}.npy"
    if use_cache and path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape[0] == len(texts):
                return cached, True
        except (OSError, ValueError):
            pass
    embeddings = encode_texts(
        model, texts, prefix=prefix, batch_size=batch_size, show_progress=show_progress
    )
    if use_cache:
        _atomic_save(path, embeddings)
    return embeddings, False


def _atomic_save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.npy")
    np.save(tmp, array, allow_pickle=False)
    tmp.replace(path)
