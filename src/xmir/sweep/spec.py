"""A sweep spec: models x strategies x batch sizes x seeds, one training budget, eval sets.

Read from YAML and validated with pydantic before anything runs; every error names the
field (``strategies[2]``, ``hybrid_alphas``, ...) so a typo never costs an hour of compute.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from xmir.data.datasets import CORPUS, DATASETS, POOLED, dataset_names, training_names
from xmir.data.miracl import LANG_PLACEHOLDER, MIRACL_LANGUAGES
from xmir.errors import XmirError
from xmir.train import strategies as registry


def _known_strategy(value: str) -> str:
    if value not in registry.STRATEGIES:
        raise ValueError(f"unknown strategy {value!r}; use one of {', '.join(registry.names())}")
    return value


Strategy = Annotated[str, AfterValidator(_known_strategy)]  # a name of the strategy registry
SearchMethod = Literal["auto", "exact", "flat", "ivf", "hnsw"]
HUB_CORPUS = "hub"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HUB_DATA = re.compile(r"^hf:[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(?::[\w.-]+)?$")


def _no_duplicates(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    repeated = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if repeated:
        raise ValueError(f"duplicate {what}: {', '.join(map(str, dict.fromkeys(repeated)))}")
    return values


def _one_of(names: tuple[str, ...]) -> str:
    """``'a', 'b' or 'c'``, as pydantic words a choice."""
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _pooled_dataset(value: str) -> str:
    """A registered pooled (LAReQA) dataset name, read from the registry when validated."""
    if value not in dataset_names(POOLED):
        raise ValueError(f"Input should be {_one_of(dataset_names(POOLED))}")
    return value


def _corpus_dataset(value: str) -> str:
    """A registered corpus dataset name."""
    if value not in dataset_names(CORPUS):
        raise ValueError(f"Input should be {_one_of(dataset_names(CORPUS))}")
    return value


EvalDataset = Annotated[str, AfterValidator(_pooled_dataset)]
CorpusDataset = Annotated[str, AfterValidator(_corpus_dataset)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvalSet(_Strict):
    """One evaluation: a LAReQA dataset, optionally a sampled subset of about N question ids
    (whole paragraphs stratified by article, drawn with ``subset_seed``), or (``split: dev``)
    the development split that the spec's ``holdout`` leaves out of the training data."""

    dataset: EvalDataset
    max_questions: int | None = Field(default=None, ge=1)
    subset_seed: int = Field(default=0, ge=0)
    split: Literal["all", "dev"] = Field(
        default="all",
        description="dev: the held-out development split of the training data (for tuning)",
    )

    @property
    def key(self) -> str:
        """The name of this evaluation in run results: ``xquad-r``, or ``mlqa-r-dev``."""
        return self.dataset if self.split == "all" else f"{self.dataset}-{self.split}"

    def record(self) -> dict[str, Any]:
        """The fields that determine a result (``split`` only when not the default, so that
        results of earlier specs keep their fingerprint)."""
        return self.model_dump(exclude={"split"} if self.split == "all" else set())

    def describe(self) -> str:
        """``xquad-r about 300 questions`` (for the dry-run summary)."""
        return (
            self.key
            + (" (held-out development split)" if self.split == "dev" else "")
            + (f" about {self.max_questions} questions" if self.max_questions else "")
        )


