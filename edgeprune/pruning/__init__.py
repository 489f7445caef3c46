"""Structural pruning: criteria, regularizers, targets and schedules over torch-pruning's graph."""

from edgeprune.pruning.criteria import list_criteria
from edgeprune.pruning.methods import list_methods, prune, regularize
from edgeprune.pruning.regularizers import list_regularizers, make_regularizer

__all__ = ["list_criteria", "list_methods", "list_regularizers", "make_regularizer", "prune", "regularize"]
