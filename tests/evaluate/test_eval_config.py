"""``xmir eval`` options: ranges, choices and the options a dataset would silently ignore."""

from __future__ import annotations

import pytest

from xmir.errors import XmirError
from xmir.evaluate.config import EvalConfig


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 0}, "--batch-size must be >= 1, got 0"),
        ({"max_seq_length": 4}, "--max-seq-length must be >= 8, got 4"),
        ({"holdout": 1.0, "split": "dev"}, r"--holdout must lie in \(0, 1\), got 1.0"),
        ({"split": "test"}, "--split must be one of all, train, dev, got 'test'"),
        ({"search": "exact"}, "--search: MIRACL options; xquad-r has no corpus to search"),
        ({"bm25": False, "max_topics": 3}, "--bm25/--no-bm25, --max-topics: MIRACL options"),
        ({"seed": 3}, "--seed draws the --max-questions sample"),
        ({"holdout_seed": 1}, "--holdout and --holdout-seed define a --split"),
        ({"dataset": "miracl"}, "--dataset miracl needs --corpus"),
        ({"dataset": "miracl", "corpus": "hub", "split": "dev"}, "apply to xquad-r and mlqa-r"),
    ],
)
def test_bad_options(changes: dict[str, object], message: str) -> None:
    with pytest.raises(XmirError, match=message):
        EvalConfig(**{"model": "m", "dataset": "xquad-r", **changes})  # type: ignore[arg-type]


def test_good_options() -> None:
    lareqa = EvalConfig(model="m", dataset="mlqa-r", split="dev", holdout=0.2, seed=None)
    assert not lareqa.is_corpus and lareqa.holdout == 0.2
    miracl = EvalConfig(model="m", dataset="miracl", corpus="hub", languages=["de"], seed=1)
    assert miracl.is_corpus and miracl.languages == ("de",)
