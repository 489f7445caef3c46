"""TOML recipes (stdlib tomllib) -> typed dataclasses, validated before any work starts.

A recipe names the data, the model and how to train it, a list of variants (pruned or retrained
models, each derived from the base model or from another variant), the export formats, the bench
matrix, the claim to check, the deploy targets and the report options. Every unknown key and every
bad value is a :class:`~edgeprune.errors.ConfigError` that names the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from edgeprune.bench.claims import ClaimConfig
from edgeprune.bench.config import BenchConfig
from edgeprune.bench.profiles import PROFILES
from edgeprune.deploy.config import DeviceDeployConfig
from edgeprune.errors import ConfigError
from edgeprune.export.config import DEFAULT_FORMATS, DEFAULT_OPSET, ExportConfig
from edgeprune.train import TrainConfig

TARGET_KEYS = ("target_macs", "target_params", "ratio", "target_speedup")
INT8_CHOICES = ("best", "all", "none")


def _fields(cls: type) -> list[dataclasses.Field]:
    """The fields a TOML table may set (a section lists what it hides in ``HIDDEN``)."""
    hidden = getattr(cls, "HIDDEN", ())
    return [f for f in dataclasses.fields(cls) if f.name not in hidden]


def _build(cls: type, table: Any, where: str) -> Any:
    """Build dataclass ``cls`` from a TOML table; unknown keys name the allowed ones."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table, got {type(table).__name__}")
    by_key = {f.metadata.get("key", f.name): f.name for f in _fields(cls)}
    unknown = sorted(set(table) - set(by_key))
    if unknown:
        raise ConfigError(f"unknown key {where}.{unknown[0]} in recipe",
                          hint=f"allowed keys in [{where}]: {', '.join(by_key)}")
    kwargs = {by_key[k]: v for k, v in table.items()}
    _check_types(cls, kwargs, where)  # before construction: its checks may compare values with numbers
    try:
        obj = cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e.message}", hint=e.hint) from None
    except TypeError as e:  # pragma: no cover - all fields have defaults
        raise ConfigError(f"{where}: {e}") from None
    _check_types(cls, {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, where)
    return obj


_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def _check_types(cls: type, values: dict[str, Any], where: str) -> None:
    """Scalars declared str/int/float/bool must have that TOML type (bool is not an int here)."""
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        kind = str(f.type).replace(" | None", "")
        if value is None or kind not in _TYPES:
            continue
        ok = isinstance(value, _TYPES[kind]) and not (kind in ("int", "float") and isinstance(value, bool))
        if not ok:
            key = f.metadata.get("key", f.name)
            raise ConfigError(f"{where}.{key} must be {kind}, got {value!r}")


def _in_unit(value: float | None, key: str, what: str) -> None:
    if value is not None and not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise ConfigError(f"{key} = {value!r} is out of range: must be between 0 and 1 (exclusive), {what}")


def _str_list(value: Any, key: str, choices: tuple[str, ...] | None = None) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings, got {value!r}")
    if choices is not None:
        bad = [v for v in value if v not in choices]
        if bad:
            raise ConfigError(f"{key}: {bad[0]!r} is not allowed", hint=f"one of {', '.join(choices)}")
    return list(value)


@dataclass
class DataSection:
    """Which dataset, at what size and channels, how much of it (see ``edgeprune.data.DATASETS``)."""

    name: str = "digits"
    root: str | None = None
    input_size: int | None = None
    channels: int | None = None
    fraction: float = 1.0
    download: bool = False
    sizes: list[int] | None = None  # (train, val, test) stratified subsets, e.g. the paper's [6000, 1000, 1000]

    def __post_init__(self) -> None:
        if self.sizes is not None and (not isinstance(self.sizes, list) or len(self.sizes) != 3 or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in self.sizes)):
            raise ConfigError(f"sizes = {self.sizes!r}: must be three positive integers [train, val, test]")
        if not self.name:
            raise ConfigError("name must name a dataset", hint="digits, mnist, fashionmnist, cifar10, stl10, imagefolder:PATH")
        if self.channels not in (None, 1, 3):
            raise ConfigError(f"channels = {self.channels!r}: must be 1 or 3")
        if self.input_size is not None and (not isinstance(self.input_size, int) or self.input_size < 32):
            raise ConfigError(f"input_size = {self.input_size!r}: must be an integer >= 32")
        if not isinstance(self.fraction, (int, float)) or not 0.0 < self.fraction <= 1.0:
            raise ConfigError(f"fraction = {self.fraction!r}: must be in (0, 1]")


