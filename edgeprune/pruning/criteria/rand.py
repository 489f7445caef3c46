"""Random: uniform scores, the baseline every criterion should beat."""

from __future__ import annotations

import torch
from torch import nn

from edgeprune.pruning.criteria.base import Batches, Criterion, CriterionConfig, Scores, register
from edgeprune.pruning.graph import ChannelGroup


def random_scores(model: nn.Module, groups: list[ChannelGroup], batches: Batches, cfg: CriterionConfig) -> Scores:
    """Seeded uniform random scores per channel."""
    gen = torch.Generator().manual_seed(cfg.seed)
    return {g.name: torch.rand(g.size, generator=gen) for g in groups}


register(Criterion("random", "uniform random scores (the baseline)", random_scores, normalize="none", uses_data=False))
