"""Batch plans: protocol properties (hypothesis), determinism, DDP slicing, errors."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xmir.data.parallel import ParallelItem
from xmir.errors import XmirError
from xmir.train.samplers import (
    BatchPlanner,
    BatchSampler,
    ItemPool,
    batch_records,
    summarise_mix,
)
from xmir.train.strategies import names

LANGS = ("ar", "de", "en", "es", "zh")


def _items(languages_per_item: list[tuple[str, ...]]) -> list[ParallelItem]:
    return [
        ParallelItem(f"id{i:03d}", lang, f"q {i} {lang}", f"p {i} {lang}")
        for i, langs in enumerate(languages_per_item)
        for lang in langs
    ]


@st.composite
def plans(draw: st.DrawFn, strategies: tuple[str, ...] = names()) -> tuple[ItemPool, BatchSampler]:
    """A feasible planner of one of ``strategies`` over a random parallel pool (every item in
    2+ languages)."""
    languages = draw(st.lists(st.sampled_from(LANGS), min_size=2, max_size=5, unique=True))
    n_items = draw(st.integers(8, 40))
    per_item = [
        tuple(sorted(draw(st.lists(st.sampled_from(languages), min_size=2, unique=True))))
        for _ in range(n_items)
    ]
    pool = ItemPool(_items(per_item))
    smallest = min(len(members) for members in pool.by_language.values())
    world_size = draw(st.integers(1, min(3, smallest)))
    batch_size = draw(st.integers(1, max(1, min(smallest, len(pool.cross_items)) // world_size)))
    strategy = draw(st.sampled_from(strategies))
    alpha = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**31))
    planner = BatchPlanner(
        pool, strategy, batch_size=batch_size, world_size=world_size, alpha=alpha, seed=seed
    )
    return pool, planner


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), st.integers(1, 30))
def test_every_global_batch_follows_the_protocol(case: tuple, steps: int) -> None:
    pool, planner = case
    batches = planner.plan(steps)
    assert [b.step for b in batches] == list(range(1, steps + 1))
    for batch in batches:
        assert len(batch.pairs) == planner.batch_size * planner.world_size
        ids = [pool.item_ids[p.item] for p in batch.pairs]
        assert len(set(ids)) == len(ids), "an item id twice in one global batch"
        for pair in batch.pairs:
            langs = pool.languages_of[pair.item]
            assert pair.query_lang in langs and pair.passage_lang in langs
        if batch.kind == "mono":
            assert (
                len({p.query_lang for p in batch.pairs} | {p.passage_lang for p in batch.pairs})
                == 1
            )
        elif batch.kind == "cross":
            assert all(p.query_lang != p.passage_lang for p in batch.pairs)
        expected = {"mono": {"mono"}, "cross": {"cross"}, "hybrid": {"mono", "cross"}}
        assert batch.kind in expected.get(planner.strategy, {"mixed"})
        slices = [batch.rank_pairs(r, planner.world_size) for r in range(planner.world_size)]
        assert [p for s in slices for p in s] == list(batch.pairs)
        records = batch_records(batch, pool, planner.world_size)
        assert [r.rank for r in records] == list(range(planner.world_size))
        for record, pairs in zip(records, slices, strict=True):
            assert record.type == batch.kind and record.step == batch.step
            assert record.item_ids == [pool.item_ids[p.item] for p in pairs]
            assert record.query_langs == [p.query_lang for p in pairs]
            assert record.passage_langs == [p.passage_lang for p in pairs]


@settings(max_examples=25, deadline=None)
@given(plans(), st.integers(1, 12))
def test_plans_are_deterministic_and_set_epoch_style(case: tuple, steps: int) -> None:
    pool, planner = case
    twin = BatchPlanner(
        pool,
        planner.strategy,
        batch_size=planner.batch_size,
        world_size=planner.world_size,
        alpha=planner.alpha,
        seed=planner.seed,
    )
    assert planner.plan(steps) == twin.plan(steps)
    # epoch e depends on (seed, e) only: the run's plan is the epochs back to back
    per_epoch = planner.steps_per_epoch
    epochs = math.ceil(steps / per_epoch)
    stitched = [b for e in range(epochs) for b in planner.epoch_batches(e)][:steps]
    assert stitched == planner.plan(steps)
    assert list(planner.epoch_batches(1)) == list(twin.epoch_batches(1))


def _mixed_pool(n_items: int = 60) -> ItemPool:
    languages = [LANGS[: 2 + i % 4] for i in range(n_items)]  # 2..5 languages per item
    return ItemPool(_items([tuple(langs) for langs in languages]))


@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_realised_alpha_and_coverage_over_many_steps(alpha: float) -> None:
    pool = _mixed_pool()
    planner = BatchPlanner(pool, "hybrid", batch_size=4, world_size=2, alpha=alpha, seed=7)
    steps = 2000
    batches = planner.plan(steps)
    mix = summarise_mix(batches, pool.languages)
    tolerance = 4 * math.sqrt(alpha * (1 - alpha) / steps) + 1e-9
    assert abs(mix["realised_alpha"] - alpha) <= tolerance
    assert mix["mono_steps"] + mix["cross_steps"] == steps
    assert mix["languages_not_reached"] == []
    if alpha > 0:
        # mono languages are drawn uniformly per step: each within 4 sigma of its share
        counts = mix["mono_steps_per_language"]
        n_mono, k = mix["mono_steps"], len(pool.languages)
        for lang in pool.languages:
            expected = n_mono / k
            assert abs(counts[lang] - expected) <= 4 * math.sqrt(n_mono * (1 / k) * (1 - 1 / k))
    if alpha < 1:
        # every ordered language pair that some item supports shows up in cross batches
        supported = {
            f"{a}->{b}" for langs in pool.languages_of for a in langs for b in langs if a != b
        }
        assert set(mix["cross_pairs_per_language_pair"]) == supported


def test_summary_matches_an_independent_count() -> None:
    pool = _mixed_pool()
    batches = BatchPlanner(pool, "hybrid", batch_size=3, alpha=0.5, seed=1).plan(50)
    mix = summarise_mix(batches, pool.languages)
    kinds = Counter(b.kind for b in batches)
    assert (mix["mono_steps"], mix["cross_steps"]) == (kinds["mono"], kinds["cross"])
    pairs = Counter(
        (p.query_lang, p.passage_lang) for b in batches if b.kind == "cross" for p in b.pairs
    )
    assert {
        tuple(k.split("->")): v for k, v in mix["cross_pairs_per_language_pair"].items()
    } == dict(pairs)


def test_items_cycle_through_the_pool_within_an_epoch() -> None:
    # 'de' has 6 items but is drawn for ~half of the 25 mono steps of an epoch: its items are
    # used in shuffled passes, so their use counts differ by at most one
    pool = ItemPool(_items([("de", "en")] * 6 + [("en",)] * 94))
    planner = BatchPlanner(pool, "mono", batch_size=4, seed=3)
    batches = list(planner.epoch_batches(0))
    assert len(batches) == planner.steps_per_epoch == 25
    for lang in ("de", "en"):
        used = Counter(p.item for b in batches if b.pairs[0].query_lang == lang for p in b.pairs)
        counts = [used.get(item, 0) for item in pool.by_language[lang]]
        assert max(counts) - min(counts) <= 1, (lang, counts)


@pytest.mark.parametrize("strategy", names())
def test_different_seeds_give_different_plans(strategy: str) -> None:
    pool = _mixed_pool()
    plan_a = BatchPlanner(pool, strategy, batch_size=4, seed=1).plan(20)
    plan_b = BatchPlanner(pool, strategy, batch_size=4, seed=2).plan(20)
    assert plan_a != plan_b


def test_bad_input_errors() -> None:
    pool = _mixed_pool(20)
    with pytest.raises(XmirError, match="unknown strategy"):
        BatchPlanner(pool, "random", batch_size=2)
    for alpha in (-0.1, 1.5):
        with pytest.raises(XmirError, match=r"alpha must lie in \[0, 1\]"):
            BatchPlanner(pool, "hybrid", batch_size=2, alpha=alpha)
    with pytest.raises(XmirError, match="no training items in language"):
        ItemPool(_items([("de", "en")]), languages=["de", "fr"])
    with pytest.raises(XmirError, match="holds no items"):
        ItemPool([])
    # 'zh' exists in 5 of 20 items; mono needs 2 x 3 = 6 per language
    with pytest.raises(XmirError, match="language zh has only 5"):
        BatchPlanner(pool, "mono", batch_size=3, world_size=2)
    BatchPlanner(pool, "cross", batch_size=3, world_size=2)  # cross does not need 6 per language
    with pytest.raises(XmirError, match="at least two languages"):
        BatchPlanner(ItemPool(_items([("en",)] * 10)), "cross", batch_size=2)
    with pytest.raises(XmirError, match="at least two languages"):
        BatchPlanner(ItemPool(_items([("en",), ("de",)] * 5)), "hybrid", batch_size=2)
    BatchPlanner(ItemPool(_items([("en",)] * 10)), "mono", batch_size=2)  # mono alone is fine
    with pytest.raises(XmirError, match="at least two languages"):
        BatchPlanner(ItemPool(_items([("en",)] * 10)), "mixed", batch_size=2, alpha=0.9)
    BatchPlanner(ItemPool(_items([("en",)] * 10)), "mixed", batch_size=2, alpha=1.0)
    with pytest.raises(XmirError, match="language zh has only 5"):  # any pair may be mono
        BatchPlanner(pool, "mixed", batch_size=3, world_size=2, alpha=0.1)
    with pytest.raises(XmirError, match="only 3 do"):
        BatchPlanner(ItemPool(_items([("en", "de")] * 3 + [("en",)] * 9)), "cross", batch_size=4)
    with pytest.raises(XmirError, match="appears twice"):
        ItemPool([ParallelItem("a", "en", "q", "p"), ParallelItem("a", "en", "q2", "p2")])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), st.integers(1, 40), st.integers(1, 40))
def test_a_long_plan_starts_with_the_plan_of_a_shorter_run(
    case: tuple, short: int, extra: int
) -> None:
    """Budgets as prefixes: the first k steps of an n-step plan are the k-step plan."""
    _, planner = case
    assert planner.plan(short + extra)[:short] == planner.plan(short)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(12, 30),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=8),
    st.sampled_from(names()),
    st.integers(1, 2),
    st.integers(0, 2**31),
)
def test_no_batch_holds_the_same_positive_text_twice(
    n_items: int, shared: list[tuple[int, int]], strategy: str, world_size: int, seed: int
) -> None:
    """Items whose positives are the same text (paragraph-level positives) never share a
    global batch, on any rank, and every rank still gets the same batch type and language."""
    positive = {i: f"p {i}" for i in range(n_items)}
    for a, b in shared:  # item b gets item a's positive text, in every language
        if a < n_items and b < n_items:
            positive[b] = positive[a]
    langs = ("de", "en", "es")
    items = [
        ParallelItem(f"id{i:03d}", lang, f"q {i} {lang}", f"{positive[i]} {lang}")
        for i in range(n_items)
        for lang in langs
    ]
    pool = ItemPool(items)
    try:
        planner = BatchPlanner(pool, strategy, batch_size=3, world_size=world_size, seed=seed)
    except XmirError:
        return  # too few distinct positives for a batch: refused up front, never a hang
    for batch in planner.plan(25):
        texts = [pool.get(p.item, p.passage_lang).positive for p in batch.pairs]
        assert len(texts) == len(set(texts)), batch
        records = batch_records(batch, pool, world_size)
        assert len({r.type for r in records}) == 1


def test_unique_positives_form_groups_of_one() -> None:
    """With every positive unique, each item is its own group: plans follow item ids only."""
    pool = ItemPool(_items([("de", "en", "es")] * 30))
    assert pool.text_group == list(range(30))


# ``mixed``: each pair monolingual with probability alpha, within one batch.


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(("mixed",)), st.integers(1, 25))
def test_mixed_pairs_keep_the_language_rule_and_distinct_items(case: tuple, steps: int) -> None:
    """Every pair is monolingual (query and passage in one language its item exists in) or
    cross-lingual (two different languages of its item); alpha 0 and 1 give only one kind;
    no item id nor positive text twice in a global batch."""
    pool, planner = case
    for batch in planner.plan(steps):
        assert batch.kind == "mixed"
        assert len(batch.pairs) == planner.global_size
        ids = [pool.item_ids[p.item] for p in batch.pairs]
        assert len(set(ids)) == len(ids), "an item id twice in one global batch"
        assert len({pool.text_group[p.item] for p in batch.pairs}) == len(ids)
        for pair in batch.pairs:
            langs = pool.languages_of[pair.item]
            assert pair.query_lang in langs and pair.passage_lang in langs
            assert pair.monolingual == (pair.query_lang == pair.passage_lang)
        if planner.alpha == 0.0:
            assert batch.mono_pairs == 0
        if planner.alpha == 1.0:
            assert batch.mono_pairs == len(batch.pairs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(("mixed",)), st.integers(1, 12))
def test_mixed_ranks_plan_alone_and_train_on_disjoint_slices(case: tuple, steps: int) -> None:
    """Under data parallelism each rank builds the plan on its own: every rank's planner gives
    the same global batches, and the ranks' slices are disjoint and make up the batch."""
    pool, planner = case
    world = planner.world_size
    per_rank = [
        BatchPlanner(
            pool, "mixed", batch_size=planner.batch_size, world_size=world,
            alpha=planner.alpha, seed=planner.seed,
        ).plan(steps)
        for _ in range(world)
    ]  # fmt: skip
    assert all(plan == per_rank[0] for plan in per_rank)
    for batch in per_rank[0]:
        slices = [batch.rank_pairs(rank, world) for rank in range(world)]
        assert [len(s) for s in slices] == [planner.batch_size] * world
        assert [p for s in slices for p in s] == list(batch.pairs)
        ids = [{p.item for p in s} for s in slices]
        assert sum(len(s) for s in ids) == len(set().union(*ids)), "an item on two ranks"
        records = batch_records(batch, pool, world)
        assert {r.type for r in records} == {"mixed"} and {r.step for r in records} == {batch.step}
        for record, pairs in zip(records, slices, strict=True):
            assert record.item_ids == [pool.item_ids[p.item] for p in pairs]
            assert record.query_langs == [p.query_lang for p in pairs]
            assert record.passage_langs == [p.passage_lang for p in pairs]


