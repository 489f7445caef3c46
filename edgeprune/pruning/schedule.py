"""One-shot or iterative pruning: score, plan, shrink, fine-tune, per step; resumable from ``out``.

After each finished step the model is saved as ``out/steps/step-N.safetensors`` and ``out/state.json``
records it, so re-running the same command after an interruption restarts at step N+1.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.accuracy import interval_text
from edgeprune.data import DataBundle
from edgeprune.errors import ConfigError
from edgeprune.fileio import read_json, write_json
from edgeprune.models import count_macs, count_params, load_checkpoint, save_checkpoint, spec_of
from edgeprune.pruning.criteria import CriterionConfig, get_criterion
from edgeprune.pruning.graph import Graph
from edgeprune.pruning.latency import LatencyModel, LatencyTable, layers_of
from edgeprune.pruning.targets import CostModel, PlanConfig, Target, normalized, select
from edgeprune.train import TrainConfig, evaluate, fit
from edgeprune.ui import log

StepCallback = Callable[[int, nn.Module], None]
Measured = float | tuple[float, float, float]  # a measured speedup, or (speedup, 95% low, 95% high)


@dataclass
class Schedule:
    """The pruning loop's settings."""

    criterion: str
    target: Target
    steps: int = 1
    finetune: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=0))
    scoring: CriterionConfig = field(default_factory=CriterionConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    recalibrate: bool = True  # re-estimate BN statistics right after each pruning step
    latency: LatencyTable | None = None  # predicts the runtime's latency, for a latency target
    measure: Callable[[nn.Module], Measured] | None = None  # a candidate's measured speedup over the unpruned model

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}", params=("steps",))
        if self.target.kind == "latency" and self.latency is None:
            raise ConfigError("a latency target needs a latency table",
                              hint="latency=edgeprune.bench.latency.latency_table(model, 'ort:2')")


def accuracy(model: nn.Module, data: DataBundle, device: str) -> float:
    """Test accuracy."""
    return evaluate(model, data.loader("test", 256, shuffle=False), device).accuracy


def scoring_batches(data: DataBundle, cfg: CriterionConfig) -> list:
    """``cfg.samples`` training examples in batches (seeded, the same for every step)."""
    x, y = data.sample("train", cfg.samples, seed=cfg.seed)
    return [(x[i:i + cfg.batch_size], y[i:i + cfg.batch_size]) for i in range(0, len(x), cfg.batch_size)]


def recalibrate_bn(model: nn.Module, data: DataBundle, batches: int = 20, batch_size: int = 64) -> None:
    """Re-estimate BatchNorm running statistics of a freshly pruned model on training batches."""
    import torch

    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for i, (x, _) in enumerate(data.loader("train", batch_size, shuffle=True, seed=0)):
            if i >= batches:
                break
            model(x)
    for bn, m in zip(bns, momenta, strict=True):
        bn.momentum = m
    model.eval()


