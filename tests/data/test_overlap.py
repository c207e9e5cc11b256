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


@pytest.mark.slow
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


def test_word_ngram_containment_finds_a_shared_run_inside_longer_texts() -> None:
    from xmir.data.overlap import NGRAM_WORDS, add_containment, shared_runs, word_ngrams

    assert NGRAM_WORDS == 8
    assert word_ngrams("one two three", 8) == set()
    assert len(word_ngrams(" ".join(f"w{i}" for i in range(10)), 8)) == 3
    shared = "a prime number is a natural number greater than 1 that is not a product"
    train = [f"Intro words here. {shared.upper()}, and more text.", "short unrelated text"]
    evaluation = [f"Context: {shared} of two smaller natural numbers.", "no seven word run"]
    found = shared_runs(train, evaluation)
    assert set(found) == {train[0]}
    assert found[train[0]] in shared
    # Seven shared words are not enough.
    assert shared_runs(["x " + " ".join(shared.split()[:7])], evaluation) == {}
    report = check_overlap(train, evaluation, "toy")
    report, drop, titles = add_containment(
        report, train, evaluation, ["Prime_number", "Other"], ["Prime number", "Fresno"]
    )
    assert drop == {train[0]} and report.ngram_matches == 1 and titles == {"Prime_number"}
    assert report.ngram_examples[0]["train_text"].startswith("Intro words")
    assert report.title_matches == 1 and report.title_examples == ["Prime_number"]
    record = report.to_record()
    assert record["ngram_words"] == 8


def test_title_check_is_marked_unchecked_without_training_titles() -> None:
    from xmir.data.overlap import add_containment

    report, _, _ = add_containment(check_overlap(["a"], ["b"], "toy"), ["a"], ["b"], [], ["T"])
    assert report.title_matches is None
    assert "not checked" in report.to_record()["title_matches"]


def test_training_items_sharing_a_long_run_with_mlqa_r_are_dropped(data_dir: Path) -> None:
    """Training on XQuAD-R against MLQA-R: both are Wikipedia, so some boilerplate repeats."""
    from xmir.train.config import TrainConfig
    from xmir.train.prepare import guard_zero_shot, load_training_data

    config = TrainConfig(
        model="unused",
        train_data="xquad-r",
        out=Path("unused"),
        steps=1,
        data_dir=data_dir,
        eval_data="mlqa-r",
    )
    data = load_training_data("xquad-r", data_dir=data_dir)
    record, kept = guard_zero_shot(config, data)
    assert record["checked"] and record["eval_sets"][0]["eval_name"] == "mlqa-r"
    dropped = record["dropped_item_ids"]
    assert dropped == len({i.item_id for i in data.items} - {i.item_id for i in kept.items})
    # Both sets hold the Wikipedia articles "Prime number" and "Harvard University".
    assert record["title_matches"] >= 2 and "Prime_number" in record["title_examples"]
    assert record["ngram_matches"] > 0 and record["ngram_examples"]
    prime = {i.item_id for i in data.items if "Prime_number" in data.item_titles.get(i.item_id, ())}
    assert prime and not prime & {i.item_id for i in kept.items}
