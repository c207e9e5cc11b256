"""Zero-shot guard: exact and normalised matches of training texts in evaluation texts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from xmir.data.overlap import check_overlap, eval_texts_of, guard_overlap, normalise_text
from xmir.errors import XmirError


def test_normalise_text() -> None:
    assert normalise_text("  Hello,   WORLD!! ") == "hello world"
    assert normalise_text("“Straße”") == normalise_text('"STRASSE"')  # quotes, casefold ß
    assert normalise_text("ｆｕｌｌ\u3000width") == "full width"  # NFKC
    assert normalise_text("北京是中国的首都。") == "北京是中国的首都"
    assert normalise_text("?!") == ""


def test_check_overlap_counts_exact_and_normalised() -> None:
    train = ["What is X?", "what is x", "Unique training text", "Unique training text", "..."]
    evaluation = ["What is X?", "Something else", "!!!"]
    report = check_overlap(train, evaluation, "toy")
    # distinct training texts: 4; exactly "What is X?"; normalised also "what is x";
    # "..." normalises to nothing and must not match "!!!"
    assert (report.train_texts, report.eval_texts) == (4, 3)
    assert report.exact_matches == 1
    assert report.normalised_matches == 2
    assert report.examples == ["What is X?"]
    assert not report.clean
    record = report.to_record()
    assert record["clean"] is False and record["eval_name"] == "toy"


def test_guard_refuses_unless_allowed() -> None:
    dirty = check_overlap(["a b c"], ["A, B c."], "toy")
    assert (dirty.exact_matches, dirty.normalised_matches) == (0, 1)
    with pytest.raises(XmirError, match="--allow-overlap"):
        guard_overlap(dirty, allow=False)
    allowed = guard_overlap(dirty, allow=True)
    assert allowed.allowed and allowed.normalised_matches == 1
    clean = check_overlap(["a"], ["b"], "toy")
    assert guard_overlap(clean, allow=False) is clean and clean.clean


def test_eval_texts_of_covers_queries_candidates_and_paragraphs() -> None:
    rset = SimpleNamespace(
        query_texts=["q1", "q2"],
        candidate_texts=["s1", "s2"],
        candidate_contexts=["p1", "p1"],
    )
    assert sorted(eval_texts_of(rset)) == ["p1", "q1", "q2", "s1", "s2"]


def test_mlqa_r_and_xquad_r_are_disjoint(data_dir: Path) -> None:
    from xmir.data.lareqa import load_lareqa
    from xmir.data.parallel import read_lareqa_items

    train = read_lareqa_items("mlqa-r", data_dir=data_dir, with_context=True)
    report = check_overlap(
        train.texts(), eval_texts_of(load_lareqa("xquad-r", data_dir)), "xquad-r"
    )
    assert report.clean, report.examples
    same = check_overlap(train.texts(), eval_texts_of(load_lareqa("mlqa-r", data_dir)), "mlqa-r")
    assert same.exact_matches > 4000