class MiraclEvalSet(_Strict):
    """MIRACL dev (nDCG@10, Recall@100 over a passage corpus): the corpus (a folder, ``{lang}``
    placeholder allowed, or ``hub``), the languages (default all 18) and optionally a seeded
    sample of at most ``max_topics`` topics per language. Topics and qrels default to
    ``$XMIR_DATA_DIR/miracl`` unless ``topics``/``qrels`` name files (``{lang}`` allowed)."""

    dataset: CorpusDataset
    corpus: str
    languages: list[str] | None = None
    max_topics: int | None = Field(default=None, ge=1)
    subset_seed: int = Field(default=0, ge=0)
    topics: str | None = None
    qrels: str | None = None
    search: SearchMethod = "auto"
    bm25: bool = True

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("empty language list: leave the field out for all 18 languages")
        unknown = [lang for lang in value if lang not in MIRACL_LANGUAGES]
        if unknown:
            raise ValueError(
                f"unknown MIRACL language(s) {', '.join(unknown)}; "
                f"known: {', '.join(MIRACL_LANGUAGES)}"
            )
        return _no_duplicates(value, "languages")

    @model_validator(mode="after")
    def _local_files_exist(self) -> MiraclEvalSet:
        for field in ("corpus", "topics", "qrels"):
            value = getattr(self, field)
            if value is None or value == HUB_CORPUS:
                continue
            for lang in self.languages or MIRACL_LANGUAGES:
                path = Path(value.replace(LANG_PLACEHOLDER, lang)).expanduser()
                if not path.exists():
                    raise ValueError(f"{field}: {path} does not exist (for {lang}); or use 'hub'")
                if LANG_PLACEHOLDER not in value:
                    break
        return self

    @property
    def key(self) -> str:
        """The name of this evaluation in run results."""
        return self.dataset

    def record(self) -> dict[str, Any]:
        """The fields that determine a result."""
        return self.model_dump()

    @property
    def language_list(self) -> list[str]:
        """The evaluated languages (all 18 when the spec names none)."""
        return list(self.languages or MIRACL_LANGUAGES)

    def describe(self) -> str:
        """``miracl (15 languages, at most 100 topics each)`` (for the dry-run summary)."""
        topics = f", at most {self.max_topics} topics each" if self.max_topics else ""
        return f"miracl ({len(self.language_list)} languages{topics})"


UNKNOWN_DATASET = "unknown_dataset"


def _eval_kind(value: Any) -> str | None:
    """The registry kind of an eval entry's ``dataset`` (None: missing or not registered)."""
    name = value.get("dataset") if isinstance(value, dict) else getattr(value, "dataset", None)
    kinds = {entry.name: entry.kind for entry in DATASETS.values()}
    return kinds.get(name) if isinstance(name, str) else None


AnyEvalSet = Annotated[
    Annotated[EvalSet, Tag(POOLED)] | Annotated[MiraclEvalSet, Tag(CORPUS)],
    Discriminator(_eval_kind, custom_error_type=UNKNOWN_DATASET, custom_error_message="dataset"),
]


class Budget(_Strict):
    """The training budget shared by every run of the sweep (recorded in each run)."""

    steps: int = Field(ge=1)
    eval_at: list[int] = Field(
        default_factory=list,
        description="shorter budgets evaluated from snapshots of the same run (steps < steps); "
        "use lr_schedule: constant so that they equal runs of that many steps",
    )
    lr: float = Field(default=3e-5, gt=0)
    lr_schedule: Literal["linear", "constant"] = "linear"
    warmup_steps: int | None = Field(
        default=None, ge=0, description="fixed warmup steps (default: 10% of the steps)"
    )
    temperature: float = Field(default=0.05, gt=0)
    freeze_embeddings: bool = False
    beta2_reference_batch: int | None = Field(
        default=None,
        ge=1,
        description="rescale Adam beta2 for each batch size B as beta2 ** (B / this) "
        "(Marek et al. 2025); None keeps beta2 fixed",
    )
    extra_train_args: list[str] = Field(
        default_factory=list, description="passed verbatim to every `xmir train`"
    )

    @field_validator("eval_at")
    @classmethod
    def _sorted_unique_budgets(cls, value: list[int]) -> list[int]:
        if any(step < 1 for step in value):
            raise ValueError("budgets must be >= 1 step")
        return sorted(_no_duplicates(value, "budgets"))

    @model_validator(mode="after")
    def _budgets_before_the_end(self) -> Budget:
        late = [step for step in self.eval_at if step >= self.steps]
        if late:
            raise ValueError(
                f"eval_at: {', '.join(map(str, late))} is not below steps ({self.steps}); the "
                "final model is always evaluated"
            )
        if self.eval_at and self.lr_schedule != "constant":
            raise ValueError(
                "eval_at needs lr_schedule: constant (with a linear decay, step k of a long "
                "run is not a k-step budget)"
            )
        return self

    @property
    def all_budgets(self) -> list[int]:
        """Every evaluated budget, shortest first (the last is ``steps``)."""
        return [*self.eval_at, self.steps]


