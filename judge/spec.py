"""Problem specs: the pydantic model of `problems/<slug>/spec.yaml` and its loader.

A spec declares what a problem is (kind, topic), where its data comes from
(dataset recipe and split sizes), what the submission must produce (output
contract), how it is scored (metric, pass threshold, scaled points), its limits
and the verdict its starter must get. Loading errors name the file, the field
and the reason, and raise SpecError.

`kind` is open: it names a registered kind, and each kind's `KindRules` say what it
asks of a spec: its metrics, which shared sections (`output`, `function`) it needs,
its own section model (written under the kind's name: `kind: toy` with `toy: {...}`)
and any further check. The two built-in kinds' rules are registered here, because
their sections are read below judge.kinds (data, outputs, scoring); another kind's
rules come with its module, registered through `judge.kinds.register`.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from judge.errors import SpecError
from judge.verdicts import Verdict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

# The study guide's sections ("Deep learning with PyTorch", USAAIO preparation).
SECTIONS: dict[int, str] = {
    1: "Tensors and autograd",
    2: "Building an MLP",
    3: "Losses, activations and output heads",
    4: "Optimizers and learning-rate schedules",
    5: "Regularization and normalization",
    6: "CNNs (including U-Net)",
    7: "The canonical training loop",
    8: "Debugging diverging models",
}

# Metrics on predictions (train-predict) and their natural direction.
PREDICTION_METRICS: dict[str, Literal["max", "min"]] = {
    "accuracy": "max",
    "balanced_accuracy": "max",
    "macro_f1": "max",
    "micro_f1": "max",
    "dice": "max",
    "roc_auc": "max",
    "r2": "max",
    "mse": "min",
    "mae": "min",
    "log_loss": "min",
}
# Metrics that score a row of k class probabilities, output (n, k), against one class
# index in [0, k) per row, labels (n,).
CLASS_PROBABILITY_METRICS = frozenset({"log_loss"})
# The function kind's metric: the share of hidden calls answered correctly.
FUNCTION_METRICS: dict[str, Literal["max", "min"]] = {"cases": "max"}


# A Python name: a function, an attribute, a template parameter.
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretParam(_Strict):
    """A recipe parameter drawn from the secret, uniformly in [low, high]."""

    low: float
    high: float
    integer: bool = Field(False, description="draw an integer in [low, high] inclusive")

    @model_validator(mode="after")
    def _ordered(self) -> SecretParam:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an integer parameter needs whole-number low and high")
        return self


class DatasetSpec(_Strict):
    """Where the data comes from: a recipe in `datasets/` and how many rows or calls to draw."""

    recipe: Annotated[str, Field(pattern=r"^[a-z0-9_]+$", description="datasets/<recipe>.py")]
    params: dict[str, Any] = Field(default_factory=dict, description="keyword arguments")
    secret_params: dict[str, SecretParam] = Field(
        default_factory=dict,
        description="keyword arguments drawn from the secret (noise, rotation, separation)",
    )
    n_train: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    n_hidden: Annotated[
        int, Field(ge=2, le=1_000_000, description="hidden rows or calls (public + private)")
    ]
    public_fraction: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.3, description="share of hidden rows or calls scored on the public leaderboard"
    )
    per_contestant: bool = Field(
        False, description="draw each contestant's own hidden data (keyed by contestant id)"
    )

    @model_validator(mode="after")
    def _params_disjoint(self) -> DatasetSpec:
        if both := sorted(self.params.keys() & self.secret_params.keys()):
            raise ValueError(f"{', '.join(both)} given in both params and secret_params")
        return self


class OutputSpec(_Strict):
    """The output contract of a train-predict problem."""

    file: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.(npy|csv)$")]
    shape: list[int | Literal["n"]] = Field(
        description='array shape; "n" stands for the number of hidden rows'
    )
    dtype: Literal["int", "float"]

    @model_validator(mode="after")
    def _first_axis_is_rows(self) -> OutputSpec:
        if not self.shape or self.shape[0] != "n":
            raise ValueError('shape must start with "n" (one prediction per hidden row)')
        if any(isinstance(d, int) and d < 1 for d in self.shape):
            raise ValueError("fixed dimensions must be at least 1")
        return self


class FunctionSpec(_Strict):
    """The functions a function-kind submission must define, and how answers are compared."""

    names: Annotated[list[Annotated[str, Field(pattern=IDENTIFIER)]], Field(min_length=1)]
    compare: Literal["exact", "allclose"] = "exact"
    rtol: Annotated[float, Field(ge=0)] = 1e-7
    atol: Annotated[float, Field(ge=0)] = 0.0
    reference: str = Field(
        "accepted/solution.py", description="file under reference/<slug>/ giving expected values"
    )
    samples: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.json$")] | None = Field(
        None,
        description="public sample calls in the problem folder: shown in the statement with "
        "their expected values; a failed sample shows input, expected and got",
    )


class MetricSpec(_Strict):
    """The metric and whether larger or smaller is better."""

    name: str
    direction: Literal["max", "min"]
    tolerance: Annotated[float, Field(ge=0)] = Field(
        0.02, description="largest metric difference between two reference runs on one secret"
    )


class ScoringSpec(_Strict):
    """Pass threshold for AC and IOAI-style scaled points.

    points = max_points * clip((m - baseline) / (target - baseline), 0, 1); without
    baseline and target, an AC gets max_points and anything else 0.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    pass_: float = Field(alias="pass")
    baseline: float | None = None
    target: float | None = None
    max_points: Annotated[float | None, Field(gt=0)] = Field(
        None, description="default 100; a problem in parts has the sum of its parts' points"
    )

    @model_validator(mode="after")
    def _baseline_and_target_together(self) -> ScoringSpec:
        if (self.baseline is None) != (self.target is None):
            raise ValueError("baseline and target must be given together")
        if self.baseline is not None and self.baseline == self.target:
            raise ValueError("baseline and target must differ")
        return self


