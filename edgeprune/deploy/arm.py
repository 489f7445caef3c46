"""Emulated ARM check: run a linux-aarch64 bundle under qemu-user and compare its outputs with x86's.

Timings taken under emulation are labelled ``emulated`` and are never device latency (qemu-user is
about 270x slower than the host). onnxruntime segfaults under qemu-user unless /proc/cpuinfo looks
like an ARM CPU, so the emulated run sees a fake one, bind-mounted inside a private mount namespace
(``unshare -m``; needs root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.fileio import write_json
from edgeprune.runtime.device.pack import extract_bundle

PYTHON = "usr/bin/python3.11"
NOTE = "qemu-user emulation: wall times are emulated, never device latency"
FAKE_CPUINFO = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n"
    f"CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n" for i in range(4))


class ArmCheckError(EdgepruneError):
    """The emulated ARM run failed or its outputs differ from the x86 ones."""

    exit_code = 3


def check_arm(bundle: str | os.PathLike[str], root: str | os.PathLike[str], site: str | os.PathLike[str],
              *, samples: int = 16, atol: float = 1e-5, qemu: str = "qemu-aarch64-static", cpu: str = "cortex-a72",
              out: str | os.PathLike[str] | None = None, timeout: float = 900) -> dict[str, Any]:
    """Classify the same inputs with the bundle on x86 and under qemu-aarch64; raise if outputs differ."""
    _check_settings(samples, atol, out)
    root, site = Path(root), Path(site)
    with tempfile.TemporaryDirectory(prefix="edgeprune-arm-") as tmp:
        work = Path(tmp)
        folder = extract_bundle(bundle, work / "bundle")  # a bad bundle is refused before the tools are looked for
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("target") != "linux-aarch64":
            raise ConfigError(f"{bundle} targets {manifest.get('target')}, not linux-aarch64",
                              hint="build it with `edgeprune deploy device MODEL --target linux-aarch64`")
        qemu_path = _tools(root, site, qemu)
        inputs = work / "inputs.npy"  # outside the bundle: the runner refuses unlisted files
        rng = np.random.default_rng(0)
        np.save(inputs, rng.random((samples, *manifest["spec"]["input_shape"]), dtype=np.float32))
        run = [str(folder / "run.py"), "classify", str(inputs)]
        x86, x86_s = _classify([sys.executable, "-I", *run], os.environ.copy(), timeout)
        fake = work / "cpuinfo"
        fake.write_text(FAKE_CPUINFO)
        arm_cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /proc/cpuinfo && exec "$@"',
                   str(fake), qemu_path, "-cpu", cpu, "-L", str(root), str(root / PYTHON), "-s", *run]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1",
               "LANG": "C.UTF-8"}
        arm, arm_s = _classify(arm_cmd, env, timeout)
    result = _compare(x86, arm, atol)
    result.update({"bundle": str(bundle), "target": manifest["target"], "model": manifest.get("name"),
                   "samples": samples, "atol": atol, "note": NOTE,
                   "x86": {"python": sys.version.split()[0], "wall_s": round(x86_s, 3)},
                   "arm": {"emulated": True, "qemu": qemu_path, "qemu_cpu": cpu, "root": str(root),
                           "site": str(site), "emulated_wall_s": round(arm_s, 3)}})
    if out:
        write_json(out, result)
    if not result["passed"]:
        raise ArmCheckError(f"aarch64 outputs differ from x86: {result['mismatched_labels']} labels differ, "
                            f"max |diff| {result['max_abs_diff']:.3g} > {atol}")
    return result


def _check_settings(samples: int, atol: float, out: str | os.PathLike[str] | None) -> None:
    """Refuse a sample count below 1, a negative or non-finite atol and an --out that is a folder."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ConfigError(f"samples must be an integer >= 1, got {samples!r}", params=("samples",))
    if not isinstance(atol, (int, float)) or not np.isfinite(atol) or atol < 0:
        raise ConfigError(f"atol must be a finite number >= 0, got {atol!r}", hint="e.g. 1e-5", params=("atol",))
    if out is not None and Path(out).is_dir():
        raise ConfigError(f"out {out} is a folder; check-arm writes one JSON file", hint="e.g. arm.json",
                          params=("out",))


def _tools(root: Path, site: Path, qemu: str) -> str:
    """Check the emulation pieces; return the qemu binary's path."""
    qemu_path = shutil.which(qemu)
    if not qemu_path:
        raise ConfigError(f"{qemu} is not installed", hint="apt-get install qemu-user-static (or run `make arm-smoke`)")
    if not (root / PYTHON).is_file():
        raise ConfigError(f"{root} is not an arm64 root with {PYTHON}", hint="`make arm-smoke` builds one with debootstrap")
    if not (site / "onnxruntime").is_dir() or not (site / "numpy").is_dir():
        raise ConfigError(f"{site} does not hold aarch64 onnxruntime and numpy",
                          hint="pip install --target SITE --platform manylinux_2_28_aarch64 --only-binary=:all: "
                               "--python-version 3.11 onnxruntime numpy (see scripts/arm-smoke.sh)")
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise ConfigError("the emulated check needs root and unshare (a private mount for a fake ARM /proc/cpuinfo)",
                          hint="run it as root, e.g. in a container")
    return qemu_path


def _classify(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[list[dict[str, Any]], float]:
    """Run the runner's classify command; parse its JSON lines."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise ArmCheckError(f"runner took over {timeout:.0f} s: {' '.join(cmd[:3])} ...") from e
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ArmCheckError(f"runner failed (exit {proc.returncode}): {' | '.join(tail)}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")], seconds


def _compare(x86: list[dict[str, Any]], arm: list[dict[str, Any]], atol: float) -> dict[str, Any]:
    if len(x86) != len(arm) or not x86:
        raise ArmCheckError(f"x86 gave {len(x86)} rows, aarch64 {len(arm)}")
    a = np.array([r["logits"] for r in x86], dtype=np.float64)
    b = np.array([r["logits"] for r in arm], dtype=np.float64)
    diff = float(np.abs(a - b).max())
    mismatched = sum(r["index"] != s["index"] for r, s in zip(x86, arm, strict=True))
    return {"passed": mismatched == 0 and diff <= atol, "exact": bool(np.array_equal(a, b)),
            "max_abs_diff": diff, "mismatched_labels": mismatched,
            "labels": [r["label"] for r in arm]}
