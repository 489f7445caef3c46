"""Magnitude: the L1 or L2 norm of a channel's own parameters (filter, bias, BN scale and shift)."""

from __future__ import annotations

import torch
from torch import nn

from edgeprune.pruning.criteria.base import (
    Batches,
    Criterion,
    CriterionConfig,
    Scores,
    own_params,
    per_channel,
    register,
)
from edgeprune.pruning.graph import ChannelGroup


def magnitude_scores(model: nn.Module, groups: list[ChannelGroup], batches: Batches, cfg: CriterionConfig) -> Scores:
    """Per channel: sum of |w| (l1) or sqrt of sum of w² (l2) over its own parameters."""
    scores: Scores = {}
    with torch.no_grad():
        for g in groups:
            total = torch.zeros(g.size)
            for _, p, dim, _, member in own_params(g):
                w = p.detach().float().cpu()
                total += per_channel(g, member, w.abs() if cfg.norm == "l1" else w.pow(2), dim)
            scores[g.name] = total if cfg.norm == "l1" else total.sqrt()
    return scores


register(Criterion("magnitude", "L1/L2 norm of each channel's own weights (no data needed)",
                   magnitude_scores, normalize="rms", uses_data=False))
