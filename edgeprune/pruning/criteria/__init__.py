"""Channel criteria: each scores every channel of every prunable group (see ``edgeprune list criteria``)."""

from edgeprune.pruning.criteria import magnitude, obd, rand, taylor  # noqa: F401  (register themselves)
from edgeprune.pruning.criteria.base import CRITERIA, Criterion, CriterionConfig, get_criterion


def list_criteria() -> dict[str, str]:
    """{name: one-line description} of every criterion."""
    return {name: c.description for name, c in sorted(CRITERIA.items())}


__all__ = ["CRITERIA", "Criterion", "CriterionConfig", "get_criterion", "list_criteria"]
