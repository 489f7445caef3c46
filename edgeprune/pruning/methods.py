"""Named pruning methods: a criterion, optionally with regularized training before or after pruning.

``prune(model, config, data, out=...)`` is the stage's verb: ``config`` a :class:`PruneConfig` (or a
method name and its options as keywords), the method's phases run in order (regularized training
before or after the pruning schedule, per :data:`~edgeprune.pruning.config.METHODS`), and a
:class:`PruneResult` comes back. ``regularize`` is the HSQGL12 retraining without pruning (model 2
of the Reg+OBD paper).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.accuracy import interval_text
from edgeprune.data import DataBundle
from edgeprune.errors import ConfigError
from edgeprune.fileio import read_json, sha256_file, write_json
from edgeprune.models import attach_spec, load_checkpoint, save_checkpoint, spec_of
from edgeprune.models.support import check_supported
from edgeprune.pruning.config import METHODS, CriterionOptions, PruneConfig, list_methods
from edgeprune.pruning.criteria import CriterionConfig, get_criterion
from edgeprune.pruning.latency import LatencyTable, layers_of
from edgeprune.pruning.regularizers import make_regularizer
from edgeprune.pruning.report import model_summary, write_report
from edgeprune.pruning.result import PruneResult
from edgeprune.pruning.schedule import Measured, Schedule, StepCallback, accuracy, run_schedule
from edgeprune.pruning.targets import PlanConfig
from edgeprune.train import TrainConfig, fit
from edgeprune.ui import log

__all__ = ["METHODS", "PruneConfig", "PruneResult", "auto_lambda", "list_methods", "prune", "regularize"]


def auto_lambda(model: nn.Module, reg: str = "hsqgl12", grouping: str = "neuron", include_linear: bool = False) -> float:
    """The strength at which the penalty of ``model`` equals 1, about a cross-entropy's size at the start.

    Penalties scale with the network (HSQGL12 is about 2e7 on the half-width digits VGG16, 4e6 at
    quarter width), so one fixed default would be either negligible or overwhelming.
    """
    import torch

    with torch.no_grad():
        value = float(make_regularizer(reg, 1.0, grouping, include_linear)(model))
    return 1.0 / value if value > 0 else 0.0


def regularize(model: nn.Module, data: DataBundle, *, reg: str = "hsqgl12", lam: float | None = None, epochs: int = 10,
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


def _resolve_model(model: nn.Module | str | os.PathLike[str]) -> tuple[nn.Module, str | None]:
    if isinstance(model, nn.Module):
        return model, None
    return load_checkpoint(model), sha256_file(model)


def prune(model: nn.Module | str | os.PathLike[str], config: PruneConfig | str, data: DataBundle | None = None, *,
          out: str | os.PathLike[str] | None = None, train_config: TrainConfig | None = None,
          latency: LatencyTable | None = None, measure: Callable[[nn.Module], Measured] | None = None,
          on_step: StepCallback | None = None, **options: Any) -> PruneResult:
    """Prune structurally as ``config`` says; return a :class:`PruneResult` holding the new, physically smaller model.

    ``config`` is a :class:`PruneConfig`, or a method name with its options as keywords
    (``prune(model, "obd", data, target_macs=0.25, fisher="exact")`` builds the config). A
    ``target_speedup`` prunes until ``latency`` (a table of the target runtime, from
    :func:`edgeprune.bench.latency.latency_table`) predicts the model that many times faster; with
    ``measure`` (a candidate's measured speedup over the unpruned model, or the speedup with its 95%
    interval, e.g. :func:`edgeprune.bench.latency.speedup_meter`), each step's plan is timed and re-aimed
    until the measured speedup (its interval's lower bound within 5%) reaches the step's target. With ``out``, writes model.safetensors, prune.json
    (the result's ``to_dict()``) and prune.md there, and resumes an interrupted run.
    """
    if isinstance(config, str):
        config = PruneConfig.from_options(config, **options)
    elif options:
        raise ConfigError(f"options {', '.join(sorted(options))} given beside a PruneConfig",
                          hint="set them in the config (PruneConfig.from_options builds one from keywords)",
                          params=tuple(sorted(options)))
    m = METHODS[config.method]
    target = config.target()
    opts, scoring, reg = config.schedule, config.scoring, config.regularization
    if target.kind == "latency" and latency is None:
        raise ConfigError("target_speedup needs the latency table of the runtime to be faster on",
                          hint="latency=edgeprune.bench.latency.latency_table(model, 'ort:2')",
                          params=("target_speedup",))
    model, parent_sha = _resolve_model(model)
    spec = spec_of(model)
    check_supported(spec.name)
    tc = train_config or TrainConfig()
    if data is not None:
        _check_data(data, spec)
    criterion = config.criterion_name
    if data is None and (get_criterion(criterion).uses_data or config.finetune_epochs or m.regularize
                         or opts.final_epochs):
        raise ConfigError(f"method {config.method!r} with these options needs data",
                          hint="pass a DataBundle (load_data)", params=("data",))
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    device = tc.device
    sched = Schedule(criterion=criterion, target=target, steps=config.steps,
                     finetune=dataclasses.replace(tc, epochs=config.finetune_epochs),
                     scoring=_criterion_config(scoring, opts.seed, _scoring_device(device)),
                     plan=PlanConfig(scope=opts.scope, normalize=opts.normalize, round_to=config.round_to,
                                     min_channels=opts.min_channels, latency_weight=opts.latency_weight),
                     recalibrate=opts.recalibrate_bn,
                     latency=latency if target.kind == "latency" else None,
                     measure=measure if target.kind == "latency" else None)
    fingerprint = json.loads(json.dumps({"config": config.to_dict(), "target": dataclasses.asdict(target),
                                         "parent": parent_sha, "train": dataclasses.asdict(tc),
                                         **({"latency": {"on": latency.runtime, "machine": latency.machine}}
                                            if target.kind == "latency" else {})}, default=str))
    seconds: dict[str, float] = {}
    before = model_summary(model, spec.input_shape)
    t0 = time.perf_counter()
    acc_before = accuracy(model, data, device) if data is not None else None
    seconds["evaluate"] = time.perf_counter() - t0
    work = model
    if m.regularize is not None:
        reg_kw = {"reg": reg.reg, "lam": reg.lam, "grouping": reg.grouping, "include_linear": reg.include_linear,
                  "epochs": reg.reg_epochs if reg.reg_epochs is not None else max(1, config.finetune_epochs),
                  "train_config": tc}
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
    prov = {**spec.provenance, "method": config.method, "criterion": criterion, "target": dataclasses.asdict(target),
            "steps": config.steps, "parent_sha256": parent_sha}
    attach_spec(work, spec_of(work).replace(provenance=prov))
    acc_final = accuracy(work, data, device) if data is not None else None
    result = PruneResult(
        model=work, method=config.method, criterion=criterion, config=config, target=dataclasses.asdict(target),
        steps=config.steps, finetune_epochs=config.finetune_epochs, before=before,
        after=model_summary(work, spec.input_shape), accuracy_before=acc_before, accuracy_final=acc_final,
        test_n=len(data.test) if data is not None else None, history=history, seconds=seconds,
        parent_sha256=parent_sha, checkpoint=str(out_dir / "model.safetensors") if out_dir is not None else None,
        latency=_latency_summary(latency, model, work, spec.input_shape) if target.kind == "latency" else None,
        options=config.options())
    if out_dir is not None:
        save_checkpoint(work, out_dir / "model.safetensors")
        write_report(out_dir, result.to_dict())
    if data is not None:
        n = len(data.test)
        log(f"{config.method}: test accuracy {interval_text(acc_before, n)} -> {interval_text(acc_final, n)} "
            "(95% Wilson)")
    return result


def _criterion_config(scoring: CriterionOptions, seed: int, device: str) -> CriterionConfig:
    """The scoring functions' settings: the criterion family's options, the seed and the device."""
    return CriterionConfig(**{k: v for k, v in scoring.to_dict().items() if k != "score_batch_size"},
                           batch_size=getattr(scoring, "score_batch_size", CriterionConfig.batch_size),
                           seed=seed, device=device)


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
