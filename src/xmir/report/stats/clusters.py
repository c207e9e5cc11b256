"""Which question ids belong together: the clusters that question ids are resampled in.

The questions of one paragraph share their candidate sentences, so their APs are not
independent; the report treats paragraphs as the sampling unit. The paragraph of a question id
comes from the evaluation document (``per_query.paragraphs``, aligned with ``per_query.keys``)
when it records one, else from the evaluated dataset's files when the very files the evaluation
read (same SHA-256) are at hand; otherwise each question id is its own cluster, and the report
says so.
"""

from __future__ import annotations

from functools import lru_cache

from xmir.data.lareqa import question_paragraphs
from xmir.data.sources import LAREQA_SOURCES
from xmir.evaluate.result import EvalResult, PerQuery

PARAGRAPHS = "paragraphs"
QUESTION_IDS = "question ids"


def cluster_map(document: EvalResult) -> tuple[dict[str, str], str]:
    """(question id -> cluster, kind) for one evaluation document; kind is ``paragraphs`` or
    ``question ids`` (each question id alone)."""
    per_query = document.per_query or PerQuery()
    keys = per_query.query_keys()
    recorded = per_query.paragraphs
    if recorded and len(recorded) == len(keys):
        return {k.query_id: str(p) for k, p in zip(keys, recorded, strict=True)}, PARAGRAPHS
    dataset = document.dataset
    name = dataset.name
    found = None
    if name in LAREQA_SOURCES and dataset.files_sha256 and dataset.languages:
        found = _from_files(
            name,
            tuple(dataset.languages),
            tuple(sorted(dataset.files_sha256.items())),
        )
    qids = {k.query_id for k in keys}
    if found is not None and qids <= set(found):
        return {q: found[q] for q in qids}, PARAGRAPHS
    return {q: q for q in qids}, QUESTION_IDS


@lru_cache(maxsize=8)
def _from_files(
    name: str, languages: tuple[str, ...], files: tuple[tuple[str, str], ...]
) -> dict[str, str] | None:
    return question_paragraphs(name, languages, dict(files))
