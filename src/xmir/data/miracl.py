"""MIRACL dev topics and relevance judgements (qrels) per language, from local files or the hub.

Local files follow the MIRACL/anserini names: ``topics.miracl-v1.0-{lang}-dev.tsv[.gz]``
(``qid<TAB>query``) and ``qrels.miracl-v1.0-{lang}-dev.tsv[.gz]`` (TREC: ``qid Q0 docid rel``).
The hub copy is ``miracl/miracl`` (one config per language, split ``dev``), whose rows carry
judged-positive and judged-negative passages. The passage corpus is read by
:mod:`xmir.data.miracl_corpus`.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xmir.data.languages import select_languages
from xmir.errors import XmirError
from xmir.hub import require_hub
from xmir.io import file_sha256
from xmir.paths import data_dir_from_env

MIRACL_LANGUAGES: tuple[str, ...] = (
    "ar", "bn", "de", "en", "es", "fa", "fi", "fr", "hi",
    "id", "ja", "ko", "ru", "sw", "te", "th", "yo", "zh",
)  # fmt: skip
MIRACL_NAME = "miracl"  # its name in the dataset registry, CLI and specs
MIRACL_VERSION = "v1.0"
MIRACL_HUB_DATASET = "miracl/miracl"
HUB = "hub"
LANG_PLACEHOLDER = "{lang}"
_FILE_LANG = re.compile(r"miracl-(?:corpus-)?v\d+\.\d+-([a-z]{2})(?:[-./]|$)")


@dataclass(frozen=True)
class MiraclJudgements:
    """One language's topics and qrels.

    ``qrels[qid][docid]`` is the judged relevance (0 = judged non-relevant). ``source`` names
    where they came from and ``files_sha256`` the exact local files read (empty for the hub).
    """

    language: str
    topics: dict[str, str]
    qrels: dict[str, dict[str, int]]
    source: str
    files_sha256: dict[str, str] = field(default_factory=dict)

    def relevant(self, qid: str) -> list[str]:
        """The judged-relevant docids of ``qid`` (rel > 0), in qrels file order."""
        return [docid for docid, rel in self.qrels.get(qid, {}).items() if rel > 0]

    @property
    def judged_docids(self) -> set[str]:
        """Every docid named in the qrels (relevant or not)."""
        return {docid for judged in self.qrels.values() for docid in judged}


def check_languages(languages: list[str] | None) -> list[str]:
    """The requested MIRACL languages in the given order (all 18 when none are given)."""
    return select_languages(languages, MIRACL_LANGUAGES, source="MIRACL", keep_requested_order=True)


def load_judgements(
    language: str,
    *,
    topics: Path | str | None = None,
    qrels: Path | str | None = None,
    data_dir: Path | None = None,
) -> MiraclJudgements:
    """Topics and qrels of ``language`` (dev split).

    ``topics``/``qrels`` may be explicit files (a ``{lang}`` in the path is replaced by the
    language) or ``"hub"``. Otherwise the files are looked up in ``data_dir`` (or
    ``$XMIR_DATA_DIR``, in it or its ``miracl/`` subfolder); without either the hub is used.
    """
    check_languages([language])
    from_hub = HUB in (str(topics), str(qrels))
    if from_hub and {str(topics), str(qrels)} - {HUB, "None"}:
        raise XmirError(
            "topics and qrels come from the hub together; pass 'hub' for both or neither"
        )
    if from_hub or (topics is None and qrels is None and _default_dir(data_dir) is None):
        return load_hub_judgements(language)
    if (topics is None) != (qrels is None) and _default_dir(data_dir) is None:
        raise XmirError("pass both --topics and --qrels, or set XMIR_DATA_DIR to the MIRACL files")
    topics_path = _resolve(topics, language, "topics", data_dir)
    qrels_path = _resolve(qrels, language, "qrels", data_dir)
    parsed_topics = read_topics(topics_path)
    parsed_qrels = read_qrels(qrels_path)
    if parsed_topics and parsed_qrels and not parsed_topics.keys() & parsed_qrels.keys():
        raise XmirError(
            f"topics {topics_path} and qrels {qrels_path} share no query id; "
            "are they files of the same language?"
        )
    return MiraclJudgements(
        language=language,
        topics=parsed_topics,
        qrels=parsed_qrels,
        source="local",
        files_sha256={
            topics_path.name: file_sha256(topics_path),
            qrels_path.name: file_sha256(qrels_path),
        },
    )


def read_topics(path: Path) -> dict[str, str]:
    """``qid -> query`` from a ``qid<TAB>query`` file (gzip or plain)."""
    topics: dict[str, str] = {}
    for line_no, line in _lines(path):
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip():
            raise XmirError(f"{path}:{line_no}: expected 'qid<TAB>query', got {line[:80]!r}")
        qid = parts[0].strip()
        if qid in topics:
            raise XmirError(f"{path}:{line_no}: query id {qid!r} appears twice")
        topics[qid] = parts[1].strip()
    return topics


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``qid -> {docid: rel}`` from a TREC qrels file (``qid Q0 docid rel``, gzip or plain)."""
    qrels: dict[str, dict[str, int]] = {}
    for line_no, line in _lines(path):
        parts = line.split()
        if len(parts) != 4 or not _is_int(parts[3]):
            raise XmirError(
                f"{path}:{line_no}: expected TREC qrels 'qid Q0 docid rel', got {line[:80]!r}"
            )
        qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def load_hub_judgements(language: str) -> MiraclJudgements:
    """Topics and qrels of ``language`` from the ``miracl/miracl`` hub dataset (dev split)."""
    require_hub(
        f"{MIRACL_HUB_DATASET} ({language})",
        "pass --topics/--qrels files or set XMIR_DATA_DIR to a folder with the MIRACL files",
    )
    try:
        import datasets

        rows = datasets.load_dataset(MIRACL_HUB_DATASET, language, split="dev")
    except Exception as error:  # the hub raises many types: offline, gated, renamed
        raise XmirError(
            f"could not load {MIRACL_HUB_DATASET} ({language}, dev) from the Hugging Face hub "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
            "pass --topics/--qrels files or set XMIR_DATA_DIR to a folder with the MIRACL files"
        ) from None
    topics: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for row in rows:
        qid = str(row["query_id"])
        topics[qid] = str(row["query"]).strip()
        judged = qrels.setdefault(qid, {})
        for passage in row.get("negative_passages") or []:
            judged[str(passage["docid"])] = 0
        for passage in row.get("positive_passages") or []:
            judged[str(passage["docid"])] = 1
    return MiraclJudgements(language, topics, qrels, source=f"hub:{MIRACL_HUB_DATASET}")


