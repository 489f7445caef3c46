"""Structural pruning: criteria, regularizers, targets and schedules over torch-pruning's graph.

The names below load on first use, so that ``edgeprune.pruning.config`` (torch-free) can be imported
without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"list_criteria": "edgeprune.pruning.criteria", "list_methods": "edgeprune.pruning.config",
         "PruneConfig": "edgeprune.pruning.config", "PruneResult": "edgeprune.pruning.result",
         "prune": "edgeprune.pruning.methods", "regularize": "edgeprune.pruning.methods",
         "list_regularizers": "edgeprune.pruning.regularizers", "make_regularizer": "edgeprune.pruning.regularizers"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
