"""The held-out development split: whole articles, seeded, disjoint from the training data."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmir.data.holdout import Holdout, split_articles
from xmir.data.lareqa import load_lareqa
from xmir.data.parallel import load_training_data
from xmir.errors import XmirError


def _layout(articles: int = 20, paragraphs: int = 3, per_paragraph: int = 2):
    return {
        f"en:{a}": {
            f"en:{a}-{p}": [f"q{a}-{p}-{i}" for i in range(per_paragraph)]
            for p in range(paragraphs)
        }
        for a in range(articles)
    }


def test_split_holds_out_whole_articles_until_the_fraction_is_reached() -> None:
    layout = _layout()
    sides = split_articles(layout, Holdout(0.15, seed=3))
    total = 20 * 3 * 2
    assert len(sides.dev_ids) >= 0.15 * total
    # one article fewer would not reach the fraction: no article more than needed
    assert len(sides.dev_ids) - 6 < 0.15 * total
    for article in sides.dev_articles:  # every id of a held-out article is held out
        assert {q for ids in layout[article].values() for q in ids} <= sides.dev_ids
    assert sides.ids("train") | sides.ids("dev") == sides.ids("all")
    assert not sides.ids("train") & sides.ids("dev")
    restricted = sides.restrict(layout, "train")
    assert not set(restricted) & set(sides.dev_articles)


def test_split_is_seeded() -> None:
    layout = _layout()
    first = split_articles(layout, Holdout(0.2, seed=1))
    assert split_articles(layout, Holdout(0.2, seed=1)).dev_ids == first.dev_ids
    assert split_articles(layout, Holdout(0.2, seed=2)).dev_ids != first.dev_ids


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_fraction_out_of_range_is_refused(fraction: float) -> None:
    with pytest.raises(XmirError, match="fraction"):
        Holdout(fraction)


def test_split_that_takes_every_article_is_refused() -> None:
    with pytest.raises(XmirError, match="every article"):
        split_articles(_layout(articles=2, paragraphs=1), Holdout(0.9))


def test_mlqa_dev_split_is_disjoint_from_training_pairs(data_dir: Path) -> None:
    holdout = Holdout(0.15, seed=0)
    dev = load_lareqa("mlqa-r", data_dir, split="dev", holdout=holdout)
    train = load_lareqa("mlqa-r", data_dir, split="train", holdout=holdout)
    whole = load_lareqa("mlqa-r", data_dir)
    dev_ids, train_ids = set(dev.query_ids), set(train.query_ids)
    assert not dev_ids & train_ids
    assert dev_ids | train_ids == set(whole.query_ids)
    assert 0.15 <= len(dev_ids) / len(set(whole.query_ids)) < 0.2
    # whole articles: no article title appears on both sides
    assert not set(dev.query_titles) & set(train.query_titles)
    assert dev.split_record is not None and dev.split_record["question_ids"] == len(dev_ids)
    pairs = load_training_data("mlqa-r", data_dir=data_dir, holdout=holdout)
    assert {item.item_id for item in pairs.items} == train_ids
    assert pairs.source["split"]["split"] == "train"
    # the split does not depend on which languages are read
    german = load_lareqa("mlqa-r", data_dir, ["de"], split="dev", holdout=holdout)
    assert set(german.query_ids) <= dev_ids


def test_holdout_needs_lareqa_training_data(tmp_path: Path) -> None:
    with pytest.raises(XmirError, match="--holdout"):
        load_training_data("hf:owner/name", holdout=Holdout())