PART_ID = r"^[a-z0-9][a-z0-9-]{0,40}$"
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class BanRule(_Strict):
    """One thing a submission must not use: an API (a module, function or attribute) or a loop.

    api: a dotted name, "torch.optim" (the module and everything under it) or
        "numpy.linalg.inv" (one function).
    construct: "loop" (for, while and comprehensions).
    attribute: an attribute name, on any object (`.max_rows`): read, written or called.
    inside: the submission's top-level functions the rule applies in; empty: anywhere.
    """

    api: str | None = None
    construct_: Literal["loop"] | None = Field(None, alias="construct")
    attribute: Annotated[str, Field(pattern=IDENTIFIER)] | None = None
    inside: list[Annotated[str, Field(pattern=IDENTIFIER)]] = Field(default_factory=list)
    why: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> BanRule:
        if sum(x is not None for x in (self.api, self.construct_, self.attribute)) != 1:
            raise ValueError("a banned rule names exactly one of api, construct or attribute")
        if self.api is not None:
            if not DOTTED.match(self.api):
                raise ValueError(f"api {self.api!r} is not a dotted name like torch.optim")
            top = self.api.split(".")[0]
            if importlib.util.find_spec(top) is None:
                raise ValueError(f"api {self.api!r}: there is no module {top!r} to ban")
        return self

    @property
    def label(self) -> str:
        """What the rule bans, in a message: "torch.optim", "a loop in normalise"."""
        if self.api is not None:
            return self.api
        if self.attribute is not None:
            return f".{self.attribute}"
        return "a loop" + (f" in {', '.join(self.inside)}" if self.inside else "")


