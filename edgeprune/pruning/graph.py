"""Adapter to torch-pruning's dependency graph: list coupled channel groups, apply a removal plan.

This is the only module that imports torch_pruning. A :class:`ChannelGroup` names the root layer
(a Conv2d or Linear whose output channels are removed) and every member that loses a slice with
it: coupled BatchNorms, residual partners, depthwise convs (``out`` members, the channel's own
parameters) and the next layers' input columns (``in`` members). Criteria score channels from
these members; :meth:`Graph.apply` removes channels through torch-pruning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from edgeprune.errors import ModelError

PRUNABLE = (nn.Conv2d, nn.Linear, nn.BatchNorm2d)


@dataclass
class Member:
    """One layer touched by a group: which of its indices go, and the root channel each belongs to."""

    name: str
    module: nn.Module
    kind: str  # "out": the channel's own parameters; "in": the next layer's input columns
    idxs: list[int]
    root_idxs: list[int]

    def slices(self) -> Iterator[tuple[torch.Tensor, int]]:
        """(parameter, dim) pairs holding this member's channel slices."""
        if self.kind == "out":
            for p in (getattr(self.module, "weight", None), getattr(self.module, "bias", None)):
                if isinstance(p, torch.Tensor):
                    yield p, 0
        elif isinstance(self.module, nn.Linear) or (isinstance(self.module, nn.Conv2d) and self.module.groups == 1):
            yield self.module.weight, 1


@dataclass
class ChannelGroup:
    """The prunable output channels of one root layer and all layers coupled to them."""

    name: str
    size: int
    members: list[Member]
    root: nn.Module = field(repr=False)
    handler: object = field(repr=False, default=None)

    def outs(self) -> list[Member]:
        """Members whose own parameters are the channel (root, BN, residual partners, depthwise)."""
        return [m for m in self.members if m.kind == "out"]

    def feature_modules(self) -> list[Member]:
        """Members whose outputs are the channel's feature map: the BNs, else the convs/linears."""
        bns = [m for m in self.outs() if isinstance(m.module, nn.BatchNorm2d)]
        return bns or [m for m in self.outs() if isinstance(m.module, (nn.Conv2d, nn.Linear))]

    def scatter(self, member: Member, values: torch.Tensor) -> torch.Tensor:
        """Sum per-index ``values`` of a member into a vector over the group's root channels."""
        out = torch.zeros(self.size, dtype=values.dtype, device=values.device)
        return out.index_add_(0, torch.as_tensor(member.root_idxs, device=values.device), values)


def classifier_layer(model: nn.Module) -> nn.Module:
    """The layer whose outputs are the classes, never pruned: the last Linear, else the last Conv2d (SqueezeNet)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not linears and not convs:
        raise ModelError(f"{type(model).__name__} has no Linear or Conv2d classifier to protect from pruning")
    return (linears or convs)[-1]


def _grouped(module: nn.Module) -> bool:
    """A grouped conv that is not depthwise: removing single channels would break its groups."""
    return isinstance(module, nn.Conv2d) and module.groups > 1 and not (
        module.groups == module.in_channels == module.out_channels)


class Graph:
    """The channel groups of a model (built from an example input) and a way to remove channels."""

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        import torch_pruning as tp

        self.model = model
        device = next(model.parameters()).device
        example = torch.randn(1, *input_shape, device=device)
        with torch.enable_grad():
            self.dg = tp.DependencyGraph().build_dependency(model, example_inputs=example)
        names = {m: n for n, m in model.named_modules()}
        self.groups: list[ChannelGroup] = []
        for g in self.dg.get_all_groups(ignored_layers=[classifier_layer(model)],
                                         root_module_types=(nn.Conv2d, nn.Linear)):
            members = []
            for item in g.items:
                mod = item.dep.target.module
                if not isinstance(mod, PRUNABLE):
                    continue
                out = self.dg.is_out_channel_pruning_fn(item.dep.handler) or isinstance(mod, nn.BatchNorm2d)
                members.append(Member(names[mod], mod, "out" if out else "in", list(item.idxs),
                                      list(item.root_idxs)))
            if any(_grouped(m.module) for m in members):
                continue  # a grouped conv (ResNeXt, RegNet) loses whole groups or nothing: its channels stay
            root = g.items[0].dep.target.module
            self.groups.append(ChannelGroup(names[root], len(g.items[0].idxs), members, root, g.items[0].dep.handler))

    def by_name(self) -> dict[str, ChannelGroup]:
        """Groups keyed by their root layer's name."""
        return {g.name: g for g in self.groups}

    def apply(self, plan: dict[str, list[int]]) -> nn.Module:
        """Remove the listed root channels of each group in place; return the model."""
        groups = self.by_name()
        for name, idxs in plan.items():
            if not idxs:
                continue
            g = groups[name]
            if len(set(idxs)) >= g.size:
                raise ModelError(f"plan would empty layer {name}")
            self.dg.get_pruning_group(g.root, g.handler, sorted(set(int(i) for i in idxs))).prune()
        return self.model
