"""Bench: one timing protocol for every backend, speedups with intervals, claim checks, peak memory.

``bench(models, BenchConfig(backends=["ort"], claim=ClaimConfig(2.0)), baseline=...) -> BenchReport``; the
config's fields also work as keywords (``bench(models, baseline=..., backends="ort", claim=2.0)``). Importing
this package is cheap: torch and the runtimes load only when a backend runs.
"""

from edgeprune.bench.claims import ClaimCheck, ClaimConfig, check_claims
from edgeprune.bench.config import BenchConfig
from edgeprune.bench.core import bench
from edgeprune.bench.rows import BenchReport, BenchRow

__all__ = ["BenchConfig", "BenchReport", "BenchRow", "ClaimCheck", "ClaimConfig", "bench", "check_claims"]
