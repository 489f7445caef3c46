"""Typed pruning configs: one dataclass per criterion family, one for regularized training, one for the
schedule, composed into :class:`PruneConfig`; the method registry names each method's criterion.

Importing it needs no torch: the CLI reads its defaults and choices here while it builds ``--help``
(checking a regularizer or a criterion name loads their registries, which do), and a recipe is
checked against these classes when it is read. Every class validates itself on
construction (one :class:`ConfigError` naming the parameter) and round-trips through JSON with
``to_dict()`` / ``from_dict()``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edgeprune.errors import ConfigError

FISHER_MODES = ("sampled", "exact", "empirical", "hutchinson")
NORMS = ("l1", "l2")
SCOPES = ("global", "uniform")
NORMALIZATIONS = ("l2", "rms", "none")
GROUPINGS = ("neuron", "feature")
TARGET_PARAMS = ("ratio", "target_macs", "target_params", "target_speedup")


class Options:
    """JSON round trip shared by every config dataclass: ``to_dict()`` and ``from_dict()``."""

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values (nested configs as their own dicts)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, Options) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        """The config ``to_dict`` wrote; an unknown key is refused, naming the known ones."""
        _refuse_unknown(cls, data)
        return cls(**data)


def _refuse_unknown(cls: type, data: dict[str, Any]) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} option {unknown[0]}", hint=f"known: {', '.join(known)}",
                          params=(unknown[0],))


def _int_at_least(value: Any, low: int, param: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{param} must be an integer >= {low}, got {value!r}", params=(param,))


def _fraction(value: Any, param: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{param} must be a number from 0 to 1, got {value!r}", params=(param,))


def _choice(value: Any, choices: tuple[str, ...], param: str, hint: str | None = None) -> None:
    if value not in choices:
        raise ConfigError(f"{param} must be one of {', '.join(choices)}, got {value!r}", hint=hint, params=(param,))


# -- criterion families ------------------------------------------------------------------------------------


@dataclass
class CriterionOptions(Options):
    """Options of a criterion that takes none (random, or one registered without its own class)."""


@dataclass
class RandomOptions(CriterionOptions):
    """Random scores: seeded by the schedule's ``seed``, nothing else to set."""


@dataclass
class MagnitudeOptions(CriterionOptions):
    """Magnitude: which norm of a channel's own weights ranks it."""

    norm: str = "l1"

    def __post_init__(self) -> None:
        _choice(self.norm, NORMS, "norm")


@dataclass
class ScoringOptions(CriterionOptions):
    """Criteria that score on training examples: how many, in batches of what size."""

    samples: int = 512
    score_batch_size: int = 32

    def __post_init__(self) -> None:
        _int_at_least(self.samples, 1, "samples")
        _int_at_least(self.score_batch_size, 1, "score_batch_size")


@dataclass
class TaylorOptions(ScoringOptions):
    """The Taylor family (taylor, taylor-seed, taylor-weight): gradients on the scoring examples."""


@dataclass
class OBDOptions(ScoringOptions):
    """Optimal Brain Damage: which estimator of the Hessian diagonal, and its probes for hutchinson."""

    fisher: str = "sampled"
    hutchinson_probes: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice(self.fisher, FISHER_MODES, "fisher",
                hint="sampled: labels drawn from the model; exact: expectation over classes")
        _int_at_least(self.hutchinson_probes, 1, "hutchinson_probes")


# criterion name -> its options class (a criterion missing here takes CriterionOptions)
CRITERION_OPTIONS: dict[str, type[CriterionOptions]] = {
    "magnitude": MagnitudeOptions, "random": RandomOptions, "obd": OBDOptions,
    "taylor": TaylorOptions, "taylor-seed": TaylorOptions, "taylor-weight": TaylorOptions,
}


def options_class(criterion: str) -> type[CriterionOptions]:
    """The options class of ``criterion``."""
    return CRITERION_OPTIONS.get(criterion, CriterionOptions)


def scores_on_data(method: str) -> bool:
    """Whether ``method``'s criterion scores channels on data (then it takes ``samples``; magnitude and random do not)."""
    return issubclass(options_class(METHODS[method].criterion), ScoringOptions)


# -- regularized training and the schedule ------------------------------------------------------------------


