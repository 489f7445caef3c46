"""Optimal Brain Damage (LeCun et al. 1990): a channel's saliency is ½ Σ h·w² over its own weights.

The Hessian diagonal h is estimated from data. ``sampled`` (default): the Fisher / Gauss-Newton
diagonal from squared per-sample gradients with labels drawn from the model's own predictions;
``exact``: the expectation over all classes (equals the Gauss-Newton diagonal exactly, K passes);
``empirical``: true labels; ``hutchinson``: E[v ⊙ Hv] with Rademacher probes on the true Hessian.
Only the channel's own parameters are summed (conv rows, bias, BN scale and shift): the next
layer's input columns are removed too, but their cost is already the cost of losing the feature map.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from edgeprune.pruning.criteria.base import (
    Batches,
    Criterion,
    CriterionConfig,
    Scores,
    iterate,
    own_params,
    per_channel,
    register,
    scoring_copy,
)
from edgeprune.pruning.graph import ChannelGroup

Diag = dict[str, torch.Tensor]


def _per_sample_sq_grads(net: nn.Module, names: list[str]) -> Callable[[torch.Tensor, torch.Tensor], Diag]:
    """A function (x, y) -> summed squared per-sample gradients of CE for the named parameters."""
    all_params = dict(net.named_parameters())
    buffers = dict(net.named_buffers())
    rest = {k: v.detach() for k, v in all_params.items() if k not in names}

    def loss(p: Diag, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(net, ({**rest, **p, **buffers}), (x.unsqueeze(0),))
        return F.cross_entropy(out, y.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))

    def fn(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None) -> Diag:
        p = {k: all_params[k].detach() for k in names}
        grads = per_sample(p, x, y)
        w = torch.ones(x.shape[0], device=x.device) if weight is None else weight
        return {k: torch.einsum("b,b...->...", w, g.pow(2)) for k, g in grads.items()}

    return fn


def hessian_diagonal(model: nn.Module, batches: Batches, cfg: CriterionConfig, names: list[str] | None = None) -> Diag:
    """Estimate of the diagonal of the Hessian of the mean cross-entropy, per named parameter."""
    net = scoring_copy(model, cfg.device)
    names = names or [k for k, _ in net.named_parameters()]
    acc = {k: torch.zeros_like(p, dtype=torch.float32) for k, p in net.named_parameters() if k in names}
    n = 0
    gen = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
    if cfg.fisher == "hutchinson":
        params = [dict(net.named_parameters())[k] for k in names]
        for x, y in iterate(batches, cfg.device):
            loss = F.cross_entropy(net(x), y, reduction="mean")
            grads = torch.autograd.grad(loss, params, create_graph=True)
            for probe in range(cfg.hutchinson_probes):
                vs = [torch.randint(0, 2, p.shape, generator=gen, device=cfg.device).float() * 2 - 1 for p in params]
                hv = torch.autograd.grad(grads, params, vs, retain_graph=probe < cfg.hutchinson_probes - 1)
                for k, v, h in zip(names, vs, hv, strict=True):
                    acc[k] += (v * h).detach() * x.shape[0] / cfg.hutchinson_probes
            n += x.shape[0]
        return {k: v / max(n, 1) for k, v in acc.items()}
    sq = _per_sample_sq_grads(net, names)
    for x, y in iterate(batches, cfg.device):
        if cfg.fisher == "empirical":
            parts = [(y, None)]
        else:
            with torch.no_grad():
                probs = F.softmax(net(x), dim=1)
            if cfg.fisher == "sampled":
                parts = [(torch.multinomial(probs, 1, generator=gen).squeeze(1), None)]
            else:  # exact expectation over classes
                parts = [(torch.full_like(y, c), probs[:, c]) for c in range(probs.shape[1])]
        for labels, weight in parts:
            for k, v in sq(x, labels, weight).items():
                acc[k] += v
        n += x.shape[0]
    return {k: v / max(n, 1) for k, v in acc.items()}


def obd_scores(model: nn.Module, groups: list[ChannelGroup], batches: Batches, cfg: CriterionConfig) -> Scores:
    """½ Σ h·w² over each channel's own parameters."""
    names = {id(p): n for n, p in model.named_parameters()}
    wanted = sorted({names[id(p)] for g in groups for _, p, _, _, _ in own_params(g)})
    h = hessian_diagonal(model, batches, cfg, wanted)
    scores: Scores = {}
    for g in groups:
        total = torch.zeros(g.size)
        for _, p, dim, _, member in own_params(g):
            sal = 0.5 * h[names[id(p)]].cpu() * p.detach().float().cpu().pow(2)
            total += per_channel(g, member, sal, dim)
        scores[g.name] = total
    return scores


register(Criterion("obd", "true Optimal Brain Damage: ½·Σ h·w², h the Fisher/Gauss-Newton Hessian diagonal",
                   obd_scores, normalize="rms"))
