"""mMARCO-style local folders (queries and a passage collection per language) as parallel pairs.

Query and passage ids are shared by all languages, so an item id is one query in every
translation. :mod:`xmir.data.mmarco_hub` fetches the hub copy into this layout.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from xmir.data.pairs import ParallelData, ParallelItem, select_pair_languages, unique_items
from xmir.errors import XmirError
from xmir.io import file_sha256


def read_mmarco_dir(path: Path, *, languages: list[str] | None = None) -> ParallelData:
    """mMARCO-style folders, parallel by query and passage id::

        qrels.tsv[.gz]            qid<TAB>pid  or TREC "qid 0 pid rel" (shared by languages)
        triples.tsv[.gz]          optional: qid<TAB>positive pid<TAB>negative pid
        <lang>/queries.tsv[.gz]   qid<TAB>query
        <lang>/collection.tsv[.gz] pid<TAB>passage

    A ``<lang>/qrels.tsv`` overrides the shared one. The positive of a query is its first
    relevant passage (file order); the hard negative is the negative of the query's first
    triple. Without any qrels file the positive is that first triple's positive (MS MARCO's
    training triples pair each query with a judged-relevant passage). Only the passages that
    are needed are kept in memory.
    """
    if not path.is_dir():
        raise XmirError(f"{path}: not a folder; mMARCO data is a folder with <lang>/queries.tsv")
    available = sorted(p.parent.name for p in path.glob("*/queries.tsv*"))
    chosen = select_pair_languages(available, languages, path)
    hashes: dict[str, str] = {}
    shared_qrels = _optional_file(path, "qrels.tsv")
    triples_file = _optional_file(path, "triples.tsv")
    triple_positives, negatives = (
        _read_triples(triples_file, hashes, path) if triples_file else ({}, {})
    )
    shared = _read_qrels(shared_qrels, hashes, path) if shared_qrels else None
    if shared is None and triple_positives:
        shared = triple_positives
    items: list[ParallelItem] = []
    for lang in chosen:
        folder = path / lang
        own_qrels = _optional_file(folder, "qrels.tsv")
        qrels = _read_qrels(own_qrels, hashes, path) if own_qrels else shared
        if qrels is None:
            raise XmirError(f"{path}: no qrels.tsv (shared), {lang}/qrels.tsv nor triples.tsv")
        queries = _read_id_text(_required_file(folder, "queries.tsv"), hashes, path, None)
        wanted = {qrels[q] for q in queries if q in qrels}
        wanted |= {negatives[q] for q in queries if q in negatives}
        passages = _read_id_text(_required_file(folder, "collection.tsv"), hashes, path, wanted)
        for qid, query in queries.items():
            pid = qrels.get(qid)
            if pid is None or pid not in passages:
                continue
            neg_pid = negatives.get(qid)
            negative = passages.get(neg_pid) if neg_pid is not None else None
            items.append(ParallelItem(qid, lang, query, passages[pid], negative))
    if not items:
        raise XmirError(f"{path}: no query has a judged passage in its language's collection")
    source = {
        "format": "mmarco",
        "path": str(path),
        "positive": "first judged passage"
        if shared_qrels is not None or not triple_positives
        else "first triple's positive",
        "negative": "first triple's negative" if negatives else None,
        "file_sha256": hashes,
    }
    return ParallelData(path.name, unique_items(items, path), source)


def _optional_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _required_file(folder: Path, name: str) -> Path:
    found = _optional_file(folder, name)
    if found is None:
        raise XmirError(f"missing {folder / name}[.gz]")
    return found


def _tsv_rows(file: Path, hashes: dict[str, str], root: Path) -> Iterator[list[str]]:
    """Yield the tab (or, for TREC qrels, space) separated fields of each line, and record
    the file's sha256."""
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8") as handle:
            for line in handle:
                line = line.rstrip("\n").rstrip("\r")
                if line:
                    yield line.split("\t") if "\t" in line else line.split()
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise XmirError(f"{file}: unreadable ({error})") from None
    hashes[str(file.relative_to(root))] = file_sha256(file)


def _read_id_text(
    file: Path, hashes: dict[str, str], root: Path, keep: set[str] | None
) -> dict[str, str]:
    table: dict[str, str] = {}
    for number, fields in enumerate(_tsv_rows(file, hashes, root), start=1):
        if len(fields) < 2:
            raise XmirError(f"{file}:{number}: expected 'id<TAB>text'")
        if keep is None or fields[0] in keep:
            table.setdefault(fields[0], fields[1])
    return table


def _read_qrels(file: Path, hashes: dict[str, str], root: Path) -> dict[str, str]:
    """qid -> first relevant pid; accepts 'qid pid' and TREC 'qid 0 pid rel' lines."""
    first: dict[str, str] = {}
    for number, fields in enumerate(_tsv_rows(file, hashes, root), start=1):
        if len(fields) == 2:
            qid, pid, relevant = fields[0], fields[1], True
        elif len(fields) == 4:
            qid, pid, relevant = fields[0], fields[2], _positive_grade(fields[3], file, number)
        else:
            raise XmirError(f"{file}:{number}: expected 'qid pid' or 'qid 0 pid rel'")
        if relevant:
            first.setdefault(qid, pid)
    return first


def _positive_grade(value: str, file: Path, number: int) -> bool:
    try:
        return float(value) > 0
    except ValueError:
        raise XmirError(f"{file}:{number}: relevance {value!r} is not a number") from None


def _read_triples(
    file: Path, hashes: dict[str, str], root: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """qid -> positive pid and qid -> negative pid of each query's first triple."""
    positives: dict[str, str] = {}
    negatives: dict[str, str] = {}
    for number, fields in enumerate(_tsv_rows(file, hashes, root), start=1):
        if len(fields) != 3:
            raise XmirError(f"{file}:{number}: expected 'qid<TAB>positive pid<TAB>negative pid'")
        positives.setdefault(fields[0], fields[1])
        negatives.setdefault(fields[0], fields[2])
    return positives, negatives