@dataclass
class RegOptions(Options):
    """Regularized training (reg+obd, reg+taylor, obd+reg, seed): penalty, strength, groups, epochs."""

    reg: str = "hsqgl12"
    lam: float | None = None  # None: auto, the strength at which the penalty starts at 1
    grouping: str = "neuron"
    include_linear: bool = False
    reg_epochs: int | None = None  # None: the fine-tune epochs, at least 1

    def __post_init__(self) -> None:
        if self.lam is not None and (isinstance(self.lam, bool) or not isinstance(self.lam, (int, float))
                                     or not math.isfinite(self.lam) or self.lam < 0):
            raise ConfigError(f"lam must be a finite number >= 0, got {self.lam!r}",
                              hint="leave it unset for auto (the penalty starts at 1)", params=("lam",))
        _choice(self.grouping, GROUPINGS, "grouping")
        if not isinstance(self.include_linear, bool):
            raise ConfigError(f"include_linear must be true or false, got {self.include_linear!r}",
                              params=("include_linear",))
        if self.reg_epochs is not None:
            _int_at_least(self.reg_epochs, 0, "reg_epochs")
        from edgeprune.pruning.regularizers import REGULARIZERS  # torch: checked only when regularizing

        if self.reg not in REGULARIZERS:
            raise ConfigError(f"reg names an unknown regularizer {self.reg!r}", hint=f"one of {', '.join(REGULARIZERS)}",
                              params=("reg",))


@dataclass
class ScheduleOptions(Options):
    """How channels are ranked, rounded and fine-tuned across steps; the seed of every draw."""

    scope: str = "global"
    normalize: str | None = None  # None: the criterion's own (l2 for taylor-seed, rms otherwise)
    round_to: int | None = None  # None: the method's (8; seed: 1); a speedup target refuses it
    min_channels: int | None = None  # None: round_to's (8; seed: 1), for a speedup target too
    latency_weight: float = 0.0  # a speedup target's order: importance per channel (0) ... per millisecond saved (1)
    per_step: int | None = None  # remove this many filters per step instead of reaching a target
    final_epochs: int = 0
    recalibrate_bn: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        _choice(self.scope, SCOPES, "scope")
        if self.normalize is not None:
            _choice(self.normalize, NORMALIZATIONS, "normalize")
        if self.round_to is not None:
            _int_at_least(self.round_to, 1, "round_to")
        if self.min_channels is not None:
            _int_at_least(self.min_channels, 1, "min_channels")
        if self.per_step is not None:
            _int_at_least(self.per_step, 1, "per_step")
        _fraction(self.latency_weight, "latency_weight")
        _int_at_least(self.final_epochs, 0, "final_epochs")
        _int_at_least(self.seed, 0, "seed")


# -- methods -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A criterion plus regularized training before (``reg+X``, ``seed``) or after (``obd+reg``) pruning."""

    description: str
    criterion: str
    regularize: str | None = None  # None | "before" | "after"
    defaults: dict[str, Any] = field(default_factory=dict)  # option -> this method's default


METHODS: dict[str, Method] = {
    "magnitude": Method("prune the channels with the smallest weight norms", "magnitude"),
    "taylor": Method("Molchanov 2017 Taylor ranking on activations", "taylor"),
    "taylor-seed": Method("the published code's Taylor variant (signed sums)", "taylor-seed"),
    "taylor-weight": Method("weight-space Taylor |Σ w·dL/dw|", "taylor-weight"),
    "obd": Method("true Optimal Brain Damage (Fisher/Gauss-Newton Hessian diagonal)", "obd"),
    "random": Method("random channels (baseline)", "random"),
    "reg+obd": Method("HSQGL12-regularized training, then OBD pruning (the Reg+OBD paper)", "obd", "before"),
    "reg+taylor": Method("HSQGL12-regularized training, then Taylor pruning", "taylor", "before"),
    "obd+reg": Method("OBD pruning, then HSQGL12-regularized retraining", "obd", "after"),
    "seed": Method("the published pipeline: feature-wise HSQGL12, Taylor-seed ranking, fixed filters per step",
                   "taylor-seed", "before", {"grouping": "feature", "round_to": 1, "steps": 5}),
}


def list_methods() -> dict[str, str]:
    """{name: one-line description} of every method."""
    return {k: v.description for k, v in METHODS.items()}


def get_method(name: str) -> Method:
    """The method called ``name``, or a ConfigError listing the known ones."""
    if name not in METHODS:
        raise ConfigError(f"unknown pruning method {name!r}", hint=f"one of {', '.join(METHODS)}")
    return METHODS[name]


def _names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _users(option: str) -> list[str]:
    """The methods whose criterion options include ``option``."""
    return [name for name, m in METHODS.items() if option in _names(options_class(m.criterion))]


def _check_criterion(name: str) -> None:
    if name in CRITERION_OPTIONS:
        return
    from edgeprune.pruning.criteria import CRITERIA  # torch: only for a criterion registered at run time

    if name not in CRITERIA:
        raise ConfigError(f"criterion {name!r} is not registered",
                          hint=f"one of {', '.join(sorted(CRITERIA))} (edgeprune list criteria)", params=("criterion",))


