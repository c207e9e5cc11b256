"""The strategy registry: names, labels, alpha and target mix of every strategy."""

from __future__ import annotations

import pytest

from xmir.errors import XmirError
from xmir.train.strategies import (
    STRATEGIES,
    TargetMix,
    alpha_names,
    build_sampler,
    get_strategy,
    names,
    parse_label,
    takes_alpha,
)


def test_the_registry_holds_each_strategy_once_under_its_sampler_name() -> None:
    assert names() == ("mono", "cross", "hybrid", "mixed")
    assert alpha_names() == ("hybrid", "mixed")
    for name, entry in STRATEGIES.items():
        assert entry.sampler.name == entry.name == name
        assert entry.help and not entry.help.endswith(".")


@pytest.mark.parametrize(
    ("name", "alpha", "label", "target"),
    [
        ("mono", None, "mono", TargetMix("batch", 1.0)),
        ("cross", 0.3, "cross", TargetMix("batch", 0.0)),
        ("hybrid", 0.25, "hybrid0.25", TargetMix("batch", 0.25)),
        ("mixed", 0.5, "mixed0.5", TargetMix("pair", 0.5)),
    ],
)
def test_labels_parse_back_and_targets_follow_alpha(
    name: str, alpha: float | None, label: str, target: TargetMix
) -> None:
    entry = get_strategy(name)
    assert entry.label(alpha) == label
    assert entry.target_mix(alpha) == target
    parsed = parse_label(label)
    assert parsed is not None and parsed[0] is entry
    assert parsed[1] == (alpha if entry.takes_alpha else None)
    assert takes_alpha(name) == entry.takes_alpha


def test_other_labels_and_names_are_no_strategy() -> None:
    for label in ("none", "wavg0.5", "ensemble0.25", "hybrid", "mixedx", "monox"):
        assert parse_label(label) is None
    assert not takes_alpha("wavg") and not takes_alpha("none")
    with pytest.raises(XmirError, match="unknown strategy 'random'; choose one of: mono, cross"):
        get_strategy("random")
    with pytest.raises(XmirError, match="needs an alpha"):
        get_strategy("hybrid").label(None)


def test_samplers_get_the_strategy_probability_and_alpha_is_checked() -> None:
    from xmir.data.parallel import ParallelItem
    from xmir.train.sampling import ItemPool

    pool = ItemPool(
        [
            ParallelItem(f"i{n}", lang, f"q{n}{lang}", f"p{n}{lang}")
            for n in range(8)
            for lang in "ab"
        ]
    )
    for name, alpha, effective in (("mono", 0.3, 1.0), ("cross", 0.3, 0.0), ("mixed", 0.3, 0.3)):
        sampler = build_sampler(pool, name, batch_size=2, alpha=alpha)
        assert (sampler.strategy, sampler.alpha) == (name, effective)
    with pytest.raises(XmirError, match=r"alpha must lie in \[0, 1\], got 1.5"):
        build_sampler(pool, "mono", batch_size=2, alpha=1.5)