@dataclass
class ModelSection:
    """The base model: builder name, VGG options, local pretrained weights, its label in tables."""

    name: str = "vgg16_bn"
    label: str = "VGG"
    width: float | None = None
    widths: list[int] | None = None
    classifier: str | None = None
    hidden: int | None = None
    dropout: float | None = None
    weights: str | None = None

    def __post_init__(self) -> None:
        if self.width is not None and (not isinstance(self.width, (int, float)) or self.width <= 0):
            raise ConfigError(f"width = {self.width!r}: must be > 0 (1.0 is the standard VGG)")
        if self.widths is not None and (not isinstance(self.widths, list) or not all(
                isinstance(w, int) and w > 0 for w in self.widths)):
            raise ConfigError(f"widths = {self.widths!r}: must be a list of positive integers")
        if self.classifier not in (None, "compact", "seed"):
            raise ConfigError(f"classifier = {self.classifier!r}: must be compact or seed")
        if not self.label:
            raise ConfigError("label must not be empty")

    def kwargs(self) -> dict[str, Any]:
        """Builder options that were set (passed to ``create_model``)."""
        keys = ("width", "widths", "classifier", "hidden", "dropout")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass
class TrainSection(TrainConfig):
    """Training of the base model: the fields of :class:`edgeprune.train.TrainConfig` but ``seed``.

    The recipe's top-level ``seed`` seeds every stage, so ``[train]`` does not take one.
    """

    HIDDEN = ("seed",)

    def config(self, seed: int, **overrides: Any) -> TrainConfig:
        """The TrainConfig for this section (``overrides`` win)."""
        return TrainConfig(**{**dataclasses.asdict(self), "seed": seed, **overrides})


