"""A sweep spec: models x strategies x batch sizes x seeds, one training budget, eval sets.

Read from YAML and validated with pydantic before anything runs; every error names the
field (``strategies[2]``, ``hybrid_alphas``, ...) so a typo never costs an hour of compute.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from xmir.data.datasets import training_names
from xmir.errors import XmirError
from xmir.sweep.spec_errors import first_problem, unique_key_loader, yaml_problem
from xmir.sweep.spec_fields import (  # re-exported: the spec's parts are imported from here
    HUB_CORPUS,
    UNKNOWN_DATASET,
    AnyEvalSet,
    Budget,
    CorpusDataset,
    EvalDataset,
    EvalSet,
    HoldoutSpec,
    MiraclEvalSet,
    PrimaryTest,
    SearchMethod,
    Strategy,
    _no_duplicates,
    _Strict,
)
from xmir.train import strategies as registry

__all__ = [
    "HUB_CORPUS",
    "UNKNOWN_DATASET",
    "AnyEvalSet",
    "Budget",
    "CorpusDataset",
    "EvalDataset",
    "EvalSet",
    "HoldoutSpec",
    "MiraclEvalSet",
    "PrimaryTest",
    "SearchMethod",
    "Strategy",
    "SweepSpec",
    "load_spec",
    "parse_spec",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HUB_DATA = re.compile(r"^hf:[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(?::[\w.-]+)?$")


class SweepSpec(_Strict):
    """What to run; the cross product of the list fields is the set of runs."""

    name: str
    description: str = ""
    models: str | list[str] = Field(
        description="a ladder name (see `xmir models`) or an explicit list of model specs"
    )
    strategies: list[Strategy] = Field(min_length=1)
    hybrid_alphas: list[float] = Field(
        default_factory=lambda: [registry.DEFAULT_ALPHA],
        description="the alphas of every strategy that takes one (one run each)",
    )
    batch_sizes: list[int] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    train_data: str = "mlqa-r"
    eval: list[AnyEvalSet] = Field(min_length=1)
    budget: Budget
    learning_rates: list[float] | None = Field(
        default=None,
        description="a grid of learning rates, one run each (run ids end in -lrVALUE); "
        "replaces budget.lr",
    )
    holdout: HoldoutSpec | None = Field(
        default=None,
        description="leave a development split out of the training data (LAReQA train_data)",
    )
    tuned_by: list[str] = Field(
        default_factory=list,
        description="sweeps of this study whose dev-split results choose each (model, "
        "strategy, batch size)'s learning rate and temperature",
    )
    combinations: list[Literal["wavg", "ensemble"]] = Field(
        default_factory=list,
        description="baselines built from the mono- and cross-trained models of one size and "
        "seed at each hybrid alpha, evaluation only: wavg (weight average), ensemble (score "
        "ensemble)",
    )
    zero_shot_guard: list[EvalDataset] | None = Field(
        default=None,
        description="the LAReQA sets the training texts are checked against (default: the "
        "LAReQA eval sets); a tuning sweep names the study's test sets here",
    )
    include_untrained: bool = True
    allow_overlap: bool = Field(
        default=False, description="train even when training texts occur in an eval set"
    )
    extra_eval_args: list[str] = Field(default_factory=list)
    hardware: Literal["cpu", "gpu"] = Field(
        default="cpu",
        description="what the cost estimate assumes (dry run, shard balance); not part of "
        "any run's config",
    )
    primary: PrimaryTest | None = Field(
        default=None, description="the one pre-registered test `xmir report` gives first"
    )

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' and '-' only")
        return value

    @field_validator("models", mode="before")
    @classmethod
    def _ladder_or_model_list(cls, value: Any) -> str | list[str]:
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty ladder name")
            return value.strip()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a ladder name or a list of model specs (strings)")
        if not value:
            raise ValueError("empty model list: name a ladder or at least one model spec")
        if any(not spec.strip() for spec in value):
            raise ValueError("empty model spec in the list")
        return _no_duplicates([spec.strip() for spec in value], "models")

    @field_validator("strategies")
    @classmethod
    def _unique_strategies(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "strategies")

    @field_validator("hybrid_alphas")
    @classmethod
    def _alphas_in_range(cls, value: list[float]) -> list[float]:
        bad = [a for a in value if not 0.0 <= a <= 1.0]
        if bad:
            raise ValueError(f"alpha must be in [0, 1], got {', '.join(map(str, bad))}")
        return _no_duplicates(value, "alphas")

    @field_validator("batch_sizes")
    @classmethod
    def _positive_batches(cls, value: list[int]) -> list[int]:
        if any(b < 2 for b in value):
            raise ValueError("batch sizes must be >= 2 (in-batch negatives need a second pair)")
        return _no_duplicates(value, "batch sizes")

    @field_validator("seeds")
    @classmethod
    def _unique_seeds(cls, value: list[int]) -> list[int]:
        if any(s < 0 for s in value):
            raise ValueError("seeds must be >= 0")
        return _no_duplicates(value, "seeds")

    @field_validator("eval")
    @classmethod
    def _unique_eval_sets(
        cls, value: list[EvalSet | MiraclEvalSet]
    ) -> list[EvalSet | MiraclEvalSet]:
        _no_duplicates([e.dataset for e in value], "eval datasets")
        return value

    @field_validator("train_data")
    @classmethod
    def _known_train_data(cls, value: str) -> str:
        if value in training_names() or Path(value).expanduser().exists():
            return value
        if _HUB_DATA.match(value):  # checked for its form only: a dry run needs no hub
            return value
        raise ValueError(
            f"{value!r} is neither {' nor '.join(training_names())}, hf:OWNER/NAME[:CONFIG] "
            "nor an existing path"
        )

    @field_validator("learning_rates")
    @classmethod
    def _positive_rates(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if not value or any(not rate > 0 for rate in value):
            raise ValueError("give one or more learning rates, each > 0")
        return _no_duplicates(value, "learning rates")

    @field_validator("tuned_by")
    @classmethod
    def _unique_tuning_sweeps(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "tuning sweeps")

    @model_validator(mode="after")
    def _combinations_have_their_parts(self) -> SweepSpec:
        if not self.combinations:
            return self
        _no_duplicates(self.combinations, "combinations")
        parts = (registry.MONO, registry.CROSS, registry.HYBRID)
        missing = [s for s in parts if s not in self.strategies]
        if missing:
            raise ValueError(
                f"combinations: need mono and cross (to combine) and hybrid (its alphas); "
                f"add {', '.join(missing)} to strategies"
            )
        if self.learning_rates is not None:
            raise ValueError("combinations: not with a learning_rates grid")
        return self

    @model_validator(mode="after")
    def _tuning_is_consistent(self) -> SweepSpec:
        dev = [e for e in self.eval if isinstance(e, EvalSet) and e.split == "dev"]
        if dev and self.holdout is None:
            raise ValueError("eval: split dev needs a holdout (fraction, seed) to define it")
        if dev and any(e.dataset != self.train_data for e in dev):
            raise ValueError("eval: split dev is the held-out part of train_data; use that dataset")
        if self.holdout is not None and self.train_data not in training_names():
            raise ValueError(f"holdout: applies to {' or '.join(training_names())} train_data")
        if self.tuned_by and self.learning_rates is not None:
            raise ValueError("learning_rates: a tuned sweep takes its rate from tuned_by")
        if self.tuned_by and {"lr", "temperature"} & self.budget.model_fields_set:
            raise ValueError("budget: lr and temperature come from tuned_by; drop them")
        if self.name in self.tuned_by:
            raise ValueError("tuned_by: a sweep cannot tune itself")
        return self

    @model_validator(mode="after")
    def _primary_is_measured_here(self) -> SweepSpec:
        """A pre-registered test must name a dataset and budget this spec evaluates."""
        if self.primary is None:
            return self
        keys = [e.key for e in self.eval]
        if self.primary.dataset is not None and self.primary.dataset not in keys:
            raise ValueError(
                f"primary: dataset {self.primary.dataset!r} is not evaluated here; use one of "
                f"{', '.join(keys)}"
            )
        budgets = self.budget.all_budgets
        if isinstance(self.primary.budget, int) and self.primary.budget not in budgets:
            raise ValueError(
                f"primary: budget {self.primary.budget} is not evaluated here; use main or one "
                f"of {', '.join(map(str, budgets))}"
            )
        return self

    @model_validator(mode="after")
    def _alphas_need_hybrid(self) -> SweepSpec:
        with_alpha = [s for s in self.strategies if registry.takes_alpha(s)]
        if "hybrid_alphas" in self.model_fields_set and not with_alpha:
            names = " or ".join(repr(name) for name in registry.alpha_names())
            raise ValueError(f"hybrid_alphas: set, but strategies has no {names}")
        if with_alpha and not self.hybrid_alphas:
            raise ValueError(f"hybrid_alphas: empty, but strategies has {with_alpha[0]!r}")
        same = [
            e.dataset
            for e in self.eval
            if e.dataset == self.train_data and getattr(e, "split", "all") == "all"
        ]
        if same and not self.allow_overlap:
            raise ValueError(
                f"eval: {same[0]} is also the train_data, so this is not zero-shot; evaluate on another "
                "dataset or set allow_overlap: true"
            )
        return self


def parse_spec(payload: Any, source: str = "spec") -> SweepSpec:
    """Validate a decoded spec; a problem becomes one :class:`XmirError` line naming the field."""
    if not isinstance(payload, dict):
        raise XmirError(f"{source}: expected a mapping of fields (name, models, ...) at the top")
    try:
        return SweepSpec.model_validate(payload)
    except ValidationError as error:
        raise XmirError(f"{source}: {first_problem(error, SweepSpec)}") from None


def load_spec(path: Path) -> SweepSpec:
    """Read and validate a YAML sweep spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise XmirError(f"cannot read sweep spec {path}: {error.strerror}") from None
    try:
        loader = unique_key_loader()(text)  # a SafeLoader: no code tags
        try:
            payload = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise yaml_problem(path, error) from None
    return parse_spec(payload, str(path))


SweepSpec.model_rebuild()
