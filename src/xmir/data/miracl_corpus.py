"""The MIRACL passage corpus of one language, read as a stream of small batches.

Layout (as in the ``miracl/miracl-corpus`` hub dataset): per language a folder
``miracl-corpus-v1.0-{lang}/`` (or ``{lang}/``) of shards ``*.jsonl``, ``*.jsonl.gz`` or
``*.parquet``, each record holding ``docid``, ``title`` and ``text``. Shards are read in
natural name order (``docs-2`` before ``docs-10``) one batch at a time, so a corpus of tens of
millions of passages never sits in memory as Python objects. A truncated or corrupt shard
raises an error that names the shard and the line (or row) where reading stopped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xmir.data.miracl import (
    HUB,
    LANG_PLACEHOLDER,
    MIRACL_LANGUAGES,
    MIRACL_VERSION,
    check_languages,
    file_language,
)
from xmir.errors import XmirError
from xmir.hub import require_hub

MIRACL_CORPUS_HUB_DATASET = "miracl/miracl-corpus"
SHARD_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


@dataclass(frozen=True)
class PassageBatch:
    """Consecutive passages of a corpus: parallel lists of docids, titles and texts."""

    docids: list[str]
    titles: list[str]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.docids)

    def passages(self, with_title: bool = True) -> list[str]:
        """The text each passage is encoded as: ``title text`` (or ``text`` alone)."""
        if not with_title:
            return list(self.texts)
        return [f"{t} {x}" if t else x for t, x in zip(self.titles, self.texts, strict=True)]


@dataclass(frozen=True)
class CorpusShards:
    """The ordered shard files of one language's corpus."""

    language: str
    root: Path
    shards: tuple[Path, ...]
    source: str

    def content_sha256(self) -> str:
        """SHA-256 over each shard's name (relative to ``root``), size and bytes, in order.

        Any change to any shard (content, order, name) changes it; the folder's location does
        not. Shards are hashed as stored (compressed), which is cheap next to parsing them.
        """
        digest = hashlib.sha256()
        for shard in self.shards:
            digest.update(f"{shard.relative_to(self.root)}\0{shard.stat().st_size}\0".encode())
            with open(shard, "rb") as handle:
                for block in iter(lambda handle=handle: handle.read(1 << 22), b""):
                    digest.update(block)
        return digest.hexdigest()

    def iter_batches(self, batch_size: int = 4096, skip: int = 0) -> Iterator[PassageBatch]:
        """Passages in corpus order, ``batch_size`` at a time, after the first ``skip``."""
        pending = _Batcher(batch_size)
        for shard in self.shards:
            reader = _read_parquet if shard.name.endswith(".parquet") else _read_jsonl
            for docid, title, text, skipped in reader(shard, skip):
                if skipped:
                    skip -= 1
                    continue
                if pending.add(docid, title, text):
                    yield pending.flush()
        if len(pending.docids):
            yield pending.flush()


def resolve_corpus(corpus: Path | str, language: str) -> CorpusShards:
    """The shards of ``language`` in ``corpus``: a shard file, a language folder, a folder
    holding ``miracl-corpus-v1.0-{lang}/`` or ``{lang}/`` subfolders, a path with a ``{lang}``
    placeholder, or ``"hub"`` (downloaded once into the Hugging Face cache)."""
    check_languages([language])
    if str(corpus) == HUB:
        root = download_hub_corpus(language)
        return CorpusShards(language, root, _shards_in(root), f"hub:{MIRACL_CORPUS_HUB_DATASET}")
    path = Path(str(corpus).replace(LANG_PLACEHOLDER, language)).expanduser()
    if not path.exists():
        raise XmirError(f"corpus path {path} does not exist")
    if path.is_file():
        _check_named_language(path, language)
        return CorpusShards(language, path.parent, (path,), "local")
    for sub in (f"miracl-corpus-{MIRACL_VERSION}-{language}", language):
        if (path / sub).is_dir():
            return CorpusShards(language, path / sub, _shards_in(path / sub), "local")
    _check_named_language(path, language)
    others = sorted(
        lang
        for lang in MIRACL_LANGUAGES
        if (path / lang).is_dir() or (path / f"miracl-corpus-{MIRACL_VERSION}-{lang}").is_dir()
    )
    if others:
        raise XmirError(
            f"corpus folder {path} has no {language!r} corpus (it has: {', '.join(others)}); "
            "drop the language or point --corpus at a folder that holds it"
        )
    return CorpusShards(language, path, _shards_in(path), "local")


