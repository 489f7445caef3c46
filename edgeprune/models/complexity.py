"""Parameter and MAC counts (per sample), and the per-layer widths that pruning changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of parameters (buffers such as BN running stats excluded)."""
    return sum(p.numel() for p in model.parameters())


def layer_macs(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """Multiply-accumulates of each Conv2d and Linear (by module name) in one forward pass of one sample."""
    macs: dict[str, int] = {}

    def hook(name: str):
        def fn(m: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            if isinstance(m, nn.Conv2d):
                per_output = (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
                macs[name] = macs.get(name, 0) + out[0].numel() * per_output
            else:
                macs[name] = macs.get(name, 0) + m.in_features * m.out_features * (out[0].numel() // m.out_features)
        return fn

    forward_hooked(model, input_shape, {m: hook(n) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))})
    return macs


def forward_hooked(model: nn.Module, input_shape: tuple[int, ...], hooks: dict[nn.Module, Callable]) -> None:
    """One eval-mode, no-grad forward pass of a zero sample with forward ``hooks`` on modules (removed after)."""
    handles = [m.register_forward_hook(fn) for m, fn in hooks.items()]
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass of one sample, over Conv2d and Linear layers."""
    return sum(layer_macs(model, input_shape).values())


@dataclass
class LayerWidth:
    """One prunable layer: its name, kind and input/output width."""

    name: str
    kind: str
    inputs: int
    outputs: int


def layer_widths(model: nn.Module) -> list[LayerWidth]:
    """Widths of every Conv2d and Linear, in module order."""
    rows = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            rows.append(LayerWidth(name, "Conv2d", m.in_channels, m.out_channels))
        elif isinstance(m, nn.Linear):
            rows.append(LayerWidth(name, "Linear", m.in_features, m.out_features))
    return rows


def near_zero_ratio(model: nn.Module, eps: float = 1e-4) -> float:
    """Fraction of weights with |w| < eps (the seed papers' 'near-zero ratio')."""
    total = small = 0
    for p in model.parameters():
        total += p.numel()
        small += int((p.detach().abs() < eps).sum())
    return small / max(total, 1)
