"""The timing protocol now lives in :mod:`edgeprune.runtime.timing` (the device bundle ships it); this name stays."""

from edgeprune.runtime.timing import *  # noqa: F403
from edgeprune.runtime.timing import __all__  # noqa: F401
