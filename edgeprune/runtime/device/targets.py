"""Device targets and the onnxruntime/numpy pins that have wheels for each (Python 3.9+)."""

from __future__ import annotations

import platform

from edgeprune.errors import ConfigError

TARGETS = {"linux-aarch64": "aarch64", "linux-x86_64": "x86_64"}
_ALIASES = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64"}

# (requirement, lowest Python, Python below which it applies or None): manylinux wheels exist for
# both targets. onnxruntime 1.32 / numpy 2.4 need Python 3.11; 1.19.2 / 2.0.2 cover 3.9 and 3.10.
PINS: tuple[tuple[str, tuple[int, int], tuple[int, int] | None], ...] = (
    ("numpy==2.4.6", (3, 11), None),
    ("onnxruntime==1.32.0", (3, 11), None),
    ("numpy==2.0.2", (3, 9), (3, 11)),
    ("onnxruntime==1.19.2", (3, 9), (3, 11)),
)


def host_target() -> str:
    """This machine's target name, e.g. linux-x86_64."""
    machine = platform.machine().lower()
    return f"linux-{_ALIASES.get(machine, machine)}"


def check_target(target: str | None) -> str:
    """Validate a target name (None means this machine's)."""
    target = target or host_target()
    if target not in TARGETS:
        raise ConfigError(f"device target {target!r} is not one of {sorted(TARGETS)}",
                          hint="linux-aarch64 (Raspberry Pi 4/5, Jetson) or linux-x86_64")
    return target


def requirements_txt(target: str) -> str:
    """A pinned requirements.txt for ``target`` with environment markers for Python 3.9+."""
    check_target(target)
    lines = [f"# edgeprune device runner for {target}: onnxruntime and numpy, nothing else",
             "# (Pillow is optional: only needed to classify PNG/JPEG files)"]
    for req, low, high in PINS:
        marker = f'python_version >= "{low[0]}.{low[1]}"'
        if high:
            marker += f' and python_version < "{high[0]}.{high[1]}"'
        marker += f' and platform_machine == "{TARGETS[target]}"'
        lines.append(f"{req} ; {marker}")
    return "\n".join(lines) + "\n"


def requirements_for(target: str, python: tuple[int, int]) -> list[str]:
    """The pins that apply to ``target`` under Python ``python`` (for pip download/--target)."""
    check_target(target)
    return [req for req, low, high in PINS if python >= low and (high is None or python < high)]
