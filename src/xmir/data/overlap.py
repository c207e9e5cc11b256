"""Zero-shot guard: no evaluation text may appear among the training texts.

Texts are compared exactly and after normalisation (Unicode NFKC, case folding, punctuation
and symbols dropped, whitespace collapsed), so a copy that differs only in case, quotes or
spacing is still caught. The report goes into the run metadata either way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from xmir.errors import XmirError

MAX_EXAMPLES = 5


def normalise_text(text: str) -> str:
    """NFKC, casefold, drop punctuation/symbol characters, collapse whitespace."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(char)[0] in "PSZC" else char for char in folded)
    return " ".join(kept.split())


@dataclass(frozen=True)
class OverlapReport:
    """How many distinct training texts also occur in the evaluation set."""

    eval_name: str
    train_texts: int
    eval_texts: int
    exact_matches: int
    normalised_matches: int
    examples: list[str] = field(default_factory=list)
    allowed: bool = False

    @property
    def clean(self) -> bool:
        return self.exact_matches == 0 and self.normalised_matches == 0

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["clean"] = self.clean
        record["normalisation"] = "NFKC + casefold, punctuation/symbols dropped, spaces collapsed"
        return record


def check_overlap(
    train_texts: Iterable[str], eval_texts: Iterable[str], eval_name: str
) -> OverlapReport:
    """Count distinct training texts found in ``eval_texts`` exactly or once normalised.

    Texts that normalise to the empty string (only punctuation) are ignored.
    """
    train = set(train_texts)
    evaluation = set(eval_texts)
    exact = train & evaluation
    eval_normalised = {normalise_text(text) for text in evaluation} - {""}
    normalised = {text for text in train if normalise_text(text) in eval_normalised}
    examples = sorted(exact or normalised, key=lambda text: (len(text), text))[:MAX_EXAMPLES]
    return OverlapReport(
        eval_name=eval_name,
        train_texts=len(train),
        eval_texts=len(evaluation),
        exact_matches=len(exact),
        normalised_matches=len(normalised),
        examples=examples,
    )


def eval_texts_of(retrieval_set: Any) -> list[str]:
    """The texts of a LAReQA :class:`~xmir.data.lareqa.RetrievalSet`: queries, candidate
    sentences and their paragraphs."""
    return [
        *retrieval_set.query_texts,
        *retrieval_set.candidate_texts,
        *set(retrieval_set.candidate_contexts),
    ]


def guard_overlap(report: OverlapReport, *, allow: bool) -> OverlapReport:
    """Refuse an overlapping run unless ``allow``; returns the report marked as allowed."""
    if report.clean:
        return report
    if not allow:
        shown = "; ".join(repr(text[:60]) for text in report.examples[:3])
        raise XmirError(
            f"{report.normalised_matches} training text(s) also occur in the evaluation set "
            f"{report.eval_name} ({report.exact_matches} exactly), e.g. {shown}; the evaluation "
            "would not be zero-shot: pick other data or pass --allow-overlap"
        )
    return OverlapReport(**{**asdict(report), "allowed": True})