@dataclass
class VariantSection:
    """A derived model: ``method`` prunes its parent; ``regularizer`` alone retrains it."""

    name: str = ""
    parent: str | None = field(default=None, metadata={"key": "from"})
    method: str | None = None
    target_macs: float | None = None
    target_params: float | None = None
    ratio: float | None = None
    target_speedup: float | None = None
    on: str | None = None  # the runtime a target_speedup is for, e.g. "ort:2"
    steps: int = 1
    finetune_epochs: int = 0
    regularizer: str | None = None
    lam: float | None = field(default=None, metadata={"key": "lambda"})
    epochs: int | None = None
    lr: float | None = None
    optimizer: str | None = None
    batch_size: int | None = None
    freeze_features: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("every variant needs a name", hint='e.g. name = "OBD"')
        if any(c in self.name for c in "/\\:") or self.name.startswith("."):
            raise ConfigError(f"variant name {self.name!r} may not contain / \\ : or start with a dot")
        if self.method is not None and self.regularizer is not None:
            raise ConfigError(f"variant {self.name!r} sets both method and regularizer",
                              hint="method prunes the parent; regularizer alone retrains it; chain two variants for both")
        if self.method is None and self.regularizer is None:
            raise ConfigError(f"variant {self.name!r} needs method (prune its parent) or regularizer (retrain it)",
                              hint='e.g. method = "obd" with target_macs = 0.1, or regularizer = "hsqgl12"')
        targets = [k for k in TARGET_KEYS if getattr(self, k) is not None]
        if self.method is not None and len(targets) != 1:
            raise ConfigError(f"variant {self.name!r} needs exactly one of {', '.join(TARGET_KEYS)}, got "
                              f"{', '.join(targets) or 'none'}")
        if self.method is None and self.lam is None:
            raise ConfigError(f"variant {self.name!r} retrains with {self.regularizer}: set lambda (its strength)",
                              hint="e.g. lambda = 1e-4; the Reg+OBD paper used 5e-6")
        if self.method is None and targets:
            raise ConfigError(f"variant {self.name!r} retrains without pruning: {targets[0]} needs a method")
        _in_unit(self.target_macs, "target_macs", "the fraction of the parent's MACs to keep")
        _in_unit(self.target_params, "target_params", "the fraction of the parent's parameters to keep")
        _in_unit(self.ratio, "ratio", "the fraction of channels to remove")
        if self.target_speedup is not None and not (isinstance(self.target_speedup, (int, float))
                                                    and not isinstance(self.target_speedup, bool)
                                                    and 1 < self.target_speedup < float("inf")):
            raise ConfigError(f"target_speedup = {self.target_speedup!r}: must be a number above 1",
                              hint='e.g. target_speedup = 3.0 with on = "ort:2"')
        if (self.target_speedup is None) != (self.on is None):
            raise ConfigError(f"variant {self.name!r}: target_speedup and on go together",
                              hint='e.g. target_speedup = 3.0, on = "ort:2" (the runtime to be faster on)')
        if self.on is not None:
            from edgeprune.bench.latency import parse_on

            parse_on(self.on)
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ConfigError(f"steps = {self.steps!r}: must be an integer >= 1")
        if not isinstance(self.finetune_epochs, int) or self.finetune_epochs < 0:
            raise ConfigError(f"finetune_epochs = {self.finetune_epochs!r}: must be an integer >= 0")
        if self.epochs is not None and (not isinstance(self.epochs, int) or self.epochs < 0):
            raise ConfigError(f"epochs = {self.epochs!r}: must be an integer >= 0")
        if self.lam is not None and (not isinstance(self.lam, (int, float)) or self.lam < 0):
            raise ConfigError(f"lambda = {self.lam!r}: must be >= 0")
        if self.lr is not None and (not isinstance(self.lr, (int, float)) or self.lr <= 0):
            raise ConfigError(f"lr = {self.lr!r}: must be > 0")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ConfigError(f"batch_size = {self.batch_size!r}: must be an integer >= 1")
        if not isinstance(self.options, dict):
            raise ConfigError(f"options of variant {self.name!r} must be a table")
        self._check_options()

    def _check_options(self) -> None:
        """The options table is checked by the classes that will use it: PruneConfig, or the regularizer's."""
        from edgeprune.pruning.config import METHODS, PruneConfig, RegOptions

        if self.method is None:
            allowed = ("grouping", "include_linear")  # make_regularizer's options
            unknown = sorted(set(self.options) - set(allowed))
            if unknown:
                raise ConfigError(f"variants.{self.name}.options.{unknown[0]}: a retrained variant takes only "
                                  f"{' and '.join(allowed)}", hint="pruning options need a method")
            try:
                RegOptions(**self.options)
            except ConfigError as e:
                raise ConfigError(f"variants.{self.name}.options.{e.params[0]}: {e.message}", hint=e.hint) from None
            return
        if self.method not in METHODS:
            return  # check_names says which methods exist
        try:
            PruneConfig.from_options(self.method, steps=self.steps, finetune_epochs=self.finetune_epochs,
                                     **self.target(), **self.options)
        except ConfigError as e:
            param = next((p for p in e.params if p in self.options), None)
            where = f"variants.{self.name}.options.{param}" if param else f"variant {self.name!r}"
            raise ConfigError(f"{where}: {e.message}", hint=e.hint) from None

    @property
    def kind(self) -> str:
        """``prune`` or ``retrain``."""
        return "prune" if self.method else "retrain"

    def train_overrides(self) -> dict[str, Any]:
        """TrainConfig fields this variant changes for its (re)training: all layers train unless frozen."""
        out: dict[str, Any] = {"freeze_features": self.freeze_features}
        for key in ("lr", "optimizer", "batch_size"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def target(self) -> dict[str, float]:
        """The one target keyword for ``edgeprune.pruning.prune``."""
        return {k: getattr(self, k) for k in TARGET_KEYS if getattr(self, k) is not None}


@dataclass
class ExportSection:
    """Export formats for every variant, and which get an INT8 model; the fields are ExportConfig's, checked there."""

    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    int8: str | list[str] = "best"  # a selection of variants, not ExportConfig's flag: see ``config``
    fp16: bool = False
    opset: int = DEFAULT_OPSET

    def __post_init__(self) -> None:
        self.formats = _str_list(self.formats, "formats")
        flags = [f for f in self.formats if f in ("int8", "fp16")]
        if flags:
            raise ConfigError(f"formats: {flags[0]!r} is a flag, not a format", hint=f"set {flags[0]} = ... in [export]")
        self.formats = self.config(int8=False).formats  # ExportConfig validates formats, fp16 and opset
        if "onnx" not in self.formats:
            raise ConfigError(f"formats = {self.formats}: must include onnx (every runtime but torch reads it)")
        if isinstance(self.int8, str):
            if self.int8 not in INT8_CHOICES:
                raise ConfigError(f"int8 = {self.int8!r}: must be one of {', '.join(INT8_CHOICES)} or a list of variant names")
        else:
            self.int8 = _str_list(self.int8, "int8")

    def config(self, int8: bool) -> ExportConfig:
        """The ExportConfig of one variant's export (``int8``: whether the selection picked it)."""
        return ExportConfig(formats=self.formats, int8=int8, fp16=self.fp16, opset=self.opset)


@dataclass
class BenchSection(BenchConfig):
    """The bench matrix: :class:`BenchConfig`'s fields (the claim is ``[claim]``), which variants, INT8, optional backends."""

    HIDDEN = ("claim", "device", "ssh", "web")  # the claim is [claim]'s; remote backends are not run by recipes
    profiles: list[str] = field(default_factory=lambda: list(PROFILES))  # every profile, where BenchConfig has desktop
    variants: str | list[str] = "all"
    int8: bool = True
    optional: list[str] = field(default_factory=lambda: ["web"])

    def __post_init__(self) -> None:
        self.backends = _str_list(self.backends, "backends")  # TOML gives lists; BenchConfig also takes "a,b"
        self.profiles = _str_list(self.profiles, "profiles")
        super().__post_init__()
        self.optional = _str_list(self.optional, "optional")
        if self.optional:
            BenchConfig(backends=self.optional)  # an unknown name is refused like one in backends
        if isinstance(self.variants, str):
            if self.variants != "all":
                raise ConfigError(f"variants = {self.variants!r}: must be \"all\" or a list of variant names")
        else:
            self.variants = _str_list(self.variants, "variants")


@dataclass
class ClaimSection(ClaimConfig):
    """The claim the report checks: :class:`ClaimConfig` (``speedup`` x faster on every ``on`` target, its fastest
    thread count), with at most ``max_accuracy_drop`` points less accuracy."""

    HIDDEN = ("thread_choice",)  # a verdict per runtime and profile reads its fastest thread count
    on: list[str] = field(default_factory=lambda: ["ort:lowpower", "fastest:desktop"])
    thread_choice: str = "fastest"
    max_accuracy_drop: float = 1.5

    def __post_init__(self) -> None:
        self.on = _str_list(self.on, "on")
        for item in self.on:  # the report states one verdict per runtime and profile
            backend, _, profile = item.partition(":")
            if not backend or not profile:
                raise ConfigError(f"on: {item!r} must read BACKEND:PROFILE", hint="e.g. ort:lowpower or fastest:desktop")
        super().__post_init__()
        if not isinstance(self.max_accuracy_drop, (int, float)) or self.max_accuracy_drop < 0:
            raise ConfigError(f"max_accuracy_drop = {self.max_accuracy_drop!r}: must be >= 0 (accuracy points)")


@dataclass
class DeploySection:
    """Bundles to build (when those packages are installed) and for which variant; ``target`` is DeviceDeployConfig's."""

    web: bool = True
    device: bool = True
    variant: str = "best"
    target: str = "linux-x86_64"

    def __post_init__(self) -> None:
        if isinstance(self.target, str):  # a wrong type is reported by the recipe's type check
            DeviceDeployConfig(target=self.target)  # validates: a platform the device bundle builds for


@dataclass
class ReportSection:
    """Report options: samples in the predictions grid; a published table to print beside ours."""

    samples: int = 16
    title: str = ""
    paper: dict[str, Any] = field(default_factory=dict)  # model -> {accuracy, params_removed}
    paper_source: str = ""
    paper_differs: str = ""  # what differs between the published setup and this run

    def __post_init__(self) -> None:
        if not isinstance(self.samples, int) or not 1 <= self.samples <= 64:
            raise ConfigError(f"samples = {self.samples!r}: must be an integer in 1..64")
        if not isinstance(self.paper, dict):
            raise ConfigError("paper must be a table of model = { accuracy = ..., params_removed = ... }")
        for model, row in self.paper.items():
            if not isinstance(row, dict) or set(row) - {"accuracy", "params_removed"} or "accuracy" not in row:
                raise ConfigError(f"paper.{model} must read {{ accuracy = 0.9, params_removed = 0.5 }} "
                                  "(params_removed optional)")
            for key, value in row.items():
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                    raise ConfigError(f"paper.{model}.{key} = {value!r}: must be a fraction in [0, 1]")


SECTIONS: dict[str, type] = {
    "data": DataSection, "model": ModelSection, "train": TrainSection, "export": ExportSection,
    "bench": BenchSection, "claim": ClaimSection, "deploy": DeploySection, "report": ReportSection,
}
TOP_KEYS = ("name", "description", "seed", "seeds", "fallback", "extends", "variants", *SECTIONS)


@dataclass
class Recipe:
    """A whole pipeline: data, base model, variants, export, bench, claim, deploy, report."""

    name: str
    description: str = ""
    seed: int = 0
    seeds: list[int] | None = None  # repeat training and every variant per seed (the first one is exported and timed)
    fallback: str | None = None  # a recipe (relative to this one) to run when this one's data is not installed
    data: DataSection = field(default_factory=DataSection)
    model: ModelSection = field(default_factory=ModelSection)
    train: TrainSection = field(default_factory=TrainSection)
    variants: list[VariantSection] = field(default_factory=list)
    export: ExportSection = field(default_factory=ExportSection)
    bench: BenchSection = field(default_factory=BenchSection)
    claim: ClaimSection = field(default_factory=ClaimSection)
    deploy: DeploySection = field(default_factory=DeploySection)
    report: ReportSection = field(default_factory=ReportSection)
    source: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"seed = {self.seed!r}: must be an integer")
        if self.seeds is not None:
            if not isinstance(self.seeds, list) or not self.seeds or not all(
                    isinstance(s, int) and not isinstance(s, bool) for s in self.seeds):
                raise ConfigError(f"seeds = {self.seeds!r}: must be a non-empty list of integers, e.g. [0, 1, 2]")
            if len(set(self.seeds)) != len(self.seeds):
                raise ConfigError(f"seeds = {self.seeds!r}: a seed is listed twice")
            self.seed = self.seeds[0]
        if self.fallback is not None and (not isinstance(self.fallback, str) or not self.fallback):
            raise ConfigError(f"fallback = {self.fallback!r}: must name a recipe file")
        names = [self.model.label]
        for v in self.variants:
            if v.name in names:
                raise ConfigError(f"variant name {v.name!r} is used twice (the base model is {self.model.label!r})")
            names.append(v.name)
        for v in self.variants:
            if v.parent is None:
                v.parent = self.model.label
            if v.parent not in names:
                raise ConfigError(f"variant {v.name!r}: from = {v.parent!r} names no model",
                                  hint=f"one of {', '.join(names)}")
        self.order()  # raises on cycles
        known = set(names)
        for key, value in (("export.int8", self.export.int8), ("bench.variants", self.bench.variants)):
            if isinstance(value, list):
                bad = [n for n in value if n not in known]
                if bad:
                    raise ConfigError(f"{key}: {bad[0]!r} names no model", hint=f"one of {', '.join(names)}")
        if self.deploy.variant not in ("best", *known):
            raise ConfigError(f"deploy.variant = {self.deploy.variant!r} names no model",
                              hint=f"best or one of {', '.join(names)}")

    def seed_list(self) -> list[int]:
        """The seeds the pipeline repeats (``seeds``, or just ``seed``); the first is the primary one."""
        return list(self.seeds) if self.seeds else [self.seed]

    @property
    def base(self) -> str:
        """The label of the unpruned base model."""
        return self.model.label

    def names(self) -> list[str]:
        """Base label then variant names, in recipe order."""
        return [self.base, *(v.name for v in self.variants)]

    def variant(self, name: str) -> VariantSection:
        """The variant called ``name``."""
        for v in self.variants:
            if v.name == name:
                return v
        raise ConfigError(f"no variant named {name!r}", hint=f"one of {', '.join(v.name for v in self.variants)}")

    def order(self) -> list[VariantSection]:
        """Variants sorted so that every parent comes before its children (cycles are an error)."""
        done = {self.model.label}
        out: list[VariantSection] = []
        pending = list(self.variants)
        while pending:
            ready = [v for v in pending if v.parent in done]
            if not ready:
                raise ConfigError(f"variants form a cycle: {', '.join(f'{v.name} from {v.parent}' for v in pending)}")
            for v in ready:
                out.append(v)
                done.add(v.name)
                pending.remove(v)
        return out

    def lineage(self, name: str) -> list[str]:
        """``name`` and its ancestors up to the base model, nearest first."""
        chain = [name]
        while chain[-1] != self.base:
            chain.append(self.variant(chain[-1]).parent or self.base)
        return chain

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for hashing and for the report): what a recipe can set, so fields it hides never move a key."""
        d = dataclasses.asdict(self)
        d.pop("source", None)
        for key, cls in SECTIONS.items():
            for name in getattr(cls, "HIDDEN", ()):
                d[key].pop(name, None)
        return d

    def digest(self) -> str:
        """sha256 of the normalized recipe."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def parse_recipe(table: dict[str, Any], source: str | None = None) -> Recipe:
    """Build and validate a Recipe from a parsed TOML table."""
    unknown = sorted(set(table) - set(TOP_KEYS))
    if unknown:
        raise ConfigError(f"unknown top-level key {unknown[0]!r} in recipe", hint=f"allowed: {', '.join(TOP_KEYS)}")
    if "name" not in table or not isinstance(table["name"], str) or not table["name"]:
        raise ConfigError("recipe needs name = \"...\" at the top", hint="it names the run directory runs/<name>")
    sections = {key: _build(cls, table.get(key, {}), key) for key, cls in SECTIONS.items()}
    raw_variants = table.get("variants", [])
    if not isinstance(raw_variants, list):
        raise ConfigError("variants must be an array of tables: [[variants]]")
    variants = [_build(VariantSection, v, f"variants[{i}]") for i, v in enumerate(raw_variants)]
    try:
        if "seed" in table and "seeds" in table:
            raise ConfigError("set seed or seeds, not both", hint="seeds = [0, 1, 2] repeats every model per seed")
        return Recipe(name=table["name"], description=table.get("description", ""), seed=table.get("seed", 0),
                      seeds=table.get("seeds"), fallback=table.get("fallback"), variants=variants, source=source,
                      **sections)
    except ConfigError as e:
        raise ConfigError(f"recipe {table['name']!r}: {e.message}", hint=e.hint) from None


