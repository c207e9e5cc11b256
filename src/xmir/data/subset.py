"""A representative question subset: whole paragraphs, stratified by article, seeded.

LAReQA question ids sort by article, so "the first N ids" covers a handful of articles. This
sample instead visits the articles in a seeded random order, round after round, and takes one
not-yet-taken paragraph (also in seeded order) of each article per round until about N
question ids are reached. Every article contributes about equally, whole paragraphs keep the
candidate pool of each kept question intact, and the seed is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xmir.errors import XmirError

# article key -> paragraph key -> question ids (in file order); keys are "lang:index".
QuestionLayout = dict[str, dict[str, list[str]]]

METHOD = "whole paragraphs, stratified by article (round-robin over seeded article order)"


@dataclass(frozen=True)
class Subset:
    """The chosen paragraphs and question ids, with what was asked for."""

    requested: int
    seed: int
    question_ids: tuple[str, ...]
    paragraphs: tuple[str, ...]
    articles: tuple[str, ...]
    articles_available: int

    def describe(self) -> str:
        return (
            f"{len(self.question_ids)} question ids from {len(self.paragraphs)} paragraphs of "
            f"{len(self.articles)}/{self.articles_available} articles (seed {self.seed})"
        )

    def record(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "requested_question_ids": self.requested,
            "seed": self.seed,
            "question_ids": len(self.question_ids),
            "paragraphs": len(self.paragraphs),
            "articles": len(self.articles),
            "articles_available": self.articles_available,
        }


def sample_paragraphs(layout: QuestionLayout, max_questions: int, seed: int) -> Subset:
    """Take whole paragraphs round-robin over seeded-shuffled articles until >= N ids."""
    if max_questions < 1:
        raise XmirError(f"max_questions must be >= 1, got {max_questions}")
    if seed < 0:
        raise XmirError(f"the subset seed must be >= 0, got {seed}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5B5E7]))
    article_keys = sorted(layout)
    article_order = [article_keys[i] for i in rng.permutation(len(article_keys))]
    queues = {
        key: [sorted(layout[key])[i] for i in rng.permutation(len(layout[key]))]
        for key in article_order
    }
    ids: list[str] = []
    paragraphs: list[str] = []
    articles: dict[str, None] = {}
    round_index = 0
    while len(ids) < max_questions and any(len(q) > round_index for q in queues.values()):
        for key in article_order:
            if len(ids) >= max_questions:
                break
            if round_index < len(queues[key]):
                paragraph = queues[key][round_index]
                ids.extend(layout[key][paragraph])
                paragraphs.append(paragraph)
                articles[key] = None
        round_index += 1
    return Subset(
        requested=max_questions,
        seed=seed,
        question_ids=tuple(ids),
        paragraphs=tuple(paragraphs),
        articles=tuple(articles),
        articles_available=len(article_keys),
    )
