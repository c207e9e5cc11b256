"""A held-out development split of a LAReQA dataset: whole articles, drawn with a seed.

Hyperparameters (a study's learning rate, its temperature) are chosen on data that no run
trains on and that is not a test set. The split holds out whole articles (a question's
paragraph and its article's other paragraphs share topics and wording, so a split by
question id would leak), visited in a seeded order until at least ``fraction`` of the
question ids are held out. The same (fraction, seed) always gives the same split, and
``xmir train`` leaves exactly the ids that ``xmir eval --split dev`` evaluates on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from xmir.data.subset import QuestionLayout
from xmir.errors import XmirError

Split = Literal["all", "train", "dev"]
SPLITS: tuple[str, ...] = ("all", "train", "dev")
METHOD = "whole articles in seeded order until the fraction of question ids is reached"
DEFAULT_FRACTION = 0.15


@dataclass(frozen=True)
class Holdout:
    """Which development split: about ``fraction`` of the question ids, whole articles."""

    fraction: float = DEFAULT_FRACTION
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction < 1.0:
            raise XmirError(f"the held-out fraction must lie in (0, 1), got {self.fraction}")
        if self.seed < 0:
            raise XmirError(f"the held-out split seed must be >= 0, got {self.seed}")


@dataclass(frozen=True)
class SplitLayout:
    """The two sides of a split and what it cost (for the records)."""

    holdout: Holdout
    dev_articles: tuple[str, ...]
    dev_ids: frozenset[str]
    all_ids: frozenset[str]
    articles_available: int

    def ids(self, split: Split) -> frozenset[str]:
        """The question ids of one side (``all``: every id)."""
        if split == "dev":
            return self.dev_ids
        if split == "train":
            return self.all_ids - self.dev_ids
        return self.all_ids

    def restrict(self, layout: QuestionLayout, split: Split) -> QuestionLayout:
        """``layout`` with only the articles of one side (for sampling within it)."""
        if split == "all":
            return layout
        dev = set(self.dev_articles)
        keep = (lambda key: key in dev) if split == "dev" else (lambda key: key not in dev)
        return {key: paragraphs for key, paragraphs in layout.items() if keep(key)}

    def record(self, split: Split) -> dict[str, Any]:
        """What an evaluation or training run records about its side of the split."""
        ids = self.ids(split)
        articles = (
            len(self.dev_articles)
            if split == "dev"
            else self.articles_available - len(self.dev_articles)
            if split == "train"
            else self.articles_available
        )
        return {
            "split": split,
            "method": METHOD,
            "fraction": self.holdout.fraction,
            "seed": self.holdout.seed,
            "question_ids": len(ids),
            "articles": articles,
            "dev_question_ids": len(self.dev_ids),
            "dev_articles": len(self.dev_articles),
            "articles_available": self.articles_available,
        }


def split_articles(layout: QuestionLayout, holdout: Holdout) -> SplitLayout:
    """Hold out whole articles of ``layout`` (seeded order) until >= fraction of the ids."""
    article_keys = sorted(layout)
    if len(article_keys) < 2:
        raise XmirError("a held-out split needs at least two articles")
    all_ids = frozenset(qid for paragraphs in layout.values() for ids in paragraphs.values()
                        for qid in ids)  # fmt: skip
    rng = np.random.default_rng(np.random.SeedSequence([holdout.seed, 0xDE5]))
    target = holdout.fraction * len(all_ids)
    dev_articles: list[str] = []
    dev_ids: set[str] = set()
    for index in rng.permutation(len(article_keys)):
        if len(dev_ids) >= target:
            break
        key = article_keys[index]
        dev_articles.append(key)
        dev_ids.update(qid for ids in layout[key].values() for qid in ids)
    if len(dev_articles) == len(article_keys):
        raise XmirError(
            f"holding out {holdout.fraction:g} of the question ids takes every article; "
            "use a smaller fraction"
        )
    return SplitLayout(
        holdout=holdout,
        dev_articles=tuple(dev_articles),
        dev_ids=frozenset(dev_ids),
        all_ids=all_ids,
        articles_available=len(article_keys),
    )
