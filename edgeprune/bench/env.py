"""The environment header of a bench: CPU model and flags, cores, affinity, cgroup quota, versions, git sha."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from edgeprune.runtime import machine
from edgeprune.runtime.machine import INTERESTING_FLAGS, cpu_flags, cpu_model

__all__ = ["INTERESTING_FLAGS", "cgroup_cpu_quota", "collect_env", "cpu_flags", "cpu_model", "git_sha", "versions"]

PACKAGES = ("edgeprune", "numpy", "torch", "torchvision", "onnx", "onnxruntime", "openvino", "onnxsim",
            "torch-pruning", "safetensors")


def cgroup_cpu_quota() -> float | None:
    """CPUs allowed by the cgroup (cpu.max, or v1 cfs quota/period); None when unlimited or unknown."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def versions() -> dict[str, str | None]:
    """Installed versions of Python and of ``PACKAGES`` (from package metadata: nothing is imported)."""
    return machine.versions(PACKAGES)


def git_sha() -> str | None:
    """The git commit of the edgeprune source tree (with ``-dirty`` when modified), or None."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("-dirty" if dirty else "") if sha else None
    except (OSError, subprocess.SubprocessError):
        return None


def collect_env() -> dict[str, Any]:
    """Everything a reader needs to judge the numbers."""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "cores": os.cpu_count(),
        "affinity": affinity,
        "cgroup_cpu_quota": cgroup_cpu_quota(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions(),
        "git_sha": git_sha(),
        "python_executable": sys.executable,
    }
