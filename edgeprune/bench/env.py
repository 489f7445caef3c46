"""The environment header of a bench: CPU model and flags, cores, affinity, cgroup quota, versions, git sha."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["cgroup_cpu_quota", "collect_env", "cpu_flags", "cpu_model", "git_sha", "versions"]

PACKAGES = ("edgeprune", "numpy", "torch", "torchvision", "onnx", "onnxruntime", "openvino", "onnxsim",
            "torch-pruning", "safetensors")
INTERESTING_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16",
                     "asimd", "asimdhp", "asimddp", "sve", "sve2", "i8mm", "bf16", "neon", "vfpv4")


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_model(cpuinfo: str | None = None) -> str:
    """CPU model name (x86 ``model name``; on Arm ``Model``/``Hardware`` or the CPU part)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    for key in ("model name", "Model", "Hardware"):
        if fields.get(key):
            return fields[key]
    if fields.get("CPU part"):
        return f"Arm CPU implementer {fields.get('CPU implementer', '?')} part {fields['CPU part']}"
    return platform.processor() or platform.machine()


def cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """SIMD flags that matter for inference (AVX2, AVX-512*, VNNI, AMX; Arm asimd/dotprod/SVE/i8mm)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            have = set(value.split())
            return sorted(f for f in have if f in INTERESTING_FLAGS or f.startswith("avx512"))
    return []


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
    """Installed versions (from package metadata: nothing is imported)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


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
