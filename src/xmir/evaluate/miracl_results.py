"""The parts of a MIRACL result document built from the per-language outcomes, and the TREC
run files written next to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xmir.data.miracl import MIRACL_VERSION
from xmir.evaluate.bm25 import Bm25Options
from xmir.evaluate.embedding_store import EmbeddingStore
from xmir.evaluate.miracl_inputs import TOPIC_SAMPLE_METHOD, MiraclOptions
from xmir.evaluate.miracl_scoring import DEPTH, METRICS
from xmir.evaluate.result import query_keys
from xmir.io import atomic_write_text


def setting_summary(outcomes: dict[str, dict[str, Any]], system: str) -> dict[str, Any]:
    """Per-language means and their macro average over languages."""
    per_language = {
        lang: {
            **{name: float(np.mean(o[system][name])) for name in METRICS},
            "queries": len(o["qids"]),
        }
        for lang, o in outcomes.items()
    }
    return {
        **{name: float(np.mean([v[name] for v in per_language.values()])) for name in METRICS},
        "queries": sum(v["queries"] for v in per_language.values()),
        "skipped_queries": sum(
            o["counts"]["topics_without_judgements"] + o["counts"]["topics_without_relevant"]
            for o in outcomes.values()
        ),
        "per_language": per_language,
    }


def bm25_block(outcomes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    defaults = Bm25Options()
    return {
        "settings": {"mono": setting_summary(outcomes, "bm25")},
        "parameters": {"k1": defaults.k1, "b": defaults.b, "method": defaults.method},
        "tokenizer": "lowercase \\w+ words, CJK/Thai character bigrams, bm25s stopwords, no stemming",
        "index_from_cache": {lang: o["bm25_index_from_cache"] for lang, o in outcomes.items()},
    }


def per_query_table(outcomes: dict[str, dict[str, Any]], with_bm25: bool) -> dict[str, Any]:
    languages = [lang for lang, o in outcomes.items() for _ in o["qids"]]
    keys = query_keys([q for o in outcomes.values() for q in o["qids"]], languages)
    table: dict[str, Any] = {"keys": keys}
    systems = ("dense", "bm25") if with_bm25 else ("dense",)
    for system in systems:
        for name in METRICS:
            column = name if system == "dense" else f"bm25_{name}"
            table[column] = [round(float(v), 6) for o in outcomes.values() for v in o[system][name]]
    return table


def dataset_record(outcomes: dict[str, dict[str, Any]], options: MiraclOptions) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": "miracl",
        "version": MIRACL_VERSION,
        "split": "dev",
        "languages": list(outcomes),
        "judgements": {lang: o["judgements"] for lang, o in outcomes.items()},
        "corpus": {lang: o["corpus"] for lang, o in outcomes.items()},
        "passage_text": "title text" if options.with_title else "text",
        "depth": DEPTH,
    }
    if options.max_topics is not None:
        record["topic_sample"] = {
            "method": TOPIC_SAMPLE_METHOD,
            "max_topics": options.max_topics,
            "seed": options.seed,
            "per_language": {
                lang: {
                    "evaluable_topics": o["counts"]["queries"] + o["counts"]["topics_not_sampled"],
                    "sampled_topics": o["counts"]["queries"],
                }
                for lang, o in outcomes.items()
            },
        }
    return record


def write_trec_run(
    run_dir: Path | None,
    lang: str,
    system: str,
    store: EmbeddingStore,
    qids: list[str],
    rows: np.ndarray,
    scores: np.ndarray,
) -> None:
    """A TREC run file ``miracl-{lang}-{system}.trec`` (``qid Q0 docid rank score tag``)."""
    if run_dir is None:
        return
    lines = []
    for qid, q_rows, q_scores in zip(qids, rows, scores, strict=True):
        valid = q_rows >= 0
        docids = store.docids_at(q_rows[valid])
        for rank, (docid, score) in enumerate(zip(docids, q_scores[valid], strict=True), start=1):
            lines.append(f"{qid} Q0 {docid} {rank} {float(score):.6f} xmir-{system}\n")
    atomic_write_text(Path(run_dir) / f"miracl-{lang}-{system}.trec", "".join(lines))
