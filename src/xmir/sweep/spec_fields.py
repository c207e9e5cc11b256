"""The parts of a sweep spec: eval sets, the training budget, the held-out split and the
primary test, each a strict pydantic model (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from xmir.data.datasets import CORPUS, DATASETS, POOLED, dataset_names
from xmir.data.miracl import LANG_PLACEHOLDER, MIRACL_LANGUAGES
from xmir.train import strategies as registry


def _known_strategy(value: str) -> str:
    if value not in registry.STRATEGIES:
        raise ValueError(f"unknown strategy {value!r}; use one of {', '.join(registry.names())}")
    return value


Strategy = Annotated[str, AfterValidator(_known_strategy)]  # a name of the strategy registry
SearchMethod = Literal["auto", "exact", "flat", "ivf", "hnsw"]
HUB_CORPUS = "hub"


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


class PrimaryTest(_Strict):
    """The pre-registered primary test: hybrid's all-round standing, pooled over the model
    sizes at one budget (``main``: the budget evaluated at the most sizes), on one dataset
    (default: the first eval set). Every other verdict of the report is exploratory."""

    quantity: Literal["standing"] = "standing"
    sizes: Literal["pooled"] = "pooled"
    budget: Literal["main"] | Annotated[int, Field(gt=0)] = "main"
    dataset: str | None = None