def prune_once(model: nn.Module, sched: Schedule, data: DataBundle, step: int, base: tuple[float, ...],
               times: dict[str, float]) -> nn.Module:
    """One scoring + planning + shrinking pass on a copy of ``model``."""
    crit = get_criterion(sched.criterion)
    input_shape = spec_of(model).input_shape
    work = copy.deepcopy(model).cpu().eval()
    graph = Graph(work, input_shape)
    t0 = time.perf_counter()
    batches = scoring_batches(data, sched.scoring) if crit.uses_data else []
    scores = crit.fn(work, graph.groups, batches, sched.scoring)
    times["score"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scores = normalized(scores, sched.plan.normalize or crit.normalize)
    cost = CostModel(work, graph.groups, input_shape)
    latency = LatencyModel(sched.latency, work, graph.groups, input_shape) if sched.target.kind == "latency" else None
    target = sched.target.at_step(step, sched.steps)
    exact = target.kind in ("ratio", "count")
    pristine = None if exact else copy.deepcopy(work)
    total = sum(g.size for g in graph.groups)
    if target.kind == "latency" and sched.measure is not None:
        pruned = _measured_plan(scores, cost, target, sched, base, latency, pristine, input_shape, step)
        times["prune"] = time.perf_counter() - t0
        return pruned
    slack, previous = 0, None
    while True:
        plan = select(scores, cost, target, sched.plan, base=base, slack=slack, latency=latency)
        if plan != previous:  # rounding to round_to can leave a little more slack without effect
            trial = graph if slack == 0 else Graph(copy.deepcopy(pristine), input_shape)
            pruned = trial.apply(plan)
            if exact or _reached(pruned, target, base, input_shape, sched.latency):
                break
            previous = plan
        elif slack >= total:  # every layer is at its floor: keep the smallest model it allows
            floor = ("the table's smallest measured widths" if target.kind == "latency"
                     else f"rounded to {sched.plan.round_to}")
            log(f"step {step}: the {target.kind} target {target.value:.3g} is below what the floor of "
                f"{sched.plan.min_channels} channel(s), {floor}, allows; keeping the smallest model it allows")
            break
        slack += max(8, total // 100)  # the estimate missed: drop a little more
    times["prune"] = time.perf_counter() - t0
    return pruned


MEASURED_TRIES = 5
OVERSHOOT = 1.08  # a measured speedup up to 8% past the step's target is on target
SURE = 0.95  # a speedup counts as reached only where its interval's lower bound is within 5% of the target


def surely(measured: Measured) -> tuple[float, float, float, float]:
    """(speedup, low, high, sure): ``sure`` is the speedup as far as its interval vouches for it, min(speedup, low / SURE)."""
    ratio, low, high = (measured, measured, measured) if isinstance(measured, (int, float)) else measured
    return ratio, low, high, min(ratio, low / SURE)


def _measured_plan(scores, cost, target: Target, sched: Schedule, base, latency, pristine: nn.Module,
                   input_shape: tuple[int, ...], step: int) -> nn.Module:
    """Plan with the table, then time the candidate on the runtime and re-aim the table's target until the
    measured speedup lands in [S, 1.08 S] with the lower bound of its interval at 0.95 S or more (at most 5
    candidates; the slowest that reaches S so is kept, else the fastest).

    The table orders the channels; the measurement says how far to go: a prediction off by a third (a
    small network on 2 threads, here) still prunes to the speedup asked for. A noisy measurement whose
    interval reaches below 0.95 S counts as that lower bound over 0.95, so the model is pruned until its
    speedup is sure, not merely its median. The aim (the fraction of the predicted latency to keep) is
    bracketed: a candidate too fast raises its lower bound, one too slow lowers its upper bound; the next
    aim is the proportional guess at the middle of [S, 1.08 S] when it falls inside, else the middle of the
    bracket, which is also tried when the guess gives a plan already timed. When that too was timed the
    search ends: there is no other plan between the aims, or every layer is at its floor.
    """
    goal = 1.0 / target.value
    aim, lo, hi, kept, fastest = target.value, 0.0, 1.0, None, None
    tried: list[dict[str, list[int]]] = []

    def plan_at(fraction: float) -> dict[str, list[int]]:
        return select(scores, cost, Target("latency", fraction), sched.plan, base=base, latency=latency)

    for attempt in range(1, MEASURED_TRIES + 1):
        plan = plan_at(aim)
        if plan in tried:  # the guess lands on a plan already timed: the bracket's middle may hold another
            aim = (lo + hi) / 2
            plan = plan_at(aim)
        if plan in tried:  # no other plan between the aims (or the floor reached): timing it again adds only noise
            break
        tried.append(plan)
        candidate = Graph(copy.deepcopy(pristine), input_shape).apply(plan)
        ratio, low, high, sure = surely(sched.measure(candidate))
        log(f"step {step}: candidate {attempt} measured {ratio:.2f}x [{low:.2f}, {high:.2f}] faster on "
            f"{sched.latency.runtime} (step target {goal:.2f}x, table aimed at {1 / aim:.2f}x)")
        if sure >= goal and (kept is None or sure < kept[0]):
            kept = (sure, candidate)
        if fastest is None or sure > fastest[0]:
            fastest = (sure, candidate)
        if sure >= goal and ratio <= goal * OVERSHOOT:
            break
        if sure > goal:
            lo = aim  # too fast: keep more
        else:
            hi = aim
        guess = aim * sure / (goal * OVERSHOOT ** 0.5)  # aimed at the middle of [S, 1.08 S], not at its edge
        aim = guess if lo < guess < hi else (lo + hi) / 2
    if kept is None:
        log(f"step {step}: no candidate surely reached {goal:.2f}x measured; keeping the fastest "
            f"({fastest[0]:.2f}x as far as its interval vouches)")
        return fastest[1]
    return kept[1]


def _reached(model: nn.Module, target: Target, base: tuple[float, ...], input_shape: tuple[int, ...],
             table: LatencyTable | None = None) -> bool:
    if target.kind == "latency":
        return table.predict(layers_of(model, input_shape)) <= target.value * base[3] * (1 + 1e-9)
    if target.kind == "macs":
        return count_macs(model, input_shape) <= target.value * base[0] * (1 + 1e-9)
    return count_params(model) <= target.value * base[1] * (1 + 1e-9)


def run_schedule(model: nn.Module, sched: Schedule, data: DataBundle, out: Path | None,
                 fingerprint: dict[str, Any], on_step: StepCallback | None = None) -> tuple[nn.Module, list[dict]]:
    """Run (or resume) all steps; return the final model and the per-step history."""
    spec = spec_of(model)
    input_shape = spec.input_shape
    base_groups = Graph(copy.deepcopy(model).cpu(), input_shape).groups
    base = (count_macs(model, input_shape), count_params(model), sum(g.size for g in base_groups))
    if sched.latency is not None:
        base = (*base, sched.latency.predict(layers_of(model, input_shape)))
    history: list[dict] = []
    start = 1
    state_path = out / "state.json" if out is not None else None
    if state_path is not None and state_path.is_file():
        state = read_json(state_path)
        if state.get("fingerprint") != fingerprint:
            raise ConfigError(f"{out} holds a pruning run with other settings",
                              hint="prune into another output folder, or delete that one to start over")
        if state["done"] > 0:
            model = load_checkpoint(out / "steps" / f"step-{state['done']}.safetensors")
            history, start = state["history"], state["done"] + 1
            log(f"resuming after step {state['done']} of {sched.steps}")
    device = sched.finetune.device
    for step in range(start, sched.steps + 1):
        times: dict[str, float] = {}
        pruned = prune_once(model, sched, data, step, base, times)
        if data is not None and sched.recalibrate:
            recalibrate_bn(pruned, data)
        acc_pruned = accuracy(pruned, data, device) if data is not None else None
        t0 = time.perf_counter()
        if sched.finetune.epochs > 0:
            fit(pruned, data, dataclasses.replace(sched.finetune, seed=sched.finetune.seed + step))
        times["finetune"] = time.perf_counter() - t0
        pruned = pruned.cpu().eval()
        row = {"step": step, "target": dataclasses.asdict(sched.target.at_step(step, sched.steps)),
               "params": count_params(pruned), "macs": count_macs(pruned, input_shape),
               **({"predicted_speedup": base[3] / sched.latency.predict(layers_of(pruned, input_shape))}
                  if sched.latency is not None else {}),
               "accuracy_pruned": acc_pruned,
               "accuracy_finetuned": accuracy(pruned, data, device) if sched.finetune.epochs > 0 else None,
               "seconds": times}
        n_test = len(data.test) if data is not None else None
        log(f"step {step}/{sched.steps}: params {row['params']:,}, MACs {row['macs']:,}, "
            + (f"predicted {row['predicted_speedup']:.2f}x faster on {sched.latency.runtime}, "
               if "predicted_speedup" in row else "")
            + (f"accuracy {interval_text(acc_pruned, n_test)} after pruning" if acc_pruned is not None else "")
            + (f", {interval_text(row['accuracy_finetuned'], n_test)} after fine-tuning"
               if row["accuracy_finetuned"] is not None else ""))
        history.append(row)
        model = pruned
        if out is not None:
            save_checkpoint(model, out / "steps" / f"step-{step}.safetensors", spec=spec)
            write_json(state_path, {"fingerprint": fingerprint, "done": step, "history": history})
        if on_step is not None:
            on_step(step, model)
    return model, history