@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_mixed_realises_alpha_per_pair_and_mixes_within_batches(alpha: float) -> None:
    pool = _mixed_pool()
    steps, size = 1000, 8
    batches = BatchPlanner(pool, "mixed", batch_size=4, world_size=2, alpha=alpha, seed=7).plan(
        steps
    )
    mix = summarise_mix(batches, pool.languages)
    pairs = [pair for batch in batches for pair in batch.pairs]
    assert (mix["steps"], mix["mixed_steps"], mix["pairs"]) == (steps, steps, steps * size)
    assert mix["mono_pairs"] == sum(pair.monolingual for pair in pairs)
    tolerance = 4 * math.sqrt(alpha * (1 - alpha) / len(pairs)) + 1e-9
    assert abs(mix["realised_alpha"] - alpha) <= tolerance
    assert mix["languages_not_reached"] == []
    # pairs are drawn independently: a batch holds both kinds as often as the binomial says
    both = sum(0 < batch.mono_pairs < size for batch in batches) / steps
    expected = 1 - alpha**size - (1 - alpha) ** size
    assert abs(both - expected) <= 4 * math.sqrt(expected * (1 - expected) / steps) + 1e-9
    if alpha > 0:  # a monolingual pair's language is uniform over the languages
        mono, k = mix["mono_pairs"], len(pool.languages)
        for lang in pool.languages:
            count = mix["mono_pairs_per_language"][lang]
            assert abs(count - mono / k) <= 4 * math.sqrt(mono * (1 / k) * (1 - 1 / k))
    # hybrid at the same alpha has the same pair share but never mixes within a batch
    hybrid = BatchPlanner(pool, "hybrid", batch_size=4, world_size=2, alpha=alpha, seed=7)
    assert all(batch.mono_pairs in (0, size) for batch in hybrid.plan(200))


def test_mixed_plans_are_reproducible_per_seed() -> None:
    pool = _mixed_pool()

    def plan(seed: int) -> list:
        return BatchPlanner(pool, "mixed", batch_size=4, alpha=0.5, seed=seed).plan(30)

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
