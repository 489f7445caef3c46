"""Torch-Pruning's own importances, pruned to a MACs target, for ``benchmarks/criteria.py``.

Only torch-pruning's public API is used: ``tp.importance.{Magnitude,Taylor,Hessian}Importance`` scored
inside ``tp.pruner.BasePruner(global_pruning=True)``; the DependencyGraph is built with grad enabled.

MACs target: TP's pruner takes a channel ratio, not a MACs budget, and its ``iterative_steps``
schedule fixes every step's ratio up front (linear in channels), which cannot aim at a MACs figure
once fine-tuning changes the scores between steps. So each of the S steps is one
``BasePruner(iterative_steps=1)`` on the current model, with its ``pruning_ratio`` found by bisection
on deep copies so that the MACs after step s are at most ``target ** (s / S)`` of the base model's
(the geometric schedule edgeprune uses), as close to it as the ratio allows.

Gradients (Taylor, Hessian) are computed on the model itself in eval mode, on the same training
samples edgeprune scores with, and copied by parameter name onto each trial copy
(``copy.deepcopy`` drops ``.grad``).

Known defects of torch-pruning 1.6.1, checked at run time by :func:`hessian_accumulates`:
``HessianImportance.accumulate_grad`` stores its sums keyed by the parameter tensor but tests
membership by the parameter's *name*, so every call overwrites the sum and resets the count to 1:
the "Hessian" is the squared gradient of the last sample only. Work-around (public API only): the
squared per-sample gradients of the documented per-sample losses (true labels), averaged by us and
written into ``param.grad``. The per-sample gradients come from ``torch.func.vmap(grad(...))`` in
eval mode, the same values as the doc's one ``backward`` per sample (which, at batch 1 on these
CPUs, is about 6x slower). ``accumulate_grad`` is never called, so
``HessianImportance.__call__`` finds nothing accumulated and scores ``w² · param.grad`` (its
documented fallback), i.e. the empirical-Fisher OBD diagonal. ``TaylorImportance`` tests BatchNorm
layers against ``prune_groupnorm_out_channels`` and so never scores BatchNorm ``|γ·dγ|``: left as is
(it is TP's criterion) and stated in the table notes.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import torch
import torch.nn.functional as F
import torch_pruning as tp
from torch import nn
from torch.func import functional_call, grad, vmap

from edgeprune.data import DataBundle
from edgeprune.models import count_macs, count_params
from edgeprune.pruning.schedule import recalibrate_bn
from edgeprune.train import TrainConfig, evaluate, fit

KINDS = ("magnitude", "taylor", "hessian")


def make_importance(kind: str) -> tp.importance.Importance:
    """TP's importance object with its defaults (group mean reduction, mean normalizer)."""
    if kind == "magnitude":
        return tp.importance.MagnitudeImportance(p=2)
    if kind == "taylor":
        return tp.importance.TaylorImportance()
    if kind == "hessian":
        return tp.importance.HessianImportance()
    raise ValueError(f"unknown torch-pruning importance {kind!r}; one of {KINDS}")


def hessian_accumulates() -> bool:
    """Whether ``HessianImportance.accumulate_grad`` really averages squared gradients (public API only).

    Two 'samples' with gradients 1 and 2 everywhere: a correct accumulator gives h = (1 + 4) / 2 = 2.5,
    so the score of a channel with unit weights is 2.5 × its weight count; the 1.6.1 defect gives 4×.
    """
    net = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.Conv2d(2, 1, 1, bias=False))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(1.0)
    with torch.enable_grad():
        dg = tp.DependencyGraph().build_dependency(net, example_inputs=torch.zeros(1, 1, 2, 2))
    imp = tp.importance.HessianImportance(group_reduction="first", normalizer=None)
    for g in (1.0, 2.0):
        for p in net.parameters():
            p.grad = torch.full_like(p, g)
        imp.accumulate_grad(net)
    group = dg.get_pruning_group(net[0], tp.prune_conv_out_channels, idxs=[0, 1])
    score = imp(group)
    return bool(torch.allclose(score, torch.full_like(score, 2.5)))


