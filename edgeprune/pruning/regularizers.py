"""Sparsity regularizers added to the training loss: l1, group-lasso, hsqgl12 (Mitsuno et al. 2020).

Groups over a Conv2d weight W (O×I×k×k): ``neuron`` (one group per output filter, matches filter
pruning; default) or ``feature`` (one group per input channel, as published). HSQGL12 of a layer,
with ‖·‖₁ over one k×k kernel W[o,i]: Σ_g (Σ_{(o,i)∈g} sqrt(‖W[o,i]‖₁))², summed over layers (the
square root makes kernels inside a group sparse, the square of the group sum couples them);
Linear layers join (as O×I, one weight per kernel) with ``include_linear``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.pruning.config import GROUPINGS

Regularizer = Callable[[nn.Module], torch.Tensor]


def _group_dim(grouping: str) -> int:
    return 0 if grouping == "neuron" else 1


def _l1(w: torch.Tensor, grouping: str) -> torch.Tensor:
    return w.abs().sum()


def _group_lasso(w: torch.Tensor, grouping: str) -> torch.Tensor:
    d = _group_dim(grouping)
    return w.transpose(0, d).flatten(1).norm(dim=1).sum()


def _hsqgl12(w: torch.Tensor, grouping: str) -> torch.Tensor:
    kernels = w.abs().flatten(2).sum(2) if w.dim() > 2 else w.abs()  # O×I: ‖W[o,i]‖₁ of each k×k kernel
    inner = (kernels + 1e-12).sqrt().sum(1 - _group_dim(grouping))  # Σ over a group's kernels
    return inner.pow(2).sum()


@dataclass(frozen=True)
class RegularizerKind:
    """A named per-weight penalty and its description."""

    description: str
    penalty: Callable[[torch.Tensor, str], torch.Tensor]


REGULARIZERS: dict[str, RegularizerKind] = {
    "l1": RegularizerKind("L1 norm of all weights", _l1),
    "group-lasso": RegularizerKind("group lasso: sum of L2 norms of weight groups", _group_lasso),
    "hsqgl12": RegularizerKind("hierarchical squared group L1/2 (Mitsuno 2020): Σ_g (Σ_k∈g sqrt(‖W_k‖₁))²",
                               _hsqgl12),
}


def list_regularizers() -> dict[str, str]:
    """{name: one-line description} of every regularizer."""
    return {k: v.description for k, v in REGULARIZERS.items()}


def make_regularizer(name: str, lam: float, grouping: str = "neuron", include_linear: bool = False) -> Regularizer:
    """A function model -> lam · Σ_layers penalty(weight), to pass as ``fit(regularizer=...)``."""
    if name not in REGULARIZERS:
        raise ConfigError(f"unknown regularizer {name!r}", hint=f"one of {', '.join(REGULARIZERS)}")
    if grouping not in GROUPINGS:
        raise ConfigError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")
    if not lam >= 0:
        raise ConfigError(f"regularization strength must be >= 0, got {lam}")
    penalty = REGULARIZERS[name].penalty
    kinds = (nn.Conv2d, nn.Linear) if include_linear else (nn.Conv2d,)

    def regularizer(model: nn.Module) -> torch.Tensor:
        terms = [penalty(m.weight, grouping) for m in model.modules() if isinstance(m, kinds)]
        return lam * torch.stack(terms).sum() if terms else torch.zeros(())

    return regularizer
