"""The licences of the data and weights xmir works with, for every result and trained model.

Licences are named as the Hugging Face hub names them (``cc-by-nc-4.0``). A model trained on
data with a non-commercial or share-alike licence is reported with those terms: the weights
of its base model may be MIT, but MLQA-R's CC BY-NC 4.0 restricts what it may be used for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from xmir.data.datasets import find_dataset
from xmir.paths import TRAIN_RECORD_FILE
from xmir.records import read_json_object


@dataclass(frozen=True)
class License:
    """A licence and what it asks of the user, in a few words."""

    license: str
    terms: str

    @property
    def non_commercial(self) -> bool:
        return "-nc" in self.license

    @property
    def share_alike(self) -> bool:
        return "-sa" in self.license


UNKNOWN = License("unknown", "not known to xmir: see the licence that came with it")


def data_license(name: str) -> License:
    """The licence of a named dataset (``mlqa-r``; a LAReQA folder by its name), else unknown."""
    entry = find_dataset(Path(name).name)
    return UNKNOWN if entry is None else License(entry.license, entry.license_terms)


def model_license(spec_kind: str, license_id: str | None, folder: Path | None) -> dict[str, Any]:
    """The licence record of a model's weights: a registry licence, the record a fine-tuned
    xmir model carries in its ``xmir-train.json``, the ``license`` of a model card, or
    unknown."""
    if license_id:
        return {"license": license_id, "terms": f"weights: {license_id}"}
    if folder is not None:
        trained = _trained_model_licence(folder / TRAIN_RECORD_FILE)
        if trained is not None:
            return trained
        card = _card_licence(folder / "README.md")
        if card is not None:
            return {"license": card, "terms": f"weights: {card} (from the model card)"}
    return {**asdict(UNKNOWN), "note": f"{spec_kind} model"}


def trained_model_licence(base: dict[str, Any], data: list[str]) -> dict[str, Any]:
    """What applies to weights fine-tuned from ``base`` on the datasets ``data``: the base
    model's licence plus the terms of every training set; the card licence is the most
    restrictive of them (non-commercial, then share-alike, then the base model's)."""
    licences = [data_license(name) for name in data]
    restrictive = [lic for lic in licences if lic.non_commercial] or [
        lic for lic in licences if lic.share_alike
    ]
    if restrictive:
        card = restrictive[0].license
    elif any(lic.license == "unknown" for lic in licences):
        card = "other"
    else:
        card = base.get("license") or "other"
    return {
        "license": card,
        "terms": "; ".join(
            [
                f"base model weights: {base.get('license', 'unknown')}",
                *(lic.terms for lic in licences),
            ]
        ),
        "base_model": base,
        "training_data": [{"dataset": name, **asdict(data_license(name))} for name in data],
    }


def evaluation_licenses(dataset: str, model: dict[str, Any]) -> dict[str, Any]:
    """The ``licenses`` block of an evaluation result."""
    return {
        "data": {"dataset": dataset, **asdict(data_license(dataset))},
        "model": model,
        "note": "the scores are facts about the model; the data's licence governs any use "
        "or redistribution of the data itself",
    }


def _trained_model_licence(path: Path) -> dict[str, Any] | None:
    record = read_json_object(path) if path.is_file() else None
    licences = record.get("licenses") if record is not None else None
    trained = licences.get("trained_model") if isinstance(licences, dict) else None
    return trained if isinstance(trained, dict) else None


def _card_licence(path: Path) -> str | None:
    """The ``license:`` of a model card's YAML header."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if not text.startswith("---"):
        return None
    header = text[3:].split("\n---", 1)[0]
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError:
        return None
    value = meta.get("license") if isinstance(meta, dict) else None
    return str(value) if value else None
