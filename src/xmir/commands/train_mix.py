"""``xmir train`` prints the realised batch mix and the zero-shot check (Rich tables)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from xmir.commands.common import console


def print_mix(plan: dict[str, Any]) -> None:
    """The realised batch mix as Rich tables: batch types, then one row per language."""
    mix = plan["realised_mix"]
    overview = Table(title="realised batch mix", caption="realised alpha: monolingual pair share")
    for column in ("steps", "mono", "cross", "mixed", "realised alpha", "global batch", "ranks"):
        overview.add_column(column, justify="right")
    overview.add_row(
        *(str(mix[key]) for key in ("steps", "mono_steps", "cross_steps", "mixed_steps")),
        f"{mix['realised_alpha']:.3f}" if mix["realised_alpha"] is not None else "-",
        str(plan["global_batch_size"]),
        str(plan["world_size"]),
    )
    console.print(overview)
    if mix["mixed_steps"]:  # batches holding both kinds of pair
        console.print(f"{mix['mono_pairs']} of {mix['pairs']} pairs monolingual, the rest cross")
    as_query: dict[str, int] = {}
    as_passage: dict[str, int] = {}
    for pair, count in mix["cross_pairs_per_language_pair"].items():
        query_lang, passage_lang = pair.split("->", 1)
        as_query[query_lang] = as_query.get(query_lang, 0) + count
        as_passage[passage_lang] = as_passage.get(passage_lang, 0) + count
    items = plan["data"]["items_per_language"]
    languages = Table(title="per language")
    columns = ("lang", "items", "mono steps", "mono pairs")
    for column in (*columns, "cross pairs as query", "cross pairs as passage"):
        languages.add_column(column, justify="right" if column != "lang" else "left")
    for lang in plan["languages"]:
        languages.add_row(
            lang,
            str(items.get(lang, 0)),
            str(mix["mono_steps_per_language"].get(lang, 0)),
            str(mix["mono_pairs_per_language"].get(lang, 0)),
            str(as_query.get(lang, 0)),
            str(as_passage.get(lang, 0)),
        )
    console.print(languages)
    overlap = plan["overlap_check"]
    if overlap.get("checked"):
        for report in overlap.get("eval_sets", [overlap]):
            state = "clean" if report["clean"] else "OVERLAP (allowed)"
            titles = report.get("title_matches")
            console.print(
                f"zero-shot check against {report['eval_name']}: {state} "
                f"({report['exact_matches']} exact, {report['normalised_matches']} normalised "
                f"matches; {report.get('ngram_matches', 0)} shared runs of "
                f"{report.get('ngram_words', 8)}+ words; "
                + (
                    f"{titles} shared article titles)"
                    if isinstance(titles, int)
                    else "titles not checked)"
                )
            )
        if overlap.get("dropped_item_ids"):
            console.print(
                f"dropped {overlap['dropped_item_ids']} training item id(s) that share a long run "
                "or an article with an evaluation set (every translation)"
            )
    else:
        console.print(f"zero-shot check: not run ({overlap.get('reason')})")
