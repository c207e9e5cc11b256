"""Training data by name: LAReQA sets of the dataset registry, hub datasets or local folders.

:func:`load_training_data` turns ``--train-data`` into parallel pairs
(:class:`~xmir.data.pairs.ParallelData`): a LAReQA dataset, a translated-SQuAD folder (read
here), an mMARCO folder (:mod:`xmir.data.mmarco`) or a hub dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from xmir.data import mmarco_hub
from xmir.data.datasets import training_names
from xmir.data.holdout import Holdout
from xmir.data.lareqa import load_lareqa
from xmir.data.mmarco import read_mmarco_dir
from xmir.data.pairs import ParallelData, ParallelItem, select_pair_languages, unique_items
from xmir.errors import XmirError
from xmir.hub import require_hub

__all__ = [
    "ParallelData",
    "ParallelItem",
    "detect_format",
    "load_hub_pairs",
    "load_training_data",
    "read_lareqa_items",
    "read_mmarco_dir",
    "read_squad_dir",
]

TRAIN_FORMATS = ("lareqa", "squad", "mmarco")
HUB_PREFIX = "hf:"
HUB_COLUMNS = ("item_id", "language", "query", "positive")
PositiveUnit = Literal["sentence", "paragraph"]
CONTEXT_SEPARATOR = " "  # as the LAReQA evaluator joins sentence and paragraph
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


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
    if spec in training_names():
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
            return mmarco_hub.load_mmarco_hub(config, languages)
        return load_hub_pairs(spec[len(HUB_PREFIX) :], languages=languages)
    path = Path(spec).expanduser()
    if not path.exists():
        raise XmirError(
            f"training data {spec!r} is neither a file/folder nor one of "
            f"{', '.join(training_names())} nor hf:OWNER/NAME; check --train-data"
        )
    chosen = train_format or detect_format(path)
    if chosen not in TRAIN_FORMATS:
        raise XmirError(
            f"unknown --train-format {chosen!r}; choose one of: {', '.join(TRAIN_FORMATS)}"
        )
    if chosen != "squad":
        _only_for("squad", spec, positive=positive_unit)
    if chosen == "lareqa" and path.name in training_names():
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


def _applies_to(kind: str) -> str:
    """What an option of ``kind`` (``squad``, ``lareqa``) applies to, for error messages."""
    if kind == "squad":
        return "a --train-format squad folder (paragraph-level positives)"
    return f"{' / '.join(training_names())} (or their LAReQA folders)"


def _only_for(kind: str, spec: str, **given: object) -> None:
    """Refuse options that ``spec``'s format would silently ignore (``given``: option values,
    None or False when not given)."""
    used = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if used:
        raise XmirError(
            f"{' and '.join(used)} {'applies' if len(used) == 1 else 'apply'} to "
            f"{_applies_to(kind)} only, not to --train-data {spec}; drop "
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
    chosen = select_pair_languages(sorted(files), languages, path)
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
    return ParallelData(path.name, unique_items(items, path), source)


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
    chosen = set(select_pair_languages(available, languages, Path(repo_id)))
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
    return ParallelData(repo_id, unique_items(items, Path(repo_id)), source)
