"""Zero-shot guard: no evaluation text may appear among the training texts.

Three checks, each reported with counts and examples in the run metadata:

- whole texts, exactly and after normalisation (Unicode NFKC, case folding, punctuation and
  symbols dropped, whitespace collapsed): a match stops the run unless allowed;
- word n-gram containment: a training text that shares a run of ``NGRAM_WORDS`` or more
  normalised words with any evaluation text (a copied sentence inside a longer passage,
  boilerplate). Such training items are dropped (every translation of the item id) so the
  evaluation stays zero-shot;
- article titles: source articles of the training data that the evaluation set also uses
  (the same Wikipedia article); the items drawn from them are dropped too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from xmir.errors import XmirError

MAX_EXAMPLES = 5
NGRAM_WORDS = 8


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
    ngram_words: int = NGRAM_WORDS
    ngram_matches: int = 0
    ngram_examples: list[dict[str, str]] = field(default_factory=list)
    title_matches: int | None = None
    title_examples: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.exact_matches == 0 and self.normalised_matches == 0

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["clean"] = self.clean
        record["normalisation"] = "NFKC + casefold, punctuation/symbols dropped, spaces collapsed"
        if self.title_matches is None:
            record["title_matches"] = "not checked (the training data names no articles)"
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


def word_ngrams(text: str, size: int = NGRAM_WORDS) -> set[str]:
    """The runs of ``size`` consecutive normalised words of ``text`` (empty when shorter)."""
    words = normalise_text(text).split()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def shared_runs(
    train_texts: Iterable[str], eval_texts: Iterable[str], size: int = NGRAM_WORDS
) -> dict[str, str]:
    """Training texts that share a run of ``size`` normalised words with an evaluation text,
    each mapped to one shared run."""
    eval_grams: set[str] = set()
    for text in set(eval_texts):
        eval_grams |= word_ngrams(text, size)
    found: dict[str, str] = {}
    for text in set(train_texts):
        shared = word_ngrams(text, size) & eval_grams
        if shared:
            found[text] = min(shared)
    return found


def matching_titles(train_titles: Iterable[str], eval_titles: Iterable[str]) -> list[str]:
    """Training article titles that also title an evaluation article (normalised, with
    Wikipedia's underscores read as spaces)."""

    def key(title: str) -> str:
        return normalise_text(title.replace("_", " "))

    evaluation = {key(t) for t in eval_titles} - {""}
    return sorted({t for t in train_titles if key(t) in evaluation})


def add_containment(
    report: OverlapReport,
    train_texts: Iterable[str],
    eval_texts: Iterable[str],
    train_titles: Iterable[str] = (),
    eval_titles: Iterable[str] = (),
) -> tuple[OverlapReport, set[str], set[str]]:
    """The report with the n-gram and title checks added, the training texts to drop and the
    training article titles to drop."""
    runs = shared_runs(train_texts, eval_texts)
    shown = sorted(runs, key=lambda text: (len(text), text))[:MAX_EXAMPLES]
    train_titles = list(train_titles)
    titles = matching_titles(train_titles, eval_titles) if train_titles else None
    updated = OverlapReport(
        **{
            **asdict(report),
            "ngram_matches": len(runs),
            "ngram_examples": [{"train_text": t[:200], "shared_run": runs[t]} for t in shown],
            "title_matches": None if titles is None else len(titles),
            "title_examples": (titles or [])[:MAX_EXAMPLES],
        }
    )
    return updated, set(runs), set(titles or [])


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