@dataclass(frozen=True)
class Target:
    """What to reach: ``ratio`` of channels removed, or a kept fraction of ``macs`` / ``params``."""

    kind: str  # ratio | macs | params | latency (fraction of the predicted latency kept) | count
    value: float

    PARAMS: ClassVar[dict[str, str]] = {"ratio": "ratio", "macs": "target_macs", "params": "target_params",
                                        "latency": "target_speedup", "count": "per_step"}

    def __post_init__(self) -> None:
        param = self.PARAMS.get(self.kind, "target")
        if self.kind == "count":
            if self.value < 1:
                raise ConfigError(f"per_step (filters per step) must be >= 1, got {self.value}", params=(param,))
        elif not 0 < self.value < 1:
            raise ConfigError(f"{param} must be in (0, 1), got {self.value}",
                              params=(param, *(p for p in ("ratio", "target_macs", "target_params") if p != param)),
                              hint="ratio is the fraction removed; target_macs and target_params the fraction kept")

    @classmethod
    def from_options(cls, ratio: float | None, macs: float | None, params: float | None,
                     speedup: float | None = None) -> Target:
        """Exactly one of the four must be given (a speedup S keeps 1/S of the predicted latency)."""
        given = [(k, v) for k, v in (("ratio", ratio), ("macs", macs), ("params", params), ("speedup", speedup))
                 if v is not None]
        if len(given) != 1:
            raise ConfigError("give exactly one of ratio, target_macs, target_params, target_speedup",
                              hint="e.g. target_macs 0.25 keeps a quarter of the MACs", params=TARGET_PARAMS)
        kind, value = given[0]
        if kind == "speedup":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 1:
                raise ConfigError(f"target_speedup must be a finite number above 1, got {value!r}",
                                  hint="e.g. target_speedup 3 on ort:2", params=("target_speedup",))
            return cls("latency", 1.0 / value)
        return cls(kind, value)

    def at_step(self, step: int, steps: int) -> Target:
        """The intermediate target after ``step`` of ``steps`` (geometric for fractions kept)."""
        if self.kind == "count":
            return self
        if self.kind == "ratio":
            return Target("ratio", self.value * step / steps)
        return Target(self.kind, self.value ** (step / steps))


