"""Turn channel scores into a removal plan that meets a channel-ratio, MACs or params target.

Widths are estimated from group sizes (each layer's MACs and params scale with its kept input and
output fractions), so the search over how many channels to drop needs no trial pruning; the
scheduler measures the real model afterwards with ``count_macs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.models.complexity import layer_macs
from edgeprune.pruning.config import NORMALIZATIONS, SCOPES, Target
from edgeprune.pruning.graph import ChannelGroup
from edgeprune.pruning.latency import LatencyModel, plan_latency

__all__ = ["NORMALIZATIONS", "SCOPES", "CostModel", "PlanConfig", "Target", "normalized", "select"]


@dataclass
class PlanConfig:
    """How to rank and round: global or uniform, per-layer normalization, width multiple, floor."""

    scope: str = "global"
    normalize: str | None = None  # None: the criterion's default
    round_to: int = 8
    min_channels: int | None = None  # None: round_to (a MACs target's rounding never leaves fewer)
    latency_weight: float = 0.0  # a latency target's order: importance per channel (0) to per millisecond saved (1)

    def __post_init__(self) -> None:
        if self.min_channels is None:
            # A latency target's widths land on the table's steps, which may be narrower than round_to; the
            # same floor keeps it from cutting a layer thinner than a MACs target could (the first convs of
            # VGG16-BN 0.25 cut to 4 channels cost 1-2 points at equal speed on Fashion-MNIST).
            self.min_channels = self.round_to
        if self.scope not in SCOPES:
            raise ConfigError(f"scope must be one of {SCOPES}, got {self.scope!r}")
        if self.normalize not in (None, *NORMALIZATIONS):
            raise ConfigError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {self.normalize!r}")
        if not 0 <= self.latency_weight <= 1:
            raise ConfigError(f"latency_weight must be from 0 to 1, got {self.latency_weight}")
        if self.round_to < 1 or self.min_channels < 1:
            raise ConfigError(f"round_to and min_channels must be >= 1, got {self.round_to}, {self.min_channels}")


class CostModel:
    """Per-layer MACs and params of the current model, re-estimated for any kept widths."""

    def __init__(self, model: nn.Module, groups: list[ChannelGroup], input_shape: tuple[int, ...]) -> None:
        self.macs = layer_macs(model, input_shape)
        self.total_macs = sum(self.macs.values())
        self.total_params = sum(p.numel() for p in model.parameters())
        self.layers = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))}
        self.outs: dict[str, str] = {}
        self.ins: dict[str, str] = {}
        for g in groups:
            for mem in g.members:
                (self.outs if mem.kind == "out" else self.ins)[mem.name] = g.name
        self.sizes = {g.name: g.size for g in groups}
        self.fixed_params = self.total_params - sum(p.numel() for m in self.layers.values() for p in m.parameters(recurse=False))

    def estimate(self, keep: dict[str, int]) -> tuple[float, float]:
        """(MACs, params) of the model with ``keep[group]`` channels kept in each group."""
        macs = params = 0.0
        for name, m in self.layers.items():
            fo = keep[self.outs[name]] / self.sizes[self.outs[name]] if name in self.outs else 1.0
            fi = keep[self.ins[name]] / self.sizes[self.ins[name]] if name in self.ins else 1.0
            depthwise = isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels
            f = fo if depthwise or isinstance(m, nn.BatchNorm2d) else fo * fi
            params += m.weight.numel() * f + (m.bias.numel() * fo if m.bias is not None else 0)
            macs += self.macs.get(name, 0) * f
        return macs, params + self.fixed_params


def normalized(scores: dict[str, torch.Tensor], how: str) -> dict[str, torch.Tensor]:
    """Per-layer normalization before global ranking.

    ``l2``: divide by the layer's L2 norm (Molchanov 2017 and the published code); a wide layer's
    channels then score lower on average, so global ranking prunes wide layers first. ``rms``: the
    same scaled by sqrt(width), so every layer has unit RMS and width alone does not decide.
    ``none``: raw scores (OBD saliencies are already in loss units).
    """
    if how == "none":
        return scores
    scale = {k: (v.numel() ** 0.5 if how == "rms" else 1.0) for k, v in scores.items()}
    return {k: v * scale[k] / v.norm().clamp_min(1e-30) for k, v in scores.items()}


def rounded_keep(size: int, keep: int, cfg: PlanConfig) -> int:
    """Kept width: at least the floor, rounded up to a multiple of ``round_to`` (never above size)."""
    keep = max(keep, cfg.min_channels, 1)
    keep = math.ceil(keep / cfg.round_to) * cfg.round_to
    return min(keep, size)


def plan_for(scores: dict[str, torch.Tensor], sizes: dict[str, int], removals: dict[str, int]) -> dict[str, list[int]]:
    """Remove the ``removals[g]`` lowest-scored channels of each group."""
    return {g: torch.argsort(scores[g], stable=True)[:n].tolist() for g, n in removals.items() if n > 0}


def _keeps_global(scores: dict[str, torch.Tensor], sizes: dict[str, int], k: int, cfg: PlanConfig) -> dict[str, int]:
    names = list(scores)
    flat = torch.cat([scores[n] for n in names])
    owner = torch.cat([torch.full((sizes[n],), i) for i, n in enumerate(names)])
    order = torch.argsort(flat, stable=True)[:k]
    removed = torch.bincount(owner[order], minlength=len(names))
    return {n: rounded_keep(sizes[n], sizes[n] - int(removed[i]), cfg) for i, n in enumerate(names)}


def _keeps_uniform(sizes: dict[str, int], frac: float, cfg: PlanConfig) -> dict[str, int]:
    return {n: rounded_keep(s, s - round(frac * s), cfg) for n, s in sizes.items()}


def select(scores: dict[str, torch.Tensor], cost: CostModel, target: Target, cfg: PlanConfig,
           base: tuple[float, ...] | None = None, slack: int = 0,
           latency: LatencyModel | None = None) -> dict[str, list[int]]:
    """The removal plan meeting ``target`` (fractions relative to ``base`` = (macs, params, channels[, latency ms])).

    A latency target plans with ``latency`` (:func:`~edgeprune.pruning.latency.plan_latency`): widths
    land on the table's measured steps, not on multiples of ``round_to``.
    """
    sizes = cost.sizes
    total = sum(sizes.values())
    base_macs, base_params, base_channels = (base or (cost.total_macs, cost.total_params, total))[:3]
    if target.kind == "latency":
        base_ms = base[3] if base is not None and len(base) > 3 else latency.predict()
        keep = plan_latency(scores, latency, target.value * base_ms * (1 - slack / max(1, total)), cfg.min_channels,
                            cfg.latency_weight)
        return plan_for(scores, sizes, {n: sizes[n] - keep[n] for n in sizes})

    def keeps_at(k: int) -> dict[str, int]:
        if cfg.scope == "global":
            return _keeps_global(scores, sizes, k, cfg)
        return _keeps_uniform(sizes, k / total, cfg)

    def meets(keep: dict[str, int]) -> bool:
        if target.kind in ("ratio", "count"):
            return True
        macs, params = cost.estimate(keep)
        return (macs if target.kind == "macs" else params) <= target.value * (base_macs if target.kind == "macs" else base_params)

    if target.kind == "count":
        k = min(int(target.value), total)
    elif target.kind == "ratio":
        k = max(0, round(target.value * base_channels) - (base_channels - total))
    else:
        lo, hi = 0, total
        while lo < hi:
            mid = (lo + hi) // 2
            if meets(keeps_at(mid)):
                hi = mid
            else:
                lo = mid + 1
        k = lo
    k = min(total, k + slack)
    keep = keeps_at(k)
    return plan_for(scores, sizes, {n: sizes[n] - keep[n] for n in sizes})