def file_language(path: Path | str) -> str | None:
    """The language code a MIRACL-style file or folder name carries (``...-v1.0-fi-...``)."""
    match = _FILE_LANG.search(Path(path).name)
    return match.group(1) if match else None


def _default_dir(data_dir: Path | None) -> Path | None:
    root = data_dir if data_dir is not None else data_dir_from_env()
    if root is None:
        return None
    root = Path(root)
    return root / "miracl" if (root / "miracl").is_dir() else root


def _resolve(explicit: Path | str | None, language: str, kind: str, data_dir: Path | None) -> Path:
    """The topics/qrels file of ``language``: explicit (with ``{lang}``), else the default name."""
    if explicit is not None:
        path = Path(str(explicit).replace(LANG_PLACEHOLDER, language))
        named = file_language(path)
        if named is not None and named != language:
            raise XmirError(
                f"{kind} file {path} is named for language {named!r} but was given for "
                f"{language!r}; use a {LANG_PLACEHOLDER} placeholder in the path for several languages"
            )
        if not path.is_file():
            raise XmirError(f"{kind} file {path} does not exist")
        return path
    folder = _default_dir(data_dir)
    assert folder is not None
    stem = f"{kind}.miracl-{MIRACL_VERSION}-{language}-dev.tsv"
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise XmirError(
        f"no {stem}[.gz] in {folder}; pass --{kind} or point XMIR_DATA_DIR at the MIRACL files"
    )


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-empty lines (1-based numbers), gzip or plain; read errors name the file and line."""
    opener = gzip.open if _is_gzip(path) else open
    line_no = 0
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                stripped = line.rstrip("\r\n")
                if stripped.strip():
                    yield line_no, stripped
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise XmirError(
            f"{path}: unreadable after line {line_no} ({error}); re-download it"
        ) from None


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()