@dataclass
class PruneConfig(Options):
    """One pruning request: the method, one target, the steps, and the options of its families.

    ``scoring`` is the criterion's options class (:data:`CRITERION_OPTIONS`), ``regularization`` is set
    exactly when the method regularizes; either left None takes the method's defaults. Build one from
    flat keywords (the CLI's and the recipe's form) with :meth:`from_options`.
    """

    method: str
    ratio: float | None = None
    target_macs: float | None = None
    target_params: float | None = None
    target_speedup: float | None = None
    steps: int | None = None  # None: the method's (1; seed: 5)
    finetune_epochs: int = 0
    criterion: str | None = None  # None: the method's
    scoring: CriterionOptions | None = None
    regularization: RegOptions | None = None
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)

    def __post_init__(self) -> None:
        m = get_method(self.method)
        if self.steps is None:
            self.steps = int(m.defaults.get("steps", 1))
        _int_at_least(self.steps, 1, "steps")
        _int_at_least(self.finetune_epochs, 0, "finetune_epochs")
        if self.criterion is not None:
            _check_criterion(self.criterion)
        want = options_class(self.criterion_name)
        if self.scoring is None:
            self.scoring = want(**{k: v for k, v in m.defaults.items() if k in _names(want)})
        elif type(self.scoring) is not want:
            raise ConfigError(f"scoring is {type(self.scoring).__name__}, but criterion {self.criterion_name} of "
                              f"method {self.method!r} takes {want.__name__}", params=("scoring",))
        if m.regularize is None and self.regularization is not None:
            raise ConfigError(f"regularization does not apply to method {self.method!r}: it has no regularized "
                              f"training", hint=f"methods that have: {', '.join(_regularizing())}",
                              params=("regularization",))
        if m.regularize is not None and self.regularization is None:
            self.regularization = RegOptions(**{k: v for k, v in m.defaults.items() if k in _names(RegOptions)})
        target = self.target()
        if target.kind == "latency" and self.schedule.round_to is not None:
            raise ConfigError("round_to does not apply to a speedup target: widths land where the runtime's "
                              "measured latency drops", hint="drop round_to", params=("round_to",))
        if target.kind == "latency" and self.schedule.scope != "global":
            raise ConfigError(f"scope {self.schedule.scope!r} does not apply to a speedup target: the planner ranks "
                              "channels across layers", hint="drop scope", params=("scope",))
        if target.kind != "latency" and self.schedule.latency_weight != 0:
            raise ConfigError("latency_weight applies to a speedup or latency target only: a MACs target's plan "
                              "does not time its layers", hint="drop latency_weight", params=("latency_weight",))

    @property
    def criterion_name(self) -> str:
        """The criterion that scores: the override, else the method's."""
        return self.criterion or METHODS[self.method].criterion

    @property
    def round_to(self) -> int:
        """The width multiple: the schedule's, else the method's (8; seed: 1)."""
        if self.schedule.round_to is not None:
            return self.schedule.round_to
        return int(METHODS[self.method].defaults.get("round_to", 8))

    def target(self) -> Target:
        """What to reach: the one target given, or ``per_step`` filters per step."""
        given = [p for p in TARGET_PARAMS if getattr(self, p) is not None]
        if self.schedule.per_step is not None:
            if given:
                raise ConfigError(f"per_step and {given[0]} exclude each other",
                                  hint="per_step N removes N filters per step; drop it to prune to a target",
                                  params=("per_step", given[0]))
            return Target("count", self.schedule.per_step)
        return Target.from_options(self.ratio, self.target_macs, self.target_params, self.target_speedup)

    @classmethod
    def from_options(cls, method: str, **options: Any) -> PruneConfig:
        """A config from flat keywords (``fisher="exact"``, ``lam=1e-4``, ``round_to=1``, ...), each sent to its
        family; an unknown keyword, or one the method does not use, is one error naming it and its users."""
        m = get_method(method)
        top = {k: options.pop(k) for k in list(options) if k in _names(cls) - {"scoring", "regularization", "schedule"}}
        criterion = top.get("criterion") or m.criterion
        if top.get("criterion") is not None:
            _check_criterion(criterion)
        families: dict[str, dict[str, Any]] = {"scoring": {}, "regularization": {}, "schedule": {}}
        every_criterion = set().union(*(_names(c) for c in CRITERION_OPTIONS.values()))
        for key, value in options.items():
            if key in _names(ScheduleOptions):
                families["schedule"][key] = value
            elif key in _names(RegOptions):
                if m.regularize is None:
                    raise ConfigError(f"{key} does not apply to method {method!r}: it is used only by methods with "
                                      f"regularized training ({', '.join(_regularizing())})",
                                      hint=f"drop {key}, or pick a method that uses it (edgeprune list methods)",
                                      params=(key,))
                families["regularization"][key] = value
            elif key in every_criterion:
                if key not in _names(options_class(criterion)):
                    raise ConfigError(f"{key} does not apply to method {method!r} (criterion {criterion}): it is used "
                                      f"only by {', '.join(_users(key))}",
                                      hint=f"drop {key}, or pick a method that uses it (edgeprune list methods)",
                                      params=(key,))
                families["scoring"][key] = value
            else:
                known = sorted(_names(cls) - {"method", "scoring", "regularization", "schedule"} | every_criterion
                               | _names(RegOptions) | _names(ScheduleOptions))
                raise ConfigError(f"unknown pruning option {key}", hint=f"known: {', '.join(known)}", params=(key,))
        defaults = m.defaults
        want = options_class(criterion)
        scoring = want(**{**{k: v for k, v in defaults.items() if k in _names(want)}, **families["scoring"]})
        reg = (RegOptions(**{**{k: v for k, v in defaults.items() if k in _names(RegOptions)},
                             **families["regularization"]}) if m.regularize is not None else None)
        return cls(method=method, **top, scoring=scoring, regularization=reg,
                   schedule=ScheduleOptions(**families["schedule"]))

    def options(self) -> dict[str, Any]:
        """Every family option as one flat dict (the keyword form :meth:`from_options` reads)."""
        out = {**self.scoring.to_dict(), **self.schedule.to_dict()}  # type: ignore[union-attr]
        if self.regularization is not None:
            out.update(self.regularization.to_dict())
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PruneConfig:
        """The config ``to_dict`` wrote (the families as nested dicts)."""
        _refuse_unknown(cls, data)
        data = dict(data)
        criterion = data.get("criterion") or get_method(data.get("method", "")).criterion
        if data.get("scoring") is not None:
            data["scoring"] = options_class(criterion).from_dict(data["scoring"])
        if data.get("regularization") is not None:
            data["regularization"] = RegOptions.from_dict(data["regularization"])
        if data.get("schedule") is not None:
            data["schedule"] = ScheduleOptions.from_dict(data["schedule"])
        return cls(**data)


def _regularizing() -> list[str]:
    return [name for name, m in METHODS.items() if m.regularize is not None]
