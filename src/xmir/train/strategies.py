"""The batch strategies: one registry entry each, read by every module that lists, checks,
labels or describes a strategy (the ``xmir train`` choices and its ``--alpha`` check, the
training config, sweep specs and run ids, the model card).

Each entry names its sampler (one module of :mod:`xmir.train.sampling`), the probability
that a unit it draws is monolingual (a whole batch, or a single pair), and a help line. A
new strategy is one sampler module plus one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from xmir.errors import XmirError
from xmir.train.sampling.base import BatchSampler, check_alpha
from xmir.train.sampling.cross import CrossSampler
from xmir.train.sampling.hybrid import HybridSampler
from xmir.train.sampling.mixed import MixedSampler
from xmir.train.sampling.mono import MonoSampler
from xmir.train.sampling.pool import ItemPool

MixUnit = Literal["batch", "pair"]
MONO, CROSS, HYBRID = MonoSampler.name, CrossSampler.name, HybridSampler.name
DEFAULT_STRATEGY = HYBRID
DEFAULT_ALPHA = 0.5


@dataclass(frozen=True)
class TargetMix:
    """What a strategy aims for: ``mono_share`` of its units (whole global batches, or single
    pairs) monolingual. Over pairs the two agree: a batch-level strategy's pairs are
    monolingual in the same share as its batches."""

    unit: MixUnit
    mono_share: float


@dataclass(frozen=True)
class Strategy:
    """One batch strategy. ``mono_probability``: the fixed probability that a unit is
    monolingual (1 or 0), or None when ``--alpha`` sets it. ``unit``: what one draw decides."""

    sampler: type[BatchSampler]
    help: str
    mono_probability: float | None = None
    unit: MixUnit = "batch"

    @property
    def name(self) -> str:
        return self.sampler.name

    @property
    def takes_alpha(self) -> bool:
        return self.mono_probability is None

    def effective_alpha(self, alpha: float) -> float:
        """The probability that a unit is monolingual when the run asks for ``alpha``."""
        return float(alpha) if self.mono_probability is None else self.mono_probability

    def label(self, alpha: float | None) -> str:
        """The short name in run ids and reports: ``mono``, ``hybrid0.5``."""
        if not self.takes_alpha:
            return self.name
        if alpha is None:
            raise XmirError(f"strategy {self.name} needs an alpha")
        return f"{self.name}{alpha:g}"

    def target_mix(self, alpha: float | None = None) -> TargetMix:
        """The share of monolingual units the strategy draws for ``alpha``."""
        share = self.mono_probability if alpha is None else self.effective_alpha(alpha)
        if share is None:
            raise XmirError(f"strategy {self.name} needs an alpha")
        return TargetMix(self.unit, share)


STRATEGIES: Mapping[str, Strategy] = {
    entry.name: entry
    for entry in (
        Strategy(MonoSampler, "every batch in one language (X-X)", mono_probability=1.0),
        Strategy(
            CrossSampler,
            "every pair's query and passage in different languages (X-Y)",
            mono_probability=0.0,
        ),
        Strategy(HybridSampler, "each step a mono batch with probability alpha, else cross"),
        Strategy(
            MixedSampler,
            "each pair monolingual with probability alpha, so a batch mixes mono and cross pairs",
            unit="pair",
        ),
    )
}


def names() -> tuple[str, ...]:
    """Every strategy name, in registry order."""
    return tuple(STRATEGIES)


def alpha_names() -> tuple[str, ...]:
    """The strategies whose mix ``alpha`` sets."""
    return tuple(name for name, entry in STRATEGIES.items() if entry.takes_alpha)


def get_strategy(name: str) -> Strategy:
    """The registry entry of ``name``; an unknown name is a user error."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise XmirError(
            f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}"
        ) from None


def takes_alpha(name: str) -> bool:
    """Whether ``name`` is a strategy that takes alpha (False for any other run kind)."""
    entry = STRATEGIES.get(name)
    return entry is not None and entry.takes_alpha


def parse_label(label: str) -> tuple[Strategy, float | None] | None:
    """The strategy and alpha behind a label (``hybrid0.25`` -> hybrid, 0.25); None when
    ``label`` is no strategy's label (``none``, ``wavg0.5``)."""
    if label in STRATEGIES and not STRATEGIES[label].takes_alpha:
        return STRATEGIES[label], None
    for name, entry in STRATEGIES.items():
        if entry.takes_alpha and label.startswith(name):
            try:
                return entry, float(label.removeprefix(name))
            except ValueError:
                continue
    return None


def build_sampler(
    pool: ItemPool,
    strategy: str,
    *,
    batch_size: int,
    world_size: int = 1,
    alpha: float = DEFAULT_ALPHA,
    seed: int = 0,
) -> BatchSampler:
    """The sampler of ``strategy`` over ``pool`` (``alpha`` applies where the strategy takes
    one; it is checked either way)."""
    entry = get_strategy(strategy)
    check_alpha(alpha)
    return entry.sampler(
        pool,
        batch_size=batch_size,
        world_size=world_size,
        alpha=entry.effective_alpha(alpha),
        seed=seed,
    )
