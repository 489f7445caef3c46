"""Named pruning methods: a criterion, optionally with regularized training before or after pruning.

``prune(model, method, data, ...)`` is the stage's verb (see docs/dev/contracts.md); ``regularize``
is the HSQGL12 retraining without pruning (model 2 of the Reg+OBD paper).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.accuracy import interval_text
from edgeprune.data import DataBundle
from edgeprune.errors import ConfigError
from edgeprune.fileio import read_json, sha256_file, write_json
from edgeprune.models import attach_spec, load_checkpoint, save_checkpoint, spec_of
from edgeprune.models.support import check_supported
from edgeprune.pruning.criteria import CriterionConfig, get_criterion
from edgeprune.pruning.latency import LatencyTable, layers_of
from edgeprune.pruning.regularizers import make_regularizer
from edgeprune.pruning.report import model_summary, write_report
from edgeprune.pruning.schedule import Schedule, StepCallback, accuracy, run_schedule
from edgeprune.pruning.targets import PlanConfig, Target
from edgeprune.train import TrainConfig, fit
from edgeprune.ui import log


@dataclass(frozen=True)
class Method:
    """A criterion plus regularized training before (``reg+X``, ``seed``) or after (``obd+reg``) pruning."""

    description: str
    criterion: str
    regularize: str | None = None  # None | "before" | "after"
    defaults: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class PruneOptions:
    """Method options beyond the target (all keyword arguments of :func:`prune`)."""

    reg: str = "hsqgl12"
    lam: float | None = None  # None: auto_lambda (the penalty starts at 1)
    grouping: str = "neuron"
    include_linear: bool = False
    reg_epochs: int | None = None  # default: the fine-tune epochs, at least 1
    criterion: str | None = None  # override the method's criterion
    samples: int = 512
    score_batch_size: int = 32
    norm: str = "l1"
    fisher: str = "sampled"
    hutchinson_probes: int = 4
    scope: str = "global"
    normalize: str | None = None
    round_to: int = 8
    min_channels: int = 1
    per_step: int | None = None
    final_epochs: int = 0
    recalibrate_bn: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.reg_epochs is not None and self.reg_epochs < 0:
            raise ConfigError(f"reg_epochs must be >= 0, got {self.reg_epochs}")
        if self.final_epochs < 0:
            raise ConfigError(f"final_epochs must be >= 0, got {self.final_epochs}")
        make_regularizer(self.reg, 1.0 if self.lam is None else self.lam, self.grouping, self.include_linear)  # validates
        if self.criterion is not None:
            get_criterion(self.criterion)


def _options(method: Method, given: dict[str, Any]) -> PruneOptions:
    known = {f.name for f in dataclasses.fields(PruneOptions)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(f"unknown pruning option(s) {', '.join(unknown)}", hint=f"known: {', '.join(sorted(known))}")
    merged = {k: v for k, v in method.defaults.items() if k in known}
    merged.update(given)
    return PruneOptions(**merged)


def auto_lambda(model: nn.Module, reg: str = "hsqgl12", grouping: str = "neuron", include_linear: bool = False) -> float:
    """The strength at which the penalty of ``model`` equals 1, about a cross-entropy's size at the start.

    Penalties scale with the network (HSQGL12 is about 2e7 on the half-width digits VGG16, 4e6 at
    quarter width), so one fixed default would be either negligible or overwhelming.
    """
    import torch

    with torch.no_grad():
        value = float(make_regularizer(reg, 1.0, grouping, include_linear)(model))
    return 1.0 / value if value > 0 else 0.0


def regularize(model: nn.Module, data: DataBundle, reg: str = "hsqgl12", lam: float | None = None, epochs: int = 10,
               grouping: str = "neuron", include_linear: bool = False, train_config: TrainConfig | None = None,
               out: str | os.PathLike[str] | None = None) -> nn.Module:
    """Retrain a copy of ``model`` with a sparsity regularizer added to the loss (no pruning)."""
    if lam is None:
        lam = auto_lambda(model, reg, grouping, include_linear)
        log(f"{reg}: lambda {lam:.3g} (auto: the penalty starts at 1)")
    fn = make_regularizer(reg, lam, grouping, include_linear)
    cfg = dataclasses.replace(train_config or TrainConfig(), epochs=epochs)
    spec = spec_of(model)
    work = attach_spec(copy.deepcopy(model), spec)
    fit(work, data, cfg, regularizer=fn)
    work = work.cpu().eval()
    prov = {**spec.provenance, "regularizer": {"name": reg, "lam": lam, "grouping": grouping,
                                               "include_linear": include_linear, "epochs": epochs}}
    attach_spec(work, spec.replace(provenance=prov))
    if out is not None:
        save_checkpoint(work, Path(out) / "model.safetensors")
    return work


# Options that only some methods use: option -> (CLI flag, which methods use it).
_ONLY_FOR = {
    "fisher": ("--fisher", "the obd criterion"), "hutchinson_probes": ("hutchinson_probes", "the obd criterion"),
    "norm": ("--norm", "the magnitude criterion"),
    **{k: (flag, "methods with regularized training (reg+obd, reg+taylor, obd+reg, seed)") for k, flag in
       (("reg", "--reg"), ("lam", "--reg-lambda"), ("grouping", "--grouping"), ("include_linear", "--include-linear"),
        ("reg_epochs", "--reg-epochs"))},
}


def check_prune(method: str, *, ratio: float | None = None, target_macs: float | None = None,
                target_params: float | None = None, target_speedup: float | None = None, steps: int | None = None,
                finetune_epochs: int = 0, **options: Any) -> tuple[Method, int, PruneOptions, Target]:
    """Validate a pruning request before any model or data is touched: method, target, schedule, options."""
    if method not in METHODS:
        raise ConfigError(f"unknown pruning method {method!r}", hint=f"one of {', '.join(METHODS)}")
    m = METHODS[method]
    steps = steps if steps is not None else int(m.defaults.get("steps", 1))
    if steps < 1:
        raise ConfigError(f"steps (--steps) must be >= 1, got {steps}")
    if finetune_epochs < 0:
        raise ConfigError(f"finetune_epochs (--finetune-epochs) must be >= 0, got {finetune_epochs}")
    given = {k: v for k, v in options.items() if k != "steps"}
    opts = _options(m, given)
    criterion = opts.criterion or m.criterion
    for key in given:
        flag, users = _ONLY_FOR.get(key, (None, None))
        uses = {"fisher": criterion == "obd", "hutchinson_probes": criterion == "obd",
                "norm": criterion == "magnitude"}.get(key, m.regularize is not None)
        if flag is not None and not uses:
            raise ConfigError(f"{flag} does not apply to method {method!r} (criterion {criterion}): it is used only by {users}",
                              hint=f"drop {flag}, or pick a method that uses it (edgeprune list methods)")
    if opts.per_step is not None:
        if any(v is not None for v in (ratio, target_macs, target_params, target_speedup)):
            raise ConfigError("per_step and a ratio/MACs/params/speedup target exclude each other",
                              hint="--per-step N removes N filters per step; drop it to prune to a target")
        target = Target("count", opts.per_step)
    else:
        target = Target.from_options(ratio, target_macs, target_params, target_speedup)
    if target.kind == "latency" and "round_to" in given:
        raise ConfigError("round_to does not apply to a speedup target: widths land where the runtime's measured "
                          "latency drops", hint="drop --round-to")
    if target.kind == "latency" and opts.scope != "global":
        raise ConfigError(f"scope {opts.scope!r} does not apply to a speedup target: the planner ranks channels "
                          "across layers by importance per time saved", hint="drop --scope")
    CriterionConfig(samples=opts.samples, batch_size=opts.score_batch_size, norm=opts.norm, fisher=opts.fisher,
                    hutchinson_probes=opts.hutchinson_probes, seed=opts.seed)  # validates
    PlanConfig(scope=opts.scope, normalize=opts.normalize, round_to=opts.round_to, min_channels=opts.min_channels)
    return m, steps, opts, target


def _resolve_model(model: nn.Module | str | os.PathLike[str]) -> tuple[nn.Module, str | None]:
    if isinstance(model, nn.Module):
        return model, None
    return load_checkpoint(model), sha256_file(model)


def prune(model: nn.Module | str | os.PathLike[str], method: str, data: DataBundle | None, *, ratio: float | None = None,
          target_macs: float | None = None, target_params: float | None = None, target_speedup: float | None = None,
          latency: LatencyTable | None = None, measure: Callable[[nn.Module], float] | None = None,
          steps: int | None = None,
          finetune_epochs: int = 0, train_config: TrainConfig | None = None,
          out: str | os.PathLike[str] | None = None, on_step: StepCallback | None = None,
          **options: Any) -> nn.Module:
    """Prune structurally with a named method; return a new, physically smaller model with its spec.

    ``target_speedup`` prunes until ``latency`` (a table of the target runtime, from
    :func:`edgeprune.bench.latency.latency_table`) predicts the model that many times faster; with
    ``measure`` (a candidate's measured speedup over the unpruned model, e.g.
    :func:`edgeprune.bench.latency.speedup_meter`), each step's plan is timed and re-aimed until the
    measured speedup reaches the step's target.
    """
    m, steps, opts, target = check_prune(method, ratio=ratio, target_macs=target_macs, target_params=target_params,
                                         target_speedup=target_speedup, steps=steps, finetune_epochs=finetune_epochs,
                                         **options)
    if target.kind == "latency" and latency is None:
        raise ConfigError("target_speedup needs the latency table of the runtime to be faster on",
                          hint="latency=edgeprune.bench.latency.latency_table(model, 'ort:2'), or --on ort:2 on the CLI")
    model, parent_sha = _resolve_model(model)
    spec = spec_of(model)
    check_supported(spec.name)
    tc = train_config or TrainConfig()
    if data is not None:
        _check_data(data, spec)
    criterion = opts.criterion or m.criterion
    if data is None and (get_criterion(criterion).uses_data or finetune_epochs or m.regularize or opts.final_epochs):
        raise ConfigError(f"method {method!r} with these options needs data", hint="pass a DataBundle (load_data)")
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    device = tc.device
    sched = Schedule(criterion=criterion, target=target, steps=steps,
                     finetune=dataclasses.replace(tc, epochs=finetune_epochs),
                     scoring=CriterionConfig(samples=opts.samples, batch_size=opts.score_batch_size, norm=opts.norm,
                                             fisher=opts.fisher, hutchinson_probes=opts.hutchinson_probes,
                                             seed=opts.seed, device=_scoring_device(device)),
                     plan=PlanConfig(scope=opts.scope, normalize=opts.normalize, round_to=opts.round_to,
                                     min_channels=opts.min_channels), recalibrate=opts.recalibrate_bn,
                     latency=latency if target.kind == "latency" else None,
                     measure=measure if target.kind == "latency" else None)
    fingerprint = json.loads(json.dumps({"method": method, "target": dataclasses.asdict(target), "steps": steps,
                                         "finetune_epochs": finetune_epochs, "options": dataclasses.asdict(opts),
                                         "parent": parent_sha, "train": dataclasses.asdict(tc),
                                         **({"latency": {"on": latency.runtime, "machine": latency.machine}}
                                            if target.kind == "latency" else {})}, default=str))
    seconds: dict[str, float] = {}
    before = model_summary(model, spec.input_shape)
    t0 = time.perf_counter()
    acc_before = accuracy(model, data, device) if data is not None else None
    seconds["evaluate"] = time.perf_counter() - t0
    reg_epochs = opts.reg_epochs if opts.reg_epochs is not None else max(1, finetune_epochs)
    reg_kw = {"reg": opts.reg, "lam": opts.lam, "epochs": reg_epochs, "grouping": opts.grouping,
              "include_linear": opts.include_linear, "train_config": tc}
    work = model
    if m.regularize == "before":
        t0 = time.perf_counter()
        work = _cached(out_dir, "regularized", fingerprint, lambda: regularize(work, data, **reg_kw))
        seconds["regularize"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    work, history = run_schedule(work, sched, data, out_dir, fingerprint, on_step)
    seconds["prune+finetune"] = time.perf_counter() - t0
    if m.regularize == "after":
        t0 = time.perf_counter()
        work = regularize(work, data, **reg_kw)
        seconds["regularize"] = time.perf_counter() - t0
    if opts.final_epochs > 0:
        t0 = time.perf_counter()
        fit(work, data, dataclasses.replace(tc, epochs=opts.final_epochs))
        work = work.cpu().eval()
        seconds["final_finetune"] = time.perf_counter() - t0
    prov = {**spec.provenance, "method": method, "criterion": criterion, "target": dataclasses.asdict(target),
            "steps": steps, "parent_sha256": parent_sha}
    attach_spec(work, spec_of(work).replace(provenance=prov))
    acc_final = accuracy(work, data, device) if data is not None else None
    if out_dir is not None:
        save_checkpoint(work, out_dir / "model.safetensors")
        write_report(out_dir, {"method": method, "criterion": criterion, "target": dataclasses.asdict(target),
                               "steps": steps, "finetune_epochs": finetune_epochs, "options": dataclasses.asdict(opts),
                               "parent_sha256": parent_sha, "before": before,
                               "after": model_summary(work, spec.input_shape), "accuracy_before": acc_before,
                               "accuracy_final": acc_final, "test_n": len(data.test) if data is not None else None,
                               "history": history, "seconds": seconds,
                               **({"latency": _latency_summary(latency, model, work, spec.input_shape)}
                                  if target.kind == "latency" else {})})
    if data is not None:
        n = len(data.test)
        log(f"{method}: test accuracy {interval_text(acc_before, n)} -> {interval_text(acc_final, n)} (95% Wilson)")
    return work


def _latency_summary(table: LatencyTable, before: nn.Module, after: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    """What the table predicted for the runtime: base and pruned milliseconds and their ratio."""
    base, pruned = table.predict_ms(layers_of(before, shape)), table.predict_ms(layers_of(after, shape))
    return {"on": table.runtime, "predicted_base_ms": base, "predicted_ms": pruned, "predicted_speedup": base / pruned,
            "machine": table.machine}


def _check_data(data: DataBundle, spec) -> None:
    """The data feeds the model: its input shape and classes are the model's."""
    if tuple(data.input_shape) != tuple(spec.input_shape):
        raise ConfigError(f"data {data.name} has input shape {tuple(data.input_shape)}, the model "
                          f"{tuple(spec.input_shape)} (it was trained at {spec.input_shape[1]} px)",
                          hint="load the data at the model's input size and channels")
    if spec.labels and list(data.labels) != list(spec.labels):
        raise ConfigError(f"data {data.name} has {len(data.labels)} classes {list(data.labels)[:4]}, the model "
                          f"{len(spec.labels)} {list(spec.labels)[:4]}", hint="prune with the dataset the model was trained on")


def _scoring_device(device: str) -> str:
    from edgeprune.devices import resolve_device

    return str(resolve_device(device))


def _cached(out: Path | None, name: str, fingerprint: dict[str, Any], make) -> nn.Module:
    """Reuse ``out/name.safetensors`` from an interrupted run with the same settings, else make and save it."""
    if out is None:
        return make()
    path, key = out / f"{name}.safetensors", out / f"{name}.json"
    if path.is_file() and key.is_file() and read_json(key) == fingerprint:
        log(f"reusing {path}")
        return load_checkpoint(path)
    model = make()
    save_checkpoint(model, path)
    write_json(key, fingerprint)
    return model
