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

from xmir.errors import XmirError
from xmir.models.spec import OFFLINE_DEFAULT, REGISTRY, parse_model_spec
from xmir.train.plan_dataset import ROW_COLUMN
from xmir.train.strategies import get_strategy

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
        describe(model, metadata, mix)
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


def describe(
    model: SentenceTransformer, metadata: dict[str, Any], mix: dict[str, Any] | None = None
) -> None:
    """Fill sentence-transformers' card data: base model, name, languages, licence, data; the
    dataset summary shows the batch ``mix`` instead of the plan's internal row column."""
    card = model.model_card_data
    licences = metadata["licenses"]["trained_model"]
    base = licences["base_model"]
    exact, words = base_model_words(metadata["model"]["spec"], base)
    if exact and base.get("hub_id"):
        card.base_model = base["hub_id"]
    config = metadata["config"]
    card.model_name = f"{words} fine-tuned with {strategy_words(config)} on {_data_names(licences)}"
    card.language = list(metadata["plan"]["languages"])
    card.license = licences["license"]
    names = [f"{d['dataset']} ({d['license']})" for d in licences["training_data"]]
    entries = card.train_datasets or [{} for _ in names]
    for entry, name in zip(entries, names, strict=False):
        entry["name"] = name
        _drop_row_column(entry, mix)
    card.train_datasets = entries
    card.add_tags(["xmir", "multilingual", f"{config['strategy']}-batches"])


def base_model_words(spec: str, base: dict[str, Any]) -> tuple[bool, str]:
    """Whether the weights trained were exactly the hub model ``base['hub_id']``, and the base
    model in words: ``e5-small-q4, first 1 of 12 layers, dequantized from
    multilingual-e5-small`` for a cut of the offline build."""
    try:
        parsed = parse_model_spec(spec)
    except XmirError:  # a folder moved since: its recorded name
        return True, str(base.get("name") or spec)
    entry = REGISTRY.get(parsed.target) if parsed.kind == "named" else None
    name = str(base.get("name") or spec) if parsed.layers is None else parsed.target
    if parsed.kind == "path":
        name = Path(parsed.target).name
    words = name
    if parsed.layers is not None:
        depth = f" of {entry.layers}" if entry is not None else ""
        words += f", first {parsed.layers}{depth} layers"
    if parsed.target == OFFLINE_DEFAULT:
        words += ", dequantized from multilingual-e5-small"
    return parsed.layers is None and parsed.target != OFFLINE_DEFAULT, words


def _drop_row_column(entry: dict[str, Any], mix: dict[str, Any] | None) -> None:
    """Remove the plan's row index (how xmir checks each step's batch) from a dataset's
    columns, statistics and samples; put the realised batch mix in its place."""
    code = f"<code>{ROW_COLUMN}</code>"
    if code not in entry.get("columns", []):
        return
    entry["columns"] = [column for column in entry["columns"] if column != code]
    entry.get("stats", {}).pop(ROW_COLUMN, None)
    if "_example_columns" in entry:
        entry["_example_columns"] = [c for c in entry["_example_columns"] if c != ROW_COLUMN]
    if isinstance(entry.get("examples"), dict):
        entry["examples"].pop(ROW_COLUMN, None)
    if entry.get("stats_table"):
        entry["stats_table"] = _without_column(entry["stats_table"], ROW_COLUMN)
        if mix is not None:
            entry["stats_table"] += f"* Batch mix: {mix_words(mix)}\n"


def _without_column(table: str, header: str) -> str:
    """A Markdown table without the column titled ``header`` (cells hold no ``|``)."""
    lines = table.rstrip("\n").split("\n")
    cells = [line.split("|") for line in lines]
    titles = [cell.strip() for cell in cells[0]]
    if header not in titles:
        return table
    index = titles.index(header)
    return "\n".join("|".join(row[:index] + row[index + 1 :]) for row in cells) + "\n"


def mix_words(mix: dict[str, Any]) -> str:
    """``12 monolingual and 20 cross-lingual steps (realised alpha 0.375)``; for batches
    that mix both kinds of pair (``mixed``), the monolingual pairs."""
    counts = f"{mix['mono_steps']} monolingual and {mix['cross_steps']} cross-lingual steps"
    if mix.get("mixed_steps"):
        counts = (
            f"{mix['mixed_steps']} steps mixing monolingual and cross-lingual pairs, "
            f"{mix['mono_pairs']} of {mix['pairs']} pairs monolingual"
        )
    return f"{counts} (realised alpha {_share(mix['realised_alpha'])})"


def strategy_words(config: dict[str, Any]) -> str:
    """``hybrid batches (alpha 0.5)``, ``mono batches``, ``cross batches``."""
    takes_alpha = get_strategy(config["strategy"]).takes_alpha
    alpha = f" (alpha {config['alpha']:g})" if takes_alpha else ""
    return f"{config['strategy']} batches{alpha}"


def xmir_section(metadata: dict[str, Any], mix: dict[str, Any]) -> str:
    """Markdown: licences, the xmir hyperparameters and the realised batch mix."""
    config, plan, licences = metadata["config"], metadata["plan"], metadata["licenses"]
    trained = licences["trained_model"]
    lines = [
        SECTION_TITLE,
        "",
        f"Fine-tuned from {base_model_words(metadata['model']['spec'], trained['base_model'])[1]}, "
        f"with xmir "
        f"{metadata['versions'].get('xmir', '')} on {_data_names(trained)} using "
        f"{strategy_words(config)}: {get_strategy(config['strategy']).help}.",
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
        f"{mix_words(mix)}.",
        "",
        "| language | monolingual steps | monolingual pairs |",
        "|---|---|---|",
        *[
            f"| {lang} | {n} | {mix['mono_pairs_per_language'][lang]} |"
            for lang, n in sorted(mix["mono_steps_per_language"].items())
        ],
        "",
    ]
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _data_names(licences: dict[str, Any]) -> str:
    return ", ".join(d["dataset"] for d in licences["training_data"]) or "parallel data"