def download_hub_corpus(language: str) -> Path:
    """Fetch ``miracl-corpus-v1.0-{lang}/`` of the hub corpus dataset (cached by the hub)."""
    folder = f"miracl-corpus-{MIRACL_VERSION}-{language}"
    require_hub(f"{MIRACL_CORPUS_HUB_DATASET}/{folder}", "pass --corpus with a local copy")
    try:
        from huggingface_hub import snapshot_download

        root = snapshot_download(
            repo_id=MIRACL_CORPUS_HUB_DATASET,
            repo_type="dataset",
            allow_patterns=[f"{folder}/*"],
        )
    except Exception as error:  # offline, gated, rate limited: the hub raises many types
        raise XmirError(
            f"could not download {MIRACL_CORPUS_HUB_DATASET}/{folder} from the Hugging Face hub "
            f"({type(error).__name__}); pass --corpus with a local copy of the corpus"
        ) from None
    if not (Path(root) / folder).is_dir():
        raise XmirError(f"the hub dataset {MIRACL_CORPUS_HUB_DATASET} has no folder {folder}")
    return Path(root) / folder


def _check_named_language(path: Path, language: str) -> None:
    named = file_language(path)
    if named is not None and named != language:
        raise XmirError(
            f"corpus {path} is named for language {named!r} but was given for {language!r}; "
            f"use a {LANG_PLACEHOLDER} placeholder or a folder with one subfolder per language"
        )


def _shards_in(folder: Path) -> tuple[Path, ...]:
    shards = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.name.endswith(SHARD_SUFFIXES)),
        key=_natural_key,
    )
    if not shards:
        raise XmirError(
            f"corpus folder {folder} holds no {', '.join('*' + s for s in SHARD_SUFFIXES)} shards"
        )
    return tuple(shards)


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


class _Batcher:
    """Accumulates passages and hands them out as one :class:`PassageBatch` when full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.docids: list[str] = []
        self.titles: list[str] = []
        self.texts: list[str] = []

    def add(self, docid: str, title: str, text: str) -> bool:
        self.docids.append(docid)
        self.titles.append(title)
        self.texts.append(text)
        return len(self.docids) >= self.size

    def flush(self) -> PassageBatch:
        batch = PassageBatch(self.docids, self.titles, self.texts)
        self.docids, self.titles, self.texts = [], [], []
        return batch


Record = tuple[str, str, str, bool]


def _read_jsonl(shard: Path, skip: int) -> Iterator[Record]:
    """``(docid, title, text, skipped)`` per non-empty line; the first ``skip`` are not parsed."""
    opener = gzip.open if shard.name.endswith(".gz") else open
    line_no = 0
    try:
        with opener(shard, "rt", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if skip > 0:
                    skip -= 1
                    yield "", "", "", True
                    continue
                yield (*_parse_record(shard, line_no, line), False)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise XmirError(
            f"corpus shard {shard} is truncated or corrupt: reading stopped at line "
            f"{line_no + 1} ({type(error).__name__}: {error}); re-download the shard"
        ) from None


def _parse_record(shard: Path, line_no: int, line: str) -> tuple[str, str, str]:
    try:
        record = json.loads(line)
        docid, text = record["docid"], record["text"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise XmirError(
            f"corpus shard {shard}, line {line_no}: not a MIRACL passage record with docid, "
            f"title, text ({type(error).__name__}: {error}); the shard may be truncated"
        ) from None
    return _checked_docid(shard, line_no, docid), str(record.get("title") or ""), str(text)


def _checked_docid(shard: Path, where: int, docid: object) -> str:
    docid = str(docid)
    if not docid or "\n" in docid:
        raise XmirError(f"corpus shard {shard}, line/row {where}: bad docid {docid!r}")
    return docid


def _read_parquet(shard: Path, skip: int) -> Iterator[Record]:
    """``(docid, title, text, skipped)`` per row; whole row groups inside ``skip`` are not read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = 0
    try:
        parquet = pq.ParquetFile(shard)
        names = set(parquet.schema_arrow.names)
        if not {"docid", "text"} <= names:
            raise XmirError(
                f"corpus shard {shard} has columns {sorted(names)}; need docid, title, text"
            )
        columns = [c for c in ("docid", "title", "text") if c in names]
        for group in range(parquet.num_row_groups):
            group_rows = parquet.metadata.row_group(group).num_rows
            if skip >= group_rows:
                skip -= group_rows
                row += group_rows
                yield from (("", "", "", True) for _ in range(group_rows))
                continue
            for batch in parquet.iter_batches(batch_size=8192, row_groups=[group], columns=columns):
                data = batch.to_pydict()
                titles = data.get("title") or [""] * batch.num_rows
                for docid, title, text in zip(data["docid"], titles, data["text"], strict=True):
                    row += 1
                    if skip > 0:
                        skip -= 1
                        yield "", "", "", True
                        continue
                    yield (
                        _checked_docid(shard, row, docid),
                        str(title or ""),
                        str(text or ""),
                        False,
                    )
    except (OSError, pa.ArrowException) as error:
        raise XmirError(
            f"corpus shard {shard} is truncated or corrupt: reading stopped at row {row + 1} "
            f"({type(error).__name__}: {error}); re-download the shard"
        ) from None
