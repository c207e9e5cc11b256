"""The item pool a batch plan draws from: parallel items by id and language, with the
groups of items that share a positive text (which must never meet in one batch)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from xmir.data.parallel import ParallelItem
from xmir.errors import XmirError


class ItemPool:
    """Parallel items indexed by item id and language (restricted to ``languages``)."""

    def __init__(self, items: Sequence[ParallelItem], languages: Sequence[str] | None = None):
        present = sorted({item.language for item in items})
        chosen = list(languages) if languages else present
        empty = [lang for lang in chosen if lang not in present]
        if empty:
            raise XmirError(
                f"no training items in language(s) {', '.join(empty)}; "
                f"the data has: {', '.join(present) or 'none'}"
            )
        if not chosen:
            raise XmirError("the training data holds no items")
        self.languages: tuple[str, ...] = tuple(sorted(set(chosen)))
        by_key: dict[tuple[str, str], ParallelItem] = {}
        for item in items:
            if item.language not in self.languages:
                continue
            key = (item.item_id, item.language)
            if key in by_key:
                raise XmirError(f"item id {item.item_id} appears twice in {item.language}")
            by_key[key] = item
        self.item_ids: list[str] = sorted({item_id for item_id, _ in by_key})
        index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        langs_of: list[list[str]] = [[] for _ in self.item_ids]
        for item_id, lang in sorted(by_key):
            langs_of[index[item_id]].append(lang)
        self.languages_of: list[tuple[str, ...]] = [tuple(langs) for langs in langs_of]
        self.by_language: dict[str, list[int]] = {
            lang: [i for i, langs in enumerate(self.languages_of) if lang in langs]
            for lang in self.languages
        }
        self._items = by_key
        self.text_group: list[int] = _shared_positive_groups(self.item_ids, by_key)

    def distinct_groups(self, members: Sequence[int]) -> int:
        """How many of ``members`` can share one batch (one per shared-positive group)."""
        return len({self.text_group[i] for i in members})

    def __len__(self) -> int:
        return len(self.item_ids)

    def get(self, item: int, language: str) -> ParallelItem:
        """The item with pool index ``item`` in ``language``."""
        return self._items[(self.item_ids[item], language)]

    @property
    def cross_items(self) -> list[int]:
        """Items that exist in at least two languages (the only ones a cross pair can use)."""
        return [i for i, langs in enumerate(self.languages_of) if len(langs) >= 2]

    @property
    def all_have_negatives(self) -> bool:
        return all(item.negative is not None for item in self._items.values())


def _shared_positive_groups(
    item_ids: list[str], by_key: dict[tuple[str, str], ParallelItem]
) -> list[int]:
    """Per pool index, the smallest index of the items it shares a positive text with
    (transitively; by text hash in any language). Two items of one group in a batch would
    each be the other's false negative, as in sentence-transformers' NoDuplicatesBatchSampler."""
    index = {item_id: i for i, item_id in enumerate(item_ids)}
    parent = list(range(len(item_ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for (item_id, _lang), item in sorted(by_key.items()):
        digest = hashlib.sha256(item.positive.encode("utf-8")).hexdigest()
        i = index[item_id]
        if digest in first_with:
            a, b = root(i), root(first_with[digest])
            parent[max(a, b)] = min(a, b)
        else:
            first_with[digest] = i
    return [root(i) for i in range(len(item_ids))]
