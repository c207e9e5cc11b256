"""Parallel training items: the same (query, positive passage) pair in several languages.

An item id names one pair across languages (its translations); a training pair can then take
the query in one language and the passage in another. Every reader of training data
(:mod:`xmir.data.parallel`, :mod:`xmir.data.mmarco`, :mod:`xmir.data.mmarco_hub`) returns a
:class:`ParallelData`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xmir.data.languages import select_languages
from xmir.errors import XmirError


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


def select_pair_languages(
    available: list[str], languages: list[str] | None, where: Path
) -> list[str]:
    """The requested languages among those ``where`` holds (all when none are requested)."""
    return select_languages(languages, available, source=str(where))


def unique_items(items: list[ParallelItem], where: Path) -> list[ParallelItem]:
    """``items``, refusing an item id that appears twice in one language."""
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.item_id, item.language)
        if key in seen:
            raise XmirError(f"{where}: item id {item.item_id} appears twice in {item.language}")
        seen.add(key)
    return items
