"""The base of xmir's typed JSON records (evaluation results, training runs, sweep runs).

A record is a pydantic model that reads the JSON documents xmir has always written and writes
them back unchanged: every key it was given is kept (known keys typed and checked, others as
they are), in the order it was given, and keys it was not given stay absent. A versioned record
carries its ``schema_version`` under the key its files have always used (``xmir_result``,
``xmir_train``, ...); a file without that key is version 1, and a file of a newer version than
this xmir knows is refused with one line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from xmir.errors import XmirError
from xmir.io import atomic_write_json

EVAL_RESULT_KEY = "xmir_result"  # the schema version key of an evaluation result
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or from ``path.gz`` once a sweep compressed it; None when
    missing or unreadable (a torn write counts as absent)."""
    path = Path(path)
    compressed = path.with_name(path.name + ".gz")
    try:
        if path.is_file() or not compressed.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            text = gzip.decompress(compressed.read_bytes()).decode("utf-8")
        payload = json.loads(text)
    except (OSError, ValueError, EOFError):
        return None
    return payload if isinstance(payload, dict) else None


class Record(BaseModel):
    """A JSON object with typed known keys that dumps exactly the keys, in the order, it was
    built from (unknown keys kept as extras)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    _keys: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        record = handler(data)
        if isinstance(data, dict) and isinstance(record, Record):
            record._keys = tuple(data)
        return record

    @model_serializer(mode="wrap")
    def _in_key_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped = handler(self)
        if not self._keys or not isinstance(dumped, dict):
            return dumped
        rank = {key: index for index, key in enumerate(self._keys)}
        return dict(sorted(dumped.items(), key=lambda item: rank.get(item[0], len(rank))))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: given keys only, under their file names, in their order."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True)

    def extra(self, key: str, default: Any = None) -> Any:
        """A key the model does not type (e.g. ``recall@10``), or ``default``."""
        return (self.model_extra or {}).get(key, default)


class VersionedRecord(Record):
    """A record file with a schema version: ``to_disk`` / ``from_disk`` and version-aware
    loading (``MIGRATIONS[v]`` turns a version-v object into a version v+1 one)."""

    SCHEMA_VERSION: ClassVar[int] = 1
    VERSION_KEY: ClassVar[str] = "schema_version"
    WHAT: ClassVar[str] = "an xmir record"
    MIGRATIONS: ClassVar[dict[int, Migration]] = {}

    @classmethod
    def from_dict(cls, payload: dict[str, Any], source: str = "") -> Self:
        """The record of a JSON object of any known version; XmirError when it is not one."""
        where = f"{source}: " if source else ""
        version = payload.get(cls.VERSION_KEY, 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise XmirError(f"{where}{cls.VERSION_KEY} {version!r} is not a schema version")
        if version > cls.SCHEMA_VERSION:
            raise XmirError(
                f"{where}{cls.WHAT} of schema version {version}; this xmir reads up to "
                f"{cls.SCHEMA_VERSION}: upgrade xmir"
            )
        while version < cls.SCHEMA_VERSION:
            payload, version = cls.MIGRATIONS[version](payload), version + 1
        try:
            return cls.model_validate(payload)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise XmirError(f"{where}not {cls.WHAT} ({field}: {first['msg']})") from None

    @classmethod
    def from_disk(cls, path: Path) -> Self:
        """Read ``path`` (or ``path.gz``); XmirError when missing, unreadable or invalid."""
        payload = read_json_object(path)
        if payload is None:
            raise XmirError(f"{path}: no readable JSON object; is it {cls.WHAT}?")
        return cls.from_dict(payload, str(path))

    @classmethod
    def read(cls, path: Path) -> Self | None:
        """Like :meth:`from_disk`, but None for a missing or torn file (a reader that skips
        what is not there yet); a file of another kind or a newer version still fails."""
        payload = read_json_object(path)
        return None if payload is None else cls.from_dict(payload, str(path))

    def to_disk(self, path: Path) -> None:
        """Write the record as indented JSON, atomically (the layout xmir always wrote)."""
        atomic_write_json(Path(path), self.to_dict())
