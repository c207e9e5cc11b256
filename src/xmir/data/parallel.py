"""Parallel training items: the same (query, positive passage) pair in several languages.

An item id names one pair across languages (its translations); a training pair can then take
the query in one language and the passage in another. Readers turn local files (LAReQA,
translated-SQuAD, mMARCO layouts) or a hub dataset into a :class:`ParallelData`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from xmir.data.holdout import Holdout
from xmir.data.languages import select_languages
from xmir.errors import XmirError
from xmir.hub import require_hub
from xmir.io import file_sha256

TRAIN_FORMATS = ("lareqa", "squad", "mmarco")
LAREQA_NAMES = ("mlqa-r", "xquad-r")
HUB_PREFIX = "hf:"
HUB_COLUMNS = ("item_id", "language", "query", "positive")
PositiveUnit = Literal["sentence", "paragraph"]
CONTEXT_SEPARATOR = " "  # as the LAReQA evaluator joins sentence and paragraph
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class ParallelItem:
    """One pair in one language; items sharing ``item_id`` are translations of each other."""

    item_id: str
    language: str
    query: str
    positive: str
    negative: str | None = None


@dataclass(frozen=True)
class ParallelData:
    """Parallel items plus a record of where they came from (for run metadata)."""

    name: str
    items: list[ParallelItem]
    source: dict[str, Any] = field(default_factory=dict)
    overlap_texts: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # source article titles, when known
    item_titles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # item id -> titles

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({item.language for item in self.items}))

    def texts(self) -> list[str]:
        """Every text a training pair can contain, for the zero-shot overlap guard.

        Readers that build a positive from parts (sentence plus paragraph) add the parts
        in ``overlap_texts`` so that an exact match on either part is still found.
        """
        found: list[str] = []
        for item in self.items:
            found.extend((item.query, item.positive))
            if item.negative is not None:
                found.append(item.negative)
        return found + list(self.overlap_texts)

    def summary(self) -> dict[str, Any]:
        """Counts per language and of item ids, for metadata and the dry-run table."""
        per_language: dict[str, int] = {}
        for item in self.items:
            per_language[item.language] = per_language.get(item.language, 0) + 1
        return {
            "name": self.name,
            "items": len(self.items),
            "item_ids": len({item.item_id for item in self.items}),
            "items_per_language": dict(sorted(per_language.items())),
            "hard_negatives": sum(item.negative is not None for item in self.items),
            **self.source,
        }


# ----------------------------------------------------------------------------- dispatch


def load_training_data(
    spec: str,
    *,
    train_format: str | None = None,
    data_dir: Path | None = None,
    languages: list[str] | None = None,
    with_context: bool = False,
    positive_unit: PositiveUnit | None = None,
    max_questions: int | None = None,
    holdout: Holdout | None = None,
) -> ParallelData:
    """Read the parallel training data named by ``spec``.

    ``spec`` is ``mlqa-r`` / ``xquad-r`` (LAReQA, via ``data_dir`` or ``$XMIR_DATA_DIR``),
    ``hf:OWNER/NAME[:CONFIG]`` (a hub dataset with columns item_id, language, query, positive
    [, negative]; ``hf:unicamp-dl/mmarco[:google]`` is read from its tsv files, see
    :mod:`xmir.data.mmarco_hub`) or a local path read with ``train_format`` (detected when
    omitted). ``holdout`` (LAReQA only) leaves out its development split (whole articles).
    """
    if spec in LAREQA_NAMES:
        if train_format not in (None, "lareqa"):
            raise XmirError(
                f"--train-data {spec} is LAReQA data; drop --train-format {train_format}"
            )
        _only_for("squad", spec, positive=positive_unit)
        return read_lareqa_items(
            spec,
            data_dir=data_dir,
            languages=languages,
            with_context=with_context,
            max_questions=max_questions,
            holdout=holdout,
        )
    if spec.startswith(HUB_PREFIX):
        if train_format is not None:
            raise XmirError(f"--train-data {spec} is a hub dataset; drop --train-format")
        _only_for(
            "lareqa", spec, with_context=with_context, max_questions=max_questions, holdout=holdout
        )
        _only_for("squad", spec, positive=positive_unit)
        repo_id, _, config = spec[len(HUB_PREFIX) :].partition(":")
        if repo_id == "unicamp-dl/mmarco":  # plain tsv files, not a datasets table
            from xmir.data.mmarco_hub import load_mmarco_hub

            return load_mmarco_hub(config, languages)
        return load_hub_pairs(spec[len(HUB_PREFIX) :], languages=languages)
    path = Path(spec).expanduser()
    if not path.exists():
        raise XmirError(
            f"training data {spec!r} is neither a file/folder nor one of "
            f"{', '.join(LAREQA_NAMES)} nor hf:OWNER/NAME; check --train-data"
        )
    chosen = train_format or detect_format(path)
    if chosen not in TRAIN_FORMATS:
        raise XmirError(
            f"unknown --train-format {chosen!r}; choose one of: {', '.join(TRAIN_FORMATS)}"
        )
    if chosen != "squad":
        _only_for("squad", spec, positive=positive_unit)
    if chosen == "lareqa" and path.name in LAREQA_NAMES:
        return read_lareqa_items(
            path.name,
            data_dir=path,
            languages=languages,
            with_context=with_context,
            max_questions=max_questions,
            holdout=holdout,
        )
    _only_for(
        "lareqa", spec, with_context=with_context, max_questions=max_questions, holdout=holdout
    )
    if chosen == "mmarco":
        return read_mmarco_dir(path, languages=languages)
    if chosen == "lareqa":
        data = read_squad_dir(path, languages=languages, positive_unit="sentence")
        return replace(data, source={**data.source, "format": "lareqa"})
    return read_squad_dir(path, languages=languages, positive_unit=positive_unit or "paragraph")


_APPLIES_TO = {
    "squad": "a --train-format squad folder (paragraph-level positives)",
    "lareqa": "mlqa-r / xquad-r (or their LAReQA folders)",
}


def _only_for(kind: str, spec: str, **given: object) -> None:
    """Refuse options that ``spec``'s format would silently ignore (``given``: option values,
    None or False when not given)."""
    used = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if used:
        raise XmirError(
            f"{' and '.join(used)} {'applies' if len(used) == 1 else 'apply'} to "
            f"{_APPLIES_TO[kind]} only, not to --train-data {spec}; drop "
            f"{'it' if len(used) == 1 else 'them'}"
        )


def detect_format(path: Path) -> str:
    """Guess the layout of a local folder: mMARCO (per-language tsv) or SQuAD json files."""
    if path.is_dir() and any(path.glob("*/queries.tsv*")):
        return "mmarco"
    if path.is_dir() and _squad_files(path):
        return "squad"
    raise XmirError(
        f"{path}: cannot tell the training-data format; pass --train-format "
        f"({', '.join(TRAIN_FORMATS)})"
    )


# ----------------------------------------------------------------------------- LAReQA


def read_lareqa_items(
    name: str,
    *,
    data_dir: Path | None = None,
    languages: list[str] | None = None,
    with_context: bool = False,
    max_questions: int | None = None,
    holdout: Holdout | None = None,
) -> ParallelData:
    """XQuAD-R / MLQA-R as training pairs: item id = question id, query = the question,
    positive = its answer sentence in the same language (plus the paragraph if
    ``with_context``); ``holdout``: without its development split."""
    from xmir.data.lareqa import load_lareqa

    rset = load_lareqa(
        name,
        data_dir,
        languages,
        max_questions=max_questions,
        split="all" if holdout is None else "train",
        holdout=holdout,
    )
    items = []
    extra: list[str] = []
    for index, qid in enumerate(rset.query_ids):
        gold = rset.gold_own_language[index]
        sentence = rset.candidate_texts[gold]
        positive = sentence
        if with_context:
            context = rset.candidate_contexts[gold]
            positive = f"{sentence}{CONTEXT_SEPARATOR}{context}"
            extra.extend((sentence, context))
        items.append(ParallelItem(qid, rset.query_langs[index], rset.query_texts[index], positive))
    source = {
        "format": "lareqa",
        "dataset": name,
        "positive": "answer sentence" + (" + paragraph" if with_context else ""),
        "subset": rset.subset,
        **({"split": rset.split_record} if rset.split_record is not None else {}),
        "file_sha256": dict(rset.file_sha256),
    }
    item_titles: dict[str, dict[str, None]] = {}
    for qid, title in zip(rset.query_ids, rset.query_titles, strict=True):
        item_titles.setdefault(qid, {})[title] = None
    return ParallelData(
        name,
        items,
        source,
        extra,
        list(rset.article_titles),
        {qid: tuple(titles) for qid, titles in item_titles.items()},
    )


# ----------------------------------------------------------------------------- SQuAD layout


def read_squad_dir(
    path: Path,
    *,
    languages: list[str] | None = None,
    positive_unit: PositiveUnit = "paragraph",
) -> ParallelData:
    """A folder of SQuAD json files, one per language (``de.json``, ``xquad.de.json.gz``...),
    parallel by question id.

    The positive is the question's paragraph, or with ``positive_unit="sentence"`` the
    sentence holding the answer start (needs LAReQA ``sentences``/``sentence_breaks``).
    """
    if positive_unit not in ("sentence", "paragraph"):
        raise XmirError(f"positive unit must be 'sentence' or 'paragraph', not {positive_unit!r}")
    files = _squad_files(path)
    if not files:
        raise XmirError(f"{path}: no SQuAD json files (expected <lang>.json[.gz] per language)")
    chosen = _select_languages(sorted(files), languages, path)
    items: list[ParallelItem] = []
    hashes: dict[str, str] = {}
    for lang in chosen:
        file = files[lang]
        raw = file.read_bytes()
        hashes[file.name] = hashlib.sha256(raw).hexdigest()
        payload = _load_json(file, raw)
        items.extend(_squad_items(payload, lang, positive_unit, file))
    source = {
        "format": "squad",
        "path": str(path),
        "positive": "answer sentence" if positive_unit == "sentence" else "paragraph",
        "file_sha256": hashes,
    }
    return ParallelData(path.name, _unique(items, path), source)


def _squad_files(path: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if not path.is_dir():
        return found
    for file in sorted(path.iterdir()):
        match = re.match(r"^(?:.*\.)?([^.]+)\.json(?:\.gz)?$", file.name)
        if match and file.is_file() and _LANGUAGE_CODE.match(match.group(1)):
            found.setdefault(match.group(1), file)
    return found


def _load_json(file: Path, raw: bytes) -> Any:
    try:
        text = gzip.decompress(raw) if file.suffix == ".gz" else raw
        return json.loads(text.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise XmirError(f"{file}: not valid (gzipped) JSON ({error})") from None


def _squad_items(
    payload: Any, lang: str, positive_unit: PositiveUnit, file: Path
) -> Iterator[ParallelItem]:
    try:
        paragraphs = [p for article in payload["data"] for p in article["paragraphs"]]
    except (KeyError, TypeError):
        raise XmirError(f"{file}: not SQuAD json (expected data[].paragraphs[])") from None
    for paragraph in paragraphs:
        try:
            context = str(paragraph["context"])
            qas = paragraph["qas"]
        except (KeyError, TypeError):
            raise XmirError(f"{file}: a paragraph lacks 'context' or 'qas'") from None
        for qa in qas:
            try:
                qid, question = str(qa["id"]), str(qa["question"])
                start = int(qa["answers"][0]["answer_start"])
            except (KeyError, TypeError, IndexError, ValueError):
                raise XmirError(f"{file}: a question lacks id/question/answers[0]") from None
            if positive_unit == "paragraph":
                positive = context
            else:
                positive = _answer_sentence(paragraph, start, qid, file)
            yield ParallelItem(qid, lang, question, positive)


def _answer_sentence(paragraph: dict[str, Any], start: int, qid: str, file: Path) -> str:
    if "sentences" not in paragraph or "sentence_breaks" not in paragraph:
        raise XmirError(
            f"{file}: positive unit 'sentence' needs LAReQA sentences/sentence_breaks; "
            "this file has none, use --positive paragraph"
        )
    hits = [
        i for i, (lo, hi) in enumerate(paragraph["sentence_breaks"]) if lo <= start < hi
    ]  # end-exclusive breaks, as in LAReQA
    if len(hits) != 1:
        raise XmirError(f"{file}: the answer of question {qid} lies in {len(hits)} sentences")
    return str(paragraph["sentences"][hits[0]])


# ----------------------------------------------------------------------------- mMARCO layout


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
    chosen = _select_languages(available, languages, path)
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
    return ParallelData(path.name, _unique(items, path), source)


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


# ----------------------------------------------------------------------------- hub


def load_hub_pairs(
    repo: str,
    *,
    split: str = "train",
    revision: str | None = None,
    languages: list[str] | None = None,
) -> ParallelData:
    """A hub dataset ``OWNER/NAME[:CONFIG]`` with columns item_id, language, query,
    positive[, negative] (one row per item and language)."""
    repo_id, _, config = repo.partition(":")
    require_hub(f"hub dataset {repo_id!r}", "download it elsewhere and pass a local path")
    try:
        import datasets

        table = datasets.load_dataset(repo_id, config or None, split=split, revision=revision)
    except Exception as error:  # the hub client raises many types; all mean "not available"
        raise XmirError(
            f"could not load hub dataset {repo_id!r} ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}); without internet, download "
            "it elsewhere and pass a local path with --train-format"
        ) from None
    missing = [column for column in HUB_COLUMNS if column not in table.column_names]
    if missing:
        raise XmirError(
            f"hub dataset {repo_id!r} lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(HUB_COLUMNS)}[, negative]"
        )
    has_negative = "negative" in table.column_names
    available = sorted(set(table["language"]))
    chosen = set(_select_languages(available, languages, Path(repo_id)))
    items = [
        ParallelItem(
            str(row["item_id"]),
            str(row["language"]),
            str(row["query"]),
            str(row["positive"]),
            str(row["negative"]) if has_negative and row["negative"] else None,
        )
        for row in table
        if row["language"] in chosen
    ]
    fingerprint = getattr(table, "_fingerprint", None)
    source = {
        "format": "hub",
        "repo_id": repo_id,
        "config": config or None,
        "split": split,
        "revision": revision,
        "fingerprint": fingerprint,
    }
    return ParallelData(repo_id, _unique(items, Path(repo_id)), source)


# ----------------------------------------------------------------------------- shared checks


def _select_languages(available: list[str], languages: list[str] | None, where: Path) -> list[str]:
    return select_languages(languages, available, source=str(where))


def _unique(items: list[ParallelItem], where: Path) -> list[ParallelItem]:
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.item_id, item.language)
        if key in seen:
            raise XmirError(f"{where}: item id {item.item_id} appears twice in {item.language}")
        seen.add(key)
    return items
