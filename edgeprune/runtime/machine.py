"""This machine: CPU model and the SIMD flags that matter for inference, and installed versions.

Shipped verbatim in the device bundle (standard library only, Python 3.9+), so the board's
environment header reads /proc/cpuinfo exactly as the desktop's bench header does.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

INTERESTING_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16",
                     "asimd", "asimdhp", "asimddp", "sve", "sve2", "i8mm", "bf16", "neon", "vfpv4")
MODEL_KEYS = ("model name", "Model", "Hardware", "cpu model")  # x86; Raspberry Pi; older Arm kernels; MIPS


def read_cpuinfo() -> str:
    """/proc/cpuinfo, or "" where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""


def cpu_model(cpuinfo: str | None = None) -> str:
    """CPU model name (x86 ``model name``; on Arm ``Model``/``Hardware`` or the CPU part)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    for key in MODEL_KEYS:
        if fields.get(key):
            return fields[key]
    if fields.get("CPU part"):
        return f"Arm CPU implementer {fields.get('CPU implementer', '?')} part {fields['CPU part']}"
    return platform.processor() or platform.machine()


def cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """SIMD flags that matter for inference (AVX2, AVX-512*, VNNI, AMX; Arm asimd/dotprod/SVE/i8mm)."""
    text = read_cpuinfo() if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            have = set(value.split())
            return sorted(f for f in have if f in INTERESTING_FLAGS or f.startswith("avx512"))
    return []


def versions(packages: Sequence[str], python: bool = True) -> dict[str, str | None]:
    """Installed versions from package metadata (nothing is imported), ``python`` first when asked.

    A package without metadata that is already imported (a distribution under another name, e.g.
    onnxruntime-gpu) reports its module's ``__version__``; otherwise None.
    """
    out: dict[str, str | None] = {"python": platform.python_version()} if python else {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            module = sys.modules.get(name.replace("-", "_"))
            out[name] = getattr(module, "__version__", None)
    return out