class PartSpec(_Strict):
    """One scored part of a problem: some of its functions, quiz items, its metric, or
    a setter's check of what the run wrote beside its predictions.

    A functions or items part is all-or-nothing over its hidden calls or items unless
    `partial: proportional`; a metric part scales between its baseline and target
    (those of `scoring` when it gives none) or is all-or-nothing on the pass threshold.
    A check part (train-predict) names a function of `reference/<slug>/checks.py`
    that reads the run's output folder and says what is wrong, or nothing; it is
    all-or-nothing.
    """

    id: Annotated[str, Field(pattern=PART_ID)]
    title: Annotated[str, Field(min_length=1)]
    points: Annotated[float, Field(gt=0, le=1000)]
    functions: list[str] = Field(default_factory=list, description="function kind")
    items: list[str] = Field(default_factory=list, description="quiz kind")
    metric: bool = Field(False, description="train-predict: the problem's metric")
    check: Annotated[str, Field(pattern=IDENTIFIER)] | None = Field(
        None, description="train-predict: a function of reference/<slug>/checks.py"
    )
    partial: Literal["none", "proportional"] = "none"
    baseline: float | None = None
    target: float | None = None
    banned: list[BanRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_check(self) -> PartSpec:
        given = [n for n in ("functions", "items", "metric", "check") if getattr(self, n)]
        if len(given) != 1:
            raise ValueError(
                f"part {self.id}: give exactly one of functions, items, metric or check"
            )
        if (self.baseline is None) != (self.target is None):
            raise ValueError(f"part {self.id}: baseline and target must be given together")
        if self.baseline is not None and (not self.metric or self.baseline == self.target):
            raise ValueError(f"part {self.id}: baseline and target scale a metric part, and differ")
        if (self.metric or self.check) and self.partial != "none":
            raise ValueError(
                f"part {self.id}: a metric part scales and a check part is all-or-nothing; "
                "partial is for calls and items"
            )
        return self


class LimitsSpec(_Strict):
    """Resource limits of one run of a submission."""

    wall_s: Annotated[float, Field(gt=0, le=3600)]
    memory_mb: Annotated[int, Field(ge=64, le=65536)]
    cpus: Annotated[int, Field(ge=1, le=64)] = 1
    output_mb: Annotated[int, Field(ge=1, le=1024)] = 16
    accelerator: Literal["cpu", "gpu"] = Field(
        "cpu", description="gpu: judged only by workers that offer a GPU (the gpu queue)"
    )


# The optional sections of a spec that kinds share; each kind needs some and no other.
SHARED_SECTIONS = ("output", "function")

Section = TypeVar("Section", bound=BaseModel)


@dataclass(frozen=True)
class KindRules:
    """What one problem kind asks of a spec.

    metrics: the metrics the kind scores, each with its direction.
    sections: the shared sections (SHARED_SECTIONS) it needs; the others must be absent.
    section: the model of the kind's own section, written under the kind's name, or None.
    check: a further check of the whole spec; raises ValueError with a one-line reason.
    runs: whether the kind runs the submission in a sandbox; one that does needs the
        `dataset` and `limits` sections, one that does not (a quiz) takes neither.
    starter: the starter's file name in the problem folder.
    default_parts: the parts of a spec that declares none (a quiz: one per item).
    suffixes: the file names a submission may have.
    """

    name: str
    metrics: Mapping[str, Literal["max", "min"]]
    sections: tuple[str, ...] = ()
    section: type[BaseModel] | None = None
    check: Callable[[ProblemSpec], None] | None = None
    runs: bool = True
    starter: str = "starter.py"
    default_parts: Callable[[ProblemSpec], list[PartSpec]] | None = None
    suffixes: tuple[str, ...] = (".py", ".ipynb")


_KIND_RULES: dict[str, KindRules] = {}


def register_kind_rules(rules: KindRules) -> KindRules:
    """Let specs name `rules.name` as their kind (judge.kinds.register calls this)."""
    if unknown := sorted(set(rules.sections) - set(SHARED_SECTIONS)):
        raise SpecError(f"kind {rules.name!r}: unknown shared section(s) {', '.join(unknown)}")
    if rules.section is not None and rules.name in ProblemSpec.model_fields:
        raise SpecError(f"kind {rules.name!r}: its own section would clash with a spec field")
    _KIND_RULES[rules.name] = rules
    return rules


def unregister_kind_rules(name: str) -> None:
    """Forget the kind called `name` (judge.kinds.unregister calls this)."""
    _KIND_RULES.pop(name, None)


def known_kinds() -> list[str]:
    """The names of the kinds a spec may declare, sorted."""
    return sorted(_KIND_RULES)


class ProblemSpec(_Strict):
    """The whole of `spec.yaml`."""

    id: Annotated[str, Field(pattern=SLUG.pattern)]
    title: Annotated[str, Field(min_length=3)]
    section: Annotated[int, Field(ge=1, le=8, description="study-guide section")]
    topic: Annotated[str, Field(min_length=3)]
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    kind: str = Field(description="a registered kind: train-predict, function, ...")
    dataset_section: DatasetSpec | None = Field(
        None, alias="dataset", description="every kind that runs code needs it"
    )
    output: OutputSpec | None = None
    function: FunctionSpec | None = None
    metric: MetricSpec
    scoring: ScoringSpec
    limits_section: LimitsSpec | None = Field(
        None, alias="limits", description="every kind that runs code needs it"
    )
    starter_verdict: Verdict
    parts: list[PartSpec] = Field(
        default_factory=list, description="scored parts; empty: the problem is one part"
    )
    banned: list[BanRule] = Field(
        default_factory=list, description="banned in every part (or the whole problem)"
    )
    # The kind's own section (KindRules.section), parsed; written under the kind's name.
    _kind_section: BaseModel | None = PrivateAttr(default=None)

    @field_validator("kind")
    @classmethod
    def _registered_kind(cls, kind: str) -> str:
        if kind not in _KIND_RULES:
            raise ValueError(f"unknown problem kind {kind!r}; known: {', '.join(known_kinds())}")
        return kind

    @model_validator(mode="wrap")
    @classmethod
    def _own_section(
        cls, data: Any, handler: ModelWrapValidatorHandler[ProblemSpec]
    ) -> ProblemSpec:
        """Take the section named after the kind out of the mapping; parse it with its model."""
        if not isinstance(data, dict):
            return handler(data)
        kind = data.get("kind")
        raw = None
        if isinstance(kind, str) and kind not in cls.model_fields and kind in data:
            raw = data[kind]
            data = {key: value for key, value in data.items() if key != kind}
        spec = handler(data)
        model = _KIND_RULES[spec.kind].section
        if model is None:
            if raw is not None:
                raise ValueError(f"{spec.kind}: unknown field; kind {spec.kind} has no own section")
            return spec
        try:
            spec._kind_section = model.model_validate({} if raw is None else raw)
        except ValidationError as exc:
            raise ValueError(describe_validation_error(exc, model, prefix=spec.kind)) from None
        return spec

    @model_serializer(mode="wrap")
    def _dump_own_section(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if self._kind_section is not None and isinstance(data, dict):
            data[self.kind] = self._kind_section.model_dump(mode=info.mode, by_alias=True)
        return data

    def kind_section(self, model: type[Section]) -> Section:
        """Return the kind's own section, parsed by `model` (its KindRules.section)."""
        if not isinstance(self._kind_section, model):
            raise SpecError(f"{self.id}: kind {self.kind} has no {model.__name__} section")
        return self._kind_section

    @model_validator(mode="after")
    def _kind_matches_sections(self) -> ProblemSpec:
        rules = _KIND_RULES[self.kind]
        for name, section in (("dataset", self.dataset_section), ("limits", self.limits_section)):
            if rules.runs and section is None:
                raise ValueError(f"{name}: a {self.kind} problem needs it")
            if not rules.runs and section is not None:
                raise ValueError(f"{name}: a {self.kind} problem runs nothing and takes none")
        given = tuple(name for name in SHARED_SECTIONS if getattr(self, name) is not None)
        if set(given) != set(rules.sections):
            others = " or ".join(f"`{s}`" for s in SHARED_SECTIONS if s not in rules.sections)
            needs = " and ".join(f"`{s}`" for s in rules.sections)
            wanted = f"needs {needs} and no {others}" if needs else f"takes no {others}"
            raise ValueError(f"a {self.kind} problem {wanted}")
        if rules.check is not None:
            rules.check(self)
        known = rules.metrics
        if self.metric.name not in known:
            raise ValueError(
                f"metric {self.metric.name!r} does not fit kind {self.kind}; "
                f"choose one of {', '.join(known)}"
            )
        if self.metric.direction != known[self.metric.name]:
            raise ValueError(f"metric {self.metric.name} is a {known[self.metric.name]} metric")
        if self.output is not None and self.metric.name in CLASS_PROBABILITY_METRICS:
            shape = self.output.shape
            classes = shape[1] if len(shape) == 2 else 2
            if len(shape) > 2 or not (isinstance(classes, int) and classes >= 2):
                raise ValueError(
                    f'metric {self.metric.name} scores probabilities of shape ["n"] or ["n", k], '
                    "k >= 2 classes"
                )
        return self

    @model_validator(mode="after")
    def _parts_fit(self) -> ProblemSpec:
        if not self.parts:
            return self
        ids = [part.id for part in self.parts]
        if duplicated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"parts: id {duplicated[0]!r} is given twice")
        given = self.scoring.max_points
        if given is not None and not math.isclose(given, self.max_points):
            raise ValueError(
                f"scoring.max_points is {given:g} but the parts sum to "
                f"{self.max_points:g}; leave max_points out when a problem has parts"
            )
        if self.function is not None:
            covered_once("function", self.function.names, [p.functions for p in self.parts])
        elif any(part.functions for part in self.parts):
            raise ValueError("parts: only a function problem's part checks functions")
        if any(part.items for part in self.parts) and self.kind != "quiz":
            raise ValueError("parts: only a quiz part checks items")
        if any(part.metric for part in self.parts) and self.kind != "train-predict":
            raise ValueError("parts: only a train-predict part checks the metric")
        if any(part.check for part in self.parts) and self.kind != "train-predict":
            raise ValueError("parts: only a train-predict part runs a setter's check")
        return self

    @property
    def dataset(self) -> DatasetSpec:
        """Where the data comes from; SpecError for a kind without data (a quiz)."""
        if self.dataset_section is None:
            raise SpecError(f"{self.id}: a {self.kind} problem has no dataset section")
        return self.dataset_section

    @property
    def limits(self) -> LimitsSpec:
        """The limits of one run; SpecError for a kind that runs nothing (a quiz)."""
        if self.limits_section is None:
            raise SpecError(f"{self.id}: a {self.kind} problem runs nothing and has no limits")
        return self.limits_section

    @property
    def runs(self) -> bool:
        """Whether the problem's kind runs the submission in a sandbox (a quiz does not)."""
        return _KIND_RULES[self.kind].runs

    @property
    def suffixes(self) -> tuple[str, ...]:
        """The file names a submission may end with (.py and .ipynb; a quiz's .yaml, .json)."""
        return _KIND_RULES[self.kind].suffixes

    @property
    def per_contestant(self) -> bool:
        """Whether each contestant gets their own draw (always, for a quiz's items)."""
        return self.dataset.per_contestant if self.runs else True

    @property
    def cpus(self) -> int:
        """The cores one run takes (1 for a kind that runs nothing: its scoring)."""
        return self.limits.cpus if self.runs else 1

    @property
    def resource(self) -> str:
        """What judging a run needs: "gpu" when the limits ask for one, else "cpu"."""
        return self.limits.accelerator if self.runs else "cpu"

    @property
    def scored_parts(self) -> list[PartSpec]:
        """The parts the problem is scored in: its own, else its kind's default (maybe none)."""
        if self.parts:
            return list(self.parts)
        default = _KIND_RULES[self.kind].default_parts
        return default(self) if default is not None else []

    @property
    def max_points(self) -> float:
        """The problem's points: the sum of its parts', or scoring.max_points without parts."""
        if parts := self.scored_parts:
            return float(sum(part.points for part in parts))
        return self.scoring.max_points if self.scoring.max_points is not None else 100.0

    def bans(self, part: PartSpec | None) -> list[BanRule]:
        """The rules that apply to `part` (None: the problem as one part)."""
        return [*self.banned, *(part.banned if part is not None else ())]

    @property
    def class_count(self) -> int | None:
        """How many classes the output's rows give probabilities for, if they are class rows.

        The hidden labels of such a problem are class indices of shape (n,), not rows
        of the output's shape.
        """
        if self.output is None or self.metric.name not in CLASS_PROBABILITY_METRICS:
            return None
        shape = self.output.shape
        return shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None

    @property
    def label_shape(self) -> tuple[int | str, ...]:
        """The trailing shape of one hidden label (the output's, but () for class rows)."""
        assert self.output is not None
        return () if self.class_count is not None else tuple(self.output.shape[1:])


def all_bans(spec: ProblemSpec) -> list[BanRule]:
    """Every banned rule of a problem: its own and its parts', each once."""
    rules: list[BanRule] = []
    for rule in [*spec.banned, *(rule for part in spec.parts for rule in part.banned)]:
        if rule not in rules:
            rules.append(rule)
    return rules


def covered_once(what: str, names: list[str], claimed: list[list[str]]) -> None:
    """Every one of `names` must be checked by exactly one part, and parts claim only those."""
    flat = [name for part in claimed for name in part]
    if unknown := sorted(set(flat) - set(names)):
        raise ValueError(f"parts: {what} {unknown[0]!r} is not one of {', '.join(names)}")
    if twice := sorted({name for name in flat if flat.count(name) > 1}):
        raise ValueError(f"parts: {what} {twice[0]!r} is checked by two parts")
    if missing := [name for name in names if name not in flat]:
        raise ValueError(f"parts: {what} {missing[0]!r} is checked by no part")


def _needs_training_rows(spec: ProblemSpec) -> None:
    if spec.dataset.n_train < 1:
        raise ValueError("a train-predict problem needs dataset.n_train >= 1")


TRAIN_PREDICT = register_kind_rules(
    KindRules("train-predict", PREDICTION_METRICS, ("output",), check=_needs_training_rows)
)
FUNCTION = register_kind_rules(KindRules("function", FUNCTION_METRICS, ("function",)))


# The quiz kind's own section (judge.kinds.quiz): items drawn per contestant.
QUIZ_METRICS: dict[str, Literal["max", "min"]] = {"points": "max"}


class QuizParam(_Strict):
    """A template parameter: an integer in [low, high], or one of `choices`."""

    low: int | None = None
    high: int | None = None
    choices: list[int | float | str] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> QuizParam:
        ranged = self.low is not None or self.high is not None
        if ranged == (self.choices is not None):
            raise ValueError("a param is either {low, high} or {choices: [...]}")
        if ranged and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError("a ranged param needs low <= high")
        if self.choices is not None and not self.choices:
            raise ValueError("choices must not be empty")
        return self


class QuizTolerance(_Strict):
    """How far a number item's answer may be from the right one: within abs or rel."""

    abs: Annotated[float, Field(ge=0)] = 0.0
    rel: Annotated[float, Field(ge=0)] = 0.0


def _fields(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError as exc:
        raise ValueError(f"bad {{field}} in {text[:40]!r}: {exc}") from None


class QuizItem(_Strict):
    """One item of a quiz (module doc)."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")]
    type: Literal["single", "multiple", "integer", "number", "shape", "text"]
    points: Annotated[float, Field(gt=0, le=100)]
    prompt: Annotated[str, Field(min_length=3)]
    params: dict[Annotated[str, Field(pattern=IDENTIFIER)], QuizParam] = Field(default_factory=dict)
    options: dict[Annotated[str, Field(pattern=r"^[a-z]$")], str] = Field(default_factory=dict)
    tolerance: QuizTolerance | None = None
    choices: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuizItem:
        choice = self.type in ("single", "multiple")
        if choice != bool(self.options):
            raise ValueError(f"item {self.id}: options are for single and multiple items only")
        if choice and len(self.options) < 2:
            raise ValueError(f"item {self.id}: give at least two options")
        if choice and len(set(self.options.values())) != len(self.options):
            raise ValueError(f"item {self.id}: two options read the same")
        if (self.type == "number") != (self.tolerance is not None):
            raise ValueError(f"item {self.id}: a number item (only) states its tolerance")
        if (self.type == "text") != bool(self.choices):
            raise ValueError(f"item {self.id}: a text item (only) lists its choices")
        if len({c.strip().lower() for c in self.choices}) != len(self.choices):
            raise ValueError(f"item {self.id}: two choices are the same word")
        used = _fields(self.prompt).union(*(_fields(text) for text in self.options.values()))
        if unknown := sorted(used - set(self.params)):
            raise ValueError(f"item {self.id}: {{{unknown[0]}}} is not one of its params")
        return self

    @property
    def function(self) -> str:
        """The name of its answer function in reference/<slug>/answers.py."""
        return self.id.replace("-", "_")


class QuizSection(_Strict):
    """The `quiz:` section of a quiz's spec."""

    items: Annotated[list[QuizItem], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> QuizSection:
        ids = [item.id for item in self.items]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"item id {twice[0]!r} is given twice")
        return self


def quiz_items(spec: ProblemSpec) -> list[QuizItem]:
    """The items of a quiz, in the spec's order."""
    return spec.kind_section(QuizSection).items


def _check_spec(spec: ProblemSpec) -> None:
    ids = [item.id for item in quiz_items(spec)]
    if spec.parts:
        covered_once("item", ids, [part.items for part in spec.parts])


def _item_parts(spec: ProblemSpec) -> list[PartSpec]:
    """Without declared parts, each item is a part of its own."""
    return [
        PartSpec.model_validate(
            {"id": item.id, "title": f"item {n}", "points": item.points, "items": [item.id]}
        )
        for n, item in enumerate(quiz_items(spec), start=1)
    ]


QUIZ = register_kind_rules(
    KindRules(
        "quiz",
        QUIZ_METRICS,
        section=QuizSection,
        check=_check_spec,
        runs=False,
        starter="answers.yaml",
        default_parts=_item_parts,
        suffixes=(".yaml", ".yml", ".json"),
    )
)


@dataclass(frozen=True)
class Problem:
    """A loaded problem: its spec and where its files live."""

    spec: ProblemSpec
    folder: Path
    reference_folder: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def statement(self) -> Path:
        return self.folder / "statement.md"

    @property
    def starter(self) -> Path:
        return self.folder / _KIND_RULES[self.spec.kind].starter


def _field_names(model: type[BaseModel]) -> set[str]:
    """Every field name of a model and of the models nested in it (for "did you mean")."""
    names: set[str] = set()
    todo, seen = [model], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, info in current.model_fields.items():
            names.add(info.alias or name)
            todo += [t for t in _nested_models(info.annotation)]
    return names


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]


def describe_validation_error(
    error: ValidationError, model: type[BaseModel], prefix: str = ""
) -> str:
    """One line naming each bad field and why; an unknown field gets a "did you mean".

    prefix: where `model` sits in a larger document (a kind's own section).
    """
    parts = []
    known = _field_names(model)
    for item in error.errors():
        path = ([prefix] if prefix else []) + [str(p) for p in item["loc"]]
        where = ".".join(path) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field"
            close = difflib.get_close_matches(str(item["loc"][-1]), sorted(known), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML file holding a mapping; SpecError names the file and what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: {what} missing") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, not a {what}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise SpecError(f"{path}: not valid YAML: {reason}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of fields at the top level")
    return raw


def load_spec(path: Path) -> ProblemSpec:
    """Load and validate one spec.yaml; SpecError names the file, the field and the reason."""
    raw = read_yaml_mapping(path, "spec file")
    try:
        return ProblemSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{path}: {describe_validation_error(exc, ProblemSpec)}") from None


def load_problem(folder: Path, reference_root: Path) -> Problem:
    """Load `folder/spec.yaml` and check the folder's name and files agree with it."""
    spec = load_spec(folder / "spec.yaml")
    if spec.id != folder.name:
        raise SpecError(f"{folder / 'spec.yaml'}: id: {spec.id!r} differs from folder name")
    for name in ("statement.md", _KIND_RULES[spec.kind].starter):
        if not (folder / name).is_file():
            raise SpecError(f"{folder / name}: required file missing")
    return Problem(spec=spec, folder=folder, reference_folder=reference_root / spec.id)


def spec_json_schema() -> str:
    """Return the JSON Schema of spec.yaml, for editors."""
    schema = ProblemSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Olympiad judge problem spec"
    return json.dumps(schema, indent=2)
