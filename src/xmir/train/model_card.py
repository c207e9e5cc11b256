"""The model card of a model xmir trained: sentence-transformers' own card (``README.md``),
told what xmir knows, followed by an xmir section.

sentence-transformers writes the card when the model is saved: base model, training data,
licence, languages, the Trainer's hyperparameters and loss log. xmir fills in what the
Trainer cannot know (the base model behind a local build, the data's names and licences) and
appends the batch strategy, its hyperparameters and the realised batch mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

SECTION_TITLE = "## Training with xmir"


def save_with_card(
    model: SentenceTransformer, folder: Path, metadata: dict[str, Any], mix: dict[str, Any]
) -> None:
    """``model.save`` with its model card, described by the run ``metadata`` and the realised
    batch ``mix`` of the saved weights."""
    set_usage_prompts(model, metadata["model"])
    with _quiet_card(model):
        describe(model, metadata)
        model.save(str(folder), create_model_card=True)
    readme = Path(folder) / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    readme.write_text(text.rstrip("\n") + "\n\n" + xmir_section(metadata, mix), encoding="utf-8")


def set_usage_prompts(model: SentenceTransformer, record: dict[str, Any]) -> None:
    """Give ``encode_query`` and ``encode_document`` the prefixes the model was trained and is
    evaluated with: sentence-transformers otherwise adds an empty ``document`` prompt, which
    ``encode_document`` prefers to ``passage``."""
    query, passage = record.get("query_prefix") or "", record.get("passage_prefix") or ""
    model.prompts.update(query=query, document=passage)
    if passage:
        model.prompts["passage"] = passage


@contextmanager
def _quiet_card(model: SentenceTransformer) -> Iterator[None]:
    """While saving: no hub look-ups and no example encodings (a snapshot is saved in the
    middle of training); the Trainer's own checkpoint saves keep their settings."""
    card = model.model_card_data
    before = (card.local_files_only, card.generate_widget_examples)
    card.local_files_only, card.generate_widget_examples = True, False
    try:
        yield
    finally:
        card.local_files_only, card.generate_widget_examples = before


def describe(model: SentenceTransformer, metadata: dict[str, Any]) -> None:
    """Fill sentence-transformers' card data: base model, name, languages, licence, data."""
    card = model.model_card_data
    licences = metadata["licenses"]["trained_model"]
    base = licences["base_model"]
    if base.get("hub_id"):
        card.base_model = base["hub_id"]
    config = metadata["config"]
    card.model_name = (
        f"{base['name']} fine-tuned with {strategy_words(config)} on {_data_names(licences)}"
    )
    card.language = list(metadata["plan"]["languages"])
    card.license = licences["license"]
    names = [f"{d['dataset']} ({d['license']})" for d in licences["training_data"]]
    entries = card.train_datasets or [{} for _ in names]
    for entry, name in zip(entries, names, strict=False):
        entry["name"] = name
    card.train_datasets = entries
    card.add_tags(["xmir", "multilingual", f"{config['strategy']}-batches"])


def strategy_words(config: dict[str, Any]) -> str:
    """``hybrid batches (alpha 0.5)``, ``mono batches``, ``cross batches``."""
    alpha = f" (alpha {config['alpha']:g})" if config["strategy"] == "hybrid" else ""
    return f"{config['strategy']} batches{alpha}"


def xmir_section(metadata: dict[str, Any], mix: dict[str, Any]) -> str:
    """Markdown: licences, the xmir hyperparameters and the realised batch mix."""
    config, plan, licences = metadata["config"], metadata["plan"], metadata["licenses"]
    trained = licences["trained_model"]
    lines = [
        SECTION_TITLE,
        "",
        f"Fine-tuned from `{trained['base_model']['name']}` with xmir "
        f"{metadata['versions'].get('xmir', '')} on {_data_names(trained)} using "
        f"{strategy_words(config)}: every batch is monolingual (all pairs in one language) "
        "or cross-lingual (query and passage in different languages).",
        "",
        "### Licences",
        "",
        f"- This model: **{trained['license']}** ({trained['terms']}).",
        *[f"- Training data {d['dataset']}: {d['terms']}" for d in trained["training_data"]],
        "",
        "### Hyperparameters",
        "",
        "| setting | value |",
        "|---|---|",
        *[
            f"| {name} | {value} |"
            for name, value in (
                ("strategy", strategy_words(config)),
                ("global batch (pairs per step)", plan["global_batch_size"]),
                ("steps", mix["steps"]),
                ("learning rate", config["lr"]),
                ("schedule", metadata["optimizer"]["schedule"]),
                ("warmup steps", metadata["optimizer"]["warmup_steps"]),
                ("temperature (loss scale 1/T)", config["temperature"]),
                ("loss", metadata["loss"]["name"]),
                ("seed", config["seed"]),
                ("frozen word embeddings", config["freeze_embeddings"]),
            )
        ],
        "",
        "### Realised batch mix",
        "",
        f"{mix['mono_steps']} monolingual and {mix['cross_steps']} cross-lingual steps "
        f"(realised alpha {_share(mix['realised_alpha'])}).",
        "",
        "| language | monolingual steps |",
        "|---|---|",
        *[f"| {lang} | {n} |" for lang, n in sorted(mix["mono_steps_per_language"].items())],
        "",
    ]
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _data_names(licences: dict[str, Any]) -> str:
    return ", ".join(d["dataset"] for d in licences["training_data"]) or "parallel data"