class HoldoutSpec(_Strict):
    """A development split held out of the LAReQA training data: about ``fraction`` of its
    question ids, whole articles drawn with ``seed`` (see :mod:`xmir.data.holdout`)."""

    fraction: float = Field(default=0.15, gt=0, lt=1)
    seed: int = Field(default=0, ge=0)


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
        raise XmirError(f"{source}: {_first_problem(error)}") from None


def load_spec(path: Path) -> SweepSpec:
    """Read and validate a YAML sweep spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise XmirError(f"cannot read sweep spec {path}: {error.strerror}") from None
    try:
        loader = _unique_key_loader()(text)  # a SafeLoader: no code tags
        try:
            payload = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = str(getattr(error, "problem", "") or "")
        if problem.startswith("duplicate key"):
            raise XmirError(f"{path}: {problem}; give each key once") from None
        tag = re.search(r"tag '(tag:yaml\.org,2002:)?([^']*)'", problem)
        if tag and isinstance(error, yaml.constructor.ConstructorError):
            shown = f"!!{tag.group(2)}" if tag.group(1) else tag.group(2)
            raise XmirError(
                f"{path}: unsafe YAML tag {shown} refused{where}; a spec holds plain values only"
            ) from None
        raise XmirError(f"{path}: not valid YAML{where}; fix the syntax") from None
    return parse_spec(payload, str(path))


@functools.cache
def _unique_key_loader() -> type:
    """yaml's SafeLoader that refuses a key given twice in one mapping (yaml keeps the last)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key {key!r} (lines {seen[key]} and "
                        f"{key_node.start_mark.line + 1})",
                        problem_mark=key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _first_problem(error: ValidationError) -> str:
    """``field.path: message`` of the first validation error (plus how many more there are);
    an unknown field comes first, with the closest valid one (a misspelt key also makes its
    intended field "missing")."""
    problems = error.errors(include_url=False)
    problems.sort(key=lambda problem: problem["type"] != "extra_forbidden")
    first = problems[0]
    field = _field_path(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field" + _closest(first["loc"])
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == UNKNOWN_DATASET:  # eval[i].dataset: missing or not registered
        given = first["input"].get("dataset") if isinstance(first["input"], dict) else None
        if not isinstance(first["input"], (dict, BaseModel)):
            message = "Input should be a valid dictionary or object to extract fields from"
        else:
            field = f"{field}.dataset"
            known = ", ".join(repr(name) for name in dataset_names())
            missing = "required field is missing"
            message = (
                missing if given is None else f"unknown dataset {str(given)!r}; use one of {known}"
            )
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{field}: {message}{more}" if field else f"{message}{more}"


def _closest(loc: tuple[Any, ...]) -> str:
    """``; did you mean 'strategies'?`` for an unknown key, or a hint to check the spelling."""
    import difflib

    names = [part for part in loc[:-1] if isinstance(part, str)]
    model: type[BaseModel] | None = SweepSpec
    if names:
        model = {"budget": Budget, "eval": EvalSet}.get(names[0])
        model = MiraclEvalSet if model is EvalSet and "miracl" in names else model
    known = list(model.model_fields) if model is not None else []
    match = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else " (check the spelling)"


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    after_index = False
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
            after_index = True
            continue
        if after_index and item in (POOLED, CORPUS):  # pydantic names the union member: drop it
            after_index = False
            continue
        parts.append(str(item))
        after_index = False
    return ".".join(parts)


class PrimaryTest(_Strict):
    """The pre-registered primary test: hybrid's all-round standing, pooled over the model
    sizes at one budget (``main``: the budget evaluated at the most sizes), on one dataset
    (default: the first eval set). Every other verdict of the report is exploratory."""

    quantity: Literal["standing"] = "standing"
    sizes: Literal["pooled"] = "pooled"
    budget: Literal["main"] | Annotated[int, Field(gt=0)] = "main"
    dataset: str | None = None


SweepSpec.model_rebuild()
