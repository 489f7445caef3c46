"""What every criterion shares: its config, the scoring batches, and a registry by name."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.pruning.config import FISHER_MODES
from edgeprune.pruning.graph import ChannelGroup

Scores = dict[str, torch.Tensor]
Batches = list[tuple[torch.Tensor, torch.Tensor]]
ScoreFn = Callable[[nn.Module, list[ChannelGroup], Batches, "CriterionConfig"], Scores]


@dataclass
class CriterionConfig:
    """Options every criterion understands (each uses the ones it needs)."""

    samples: int = 512
    batch_size: int = 32
    norm: str = "l1"  # magnitude: l1 or l2
    fisher: str = "sampled"  # obd: sampled | exact | empirical | hutchinson
    hutchinson_probes: int = 4
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.samples < 1 or self.batch_size < 1:
            raise ConfigError(f"samples and batch size must be >= 1, got {self.samples}, {self.batch_size}")
        if self.norm not in ("l1", "l2"):
            raise ConfigError(f"norm must be l1 or l2, got {self.norm!r}")
        if self.fisher not in FISHER_MODES:
            raise ConfigError(f"fisher mode {self.fisher!r} is not one of {FISHER_MODES}",
                              hint="sampled: labels drawn from the model; exact: expectation over classes")



@dataclass
class Criterion:
    """A named scoring function and how its scores compare across layers by default."""

    name: str
    description: str
    fn: ScoreFn
    normalize: str  # per-layer normalization before global ranking: "l2", "rms" or "none" (targets.normalized)
    uses_data: bool = True


CRITERIA: dict[str, Criterion] = {}


def register(criterion: Criterion) -> Criterion:
    """Add a criterion to the registry (each criterion module registers itself on import)."""
    CRITERIA[criterion.name] = criterion
    return criterion


def get_criterion(name: str) -> Criterion:
    """The criterion called ``name``, or a ConfigError listing the known ones."""
    if name not in CRITERIA:
        raise ConfigError(f"unknown criterion {name!r}", hint=f"one of {', '.join(sorted(CRITERIA))}")
    return CRITERIA[name]


def scoring_copy(model: nn.Module, device: str) -> nn.Module:
    """An eval-mode copy without in-place activations (hooks and per-sample grads need that)."""
    m = copy.deepcopy(model).to(device).eval()
    for mod in m.modules():
        if hasattr(mod, "inplace"):
            mod.inplace = False
    for p in m.parameters():
        p.requires_grad_(True)
    return m


def iterate(batches: Batches, device: str) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The scoring batches moved to ``device``, with a progress bar on a terminal."""
    from edgeprune.ui import track

    for x, y in track(batches, "scoring channels", total=len(batches)):
        yield x.to(device), y.to(device)


def own_params(group: ChannelGroup) -> Iterator[tuple[str, torch.Tensor, int, ChannelGroup, object]]:
    """(qualified name, parameter, dim, group, member) over the channel's own parameters."""
    for member in group.outs():
        for p, dim in member.slices():
            yield member.name, p, dim, group, member


def per_channel(group: ChannelGroup, member, values: torch.Tensor, dim: int) -> torch.Tensor:
    """Reduce an elementwise tensor over all dims but ``dim``, pick the member's indices, scatter to channels."""
    dims = [d for d in range(values.dim()) if d != dim]
    reduced = values.sum(dim=dims) if dims else values
    return group.scatter(member, reduced[torch.as_tensor(member.idxs, device=reduced.device)])