def _read_table(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A recipe file's table, merged over the recipe it ``extends`` (sections key by key; variants replace)."""
    if not path.is_file():
        raise ConfigError(f"recipe {path} does not exist", hint="see recipes/ for examples, e.g. recipes/digits-vgg16.toml")
    if path.resolve() in chain:
        raise ConfigError(f"recipe {path} extends itself (through {', '.join(str(p) for p in chain)})")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"recipe {path} is not valid TOML: {e}") from None
    parent = table.pop("extends", None)
    if parent is None:
        return table
    if not isinstance(parent, str):
        raise ConfigError(f"recipe {path}: extends must name a recipe file, got {parent!r}")
    merged = _read_table(path.parent / parent, (*chain, path.resolve()))
    if "seeds" in table:
        merged.pop("seed", None)
    if "seed" in table:
        merged.pop("seeds", None)
    for key, value in table.items():
        if key in SECTIONS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a TOML recipe file (and the one it ``extends``)."""
    path = Path(path)
    table = _read_table(path)
    try:
        return parse_recipe(table, source=str(path))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.message}", hint=e.hint) from None


def check_names(recipe: Recipe) -> None:
    """Check method, regularizer, format and backend names against the installed registries."""
    import importlib

    checks = [
        ("edgeprune.pruning.methods", "list_methods", [(f"variants.{v.name}.method", v.method) for v in recipe.variants if v.method]),
        ("edgeprune.pruning.regularizers", "list_regularizers",
         [(f"variants.{v.name}.regularizer", v.regularizer) for v in recipe.variants if v.regularizer]),
        ("edgeprune.export", "list_formats", [("export.formats", f) for f in recipe.export.formats]),
        ("edgeprune.bench.backends", "list_backends", [("bench.backends", b) for b in recipe.bench.backends]),
    ]
    for module, func, items in checks:
        if not items:
            continue
        try:
            registry = getattr(importlib.import_module(module), func)()
        except (ImportError, AttributeError) as e:
            raise ConfigError(f"{module} is not available ({e}); the recipe needs it") from None
        allowed = list(registry)
        for key, value in items:
            if value not in allowed:
                raise ConfigError(f"{key} = {value!r} is not known", hint=f"one of {', '.join(allowed)}")