def _gradients(model: nn.Module, kind: str, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Per-parameter gradient tensors the importance reads from ``.grad`` (empty for magnitude)."""
    if kind == "magnitude":
        return {}
    model.eval()
    params = dict(model.named_parameters())
    acc = {n: torch.zeros_like(p) for n, p in params.items()}
    count = 0
    if kind == "hessian":
        buffers = dict(model.named_buffers())

        def loss(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(functional_call(model, {**p, **buffers}, (xi.unsqueeze(0),)), yi.unsqueeze(0))

        per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    with torch.enable_grad():
        for x, y in batches:
            if kind == "taylor":  # TP's Taylor doc: one loss.backward() per batch; gradients averaged over batches
                model.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                for n, p in params.items():
                    if p.grad is not None:
                        acc[n] += p.grad * len(y)
                count += len(y)
            else:  # TP's Hessian doc: per-sample losses and gradients; our own mean of grad² (see the module doc)
                grads = per_sample({n: p.detach() for n, p in params.items()}, x, y)
                for n, g in grads.items():
                    acc[n] += g.pow(2).sum(0)
                count += len(y)
    model.zero_grad(set_to_none=True)
    return {n: a / max(count, 1) for n, a in acc.items()}


def _final_linear(model: nn.Module) -> str:
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ValueError("the model has no Linear layer to keep (the classifier)")
    return names[-1]


def _trial(model: nn.Module, kind: str, grads: dict[str, torch.Tensor], ratio: float, example: torch.Tensor,
           keep: str) -> nn.Module:
    """A pruned deep copy of ``model`` at TP channel ratio ``ratio`` (global ranking)."""
    work = copy.deepcopy(model).cpu().eval()
    for n, p in work.named_parameters():
        p.grad = grads[n].clone() if n in grads else None
    modules = dict(work.named_modules())
    with torch.enable_grad():  # TP's DependencyGraph cannot be built under no_grad
        pruner = tp.pruner.BasePruner(work, example, make_importance(kind), global_pruning=True,
                                      pruning_ratio=ratio, iterative_steps=1, ignored_layers=[modules[keep]])
        pruner.step()
    work.zero_grad(set_to_none=True)
    return work


def prune_to_macs(model: nn.Module, kind: str, grads: dict[str, torch.Tensor], goal_macs: float,
                  input_shape: tuple[int, ...], iterations: int = 18) -> tuple[nn.Module, float, int]:
    """Bisection on TP's pruning ratio: the largest model whose MACs are <= ``goal_macs``.

    Returns (pruned model, ratio, trials). MACs fall with the ratio except where TP skips a group
    it would empty; the best feasible trial seen is kept either way.
    """
    example = torch.zeros(1, *input_shape)
    keep = _final_linear(model)
    best: tuple[int, float, nn.Module] | None = None
    smallest: tuple[int, float, nn.Module] | None = None
    lo, hi = 0.0, 0.99
    trials = 0
    for _ in range(iterations):
        mid = (lo + hi) / 2
        work = _trial(model, kind, grads, mid, example, keep)
        trials += 1
        macs = count_macs(work, input_shape)
        if smallest is None or macs < smallest[0]:
            smallest = (macs, mid, work)
        if macs <= goal_macs:
            hi = mid
            if best is None or macs > best[0]:
                best = (macs, mid, work)
        else:
            lo = mid
        if hi - lo < 1e-4:
            break
    if best is None:  # not even near 0.99 (TP skipped groups): keep the smallest model reached
        best = smallest
    return best[2], best[1], trials


def tp_prune(model: nn.Module, kind: str, data: DataBundle, target_macs: float, steps: int, finetune: TrainConfig,
             samples: int = 512, score_batch_size: int = 32, seed: int = 0, recalibrate: bool = True,
             log: Callable[[str], None] = print) -> tuple[nn.Module, list[dict]]:
    """Prune ``model`` (unchanged) with TP's ``kind`` importance to ``target_macs`` of its MACs in ``steps`` steps.

    After each step: BatchNorm statistics re-estimated (as edgeprune's schedule does) and
    ``finetune.epochs`` epochs of ``edgeprune.train.fit`` with seed ``finetune.seed + step``.
    """
    input_shape = tuple(data.input_shape)
    base_macs = count_macs(model, input_shape)
    work = copy.deepcopy(model).cpu().eval()
    x, y = data.sample("train", samples, seed=seed)
    batches = [(x[i:i + score_batch_size], y[i:i + score_batch_size]) for i in range(0, len(x), score_batch_size)]
    history = []
    for step in range(1, steps + 1):
        goal = target_macs ** (step / steps)
        grads = _gradients(work, kind, batches)
        pruned, ratio, trials = prune_to_macs(work, kind, grads, goal * base_macs, input_shape)
        if recalibrate:
            recalibrate_bn(pruned, data)
        acc_pruned = evaluate(pruned, data.loader("test", 256, shuffle=False), "cpu").accuracy
        if finetune.epochs > 0:
            fit(pruned, data, dataclasses.replace(finetune, seed=finetune.seed + step))
        pruned = pruned.cpu().eval()
        row = {"step": step, "goal_macs": goal, "ratio": ratio, "trials": trials,
               "macs": count_macs(pruned, input_shape) / base_macs, "params": count_params(pruned),
               "accuracy_pruned": acc_pruned}
        log(f"tp-{kind} step {step}/{steps}: ratio {ratio:.4f} ({trials} trials), MACs kept {row['macs']:.4f} "
            f"(goal {goal:.4f}), accuracy {acc_pruned:.3f} before fine-tuning")
        history.append(row)
        work = pruned
    return work, history
