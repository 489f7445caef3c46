"""Bench: one timing protocol for every backend, speedups with intervals, claim checks, peak memory.

``bench(models, baseline=..., backends=..., profiles=..., claim=...) -> BenchReport``. Importing this
package is cheap: torch and the runtimes load only when a backend runs.
"""

from edgeprune.bench.core import bench
from edgeprune.bench.rows import BenchReport, BenchRow

__all__ = ["BenchReport", "BenchRow", "bench"]
