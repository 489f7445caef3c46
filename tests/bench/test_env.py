"""Environment header parsing and CPU pinning of the lowpower profile."""

from __future__ import annotations

import os

import pytest

from edgeprune.bench.env import collect_env, cpu_flags, cpu_model
from edgeprune.bench.profiles import get_profile, pinned
from edgeprune.errors import ConfigError

X86 = "model name\t: Intel(R) Xeon(R) Gold\nflags\t\t: fpu sse4_2 avx avx2 avx512f avx512_vnni avx_vnni\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd asimddp crc32\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n"


def test_cpu_flags_x86_and_arm():
    assert cpu_flags(X86) == ["avx", "avx2", "avx512_vnni", "avx512f", "avx_vnni", "sse4_2"]
    assert cpu_model(X86) == "Intel(R) Xeon(R) Gold"
    assert cpu_flags(ARM) == ["asimd", "asimddp"]
    assert "0xd08" in cpu_model(ARM)


def test_env_has_the_header_keys():
    env = collect_env()
    for key in ("cpu_model", "cpu_flags", "cores", "affinity", "cgroup_cpu_quota", "versions", "git_sha"):
        assert key in env
    assert env["versions"]["numpy"]


def test_lowpower_pins_one_core_and_restores():
    before = os.sched_getaffinity(0)
    prof = get_profile("lowpower")
    cores = prof.cores(prof.threads())
    assert prof.threads() == 1 and len(cores) == 1
    with pinned(cores):
        assert os.sched_getaffinity(0) == cores
    assert os.sched_getaffinity(0) == before
    assert get_profile("desktop").threads() == len(before)


def test_unknown_profile():
    with pytest.raises(ConfigError):
        get_profile("turbo")


def test_importing_bench_and_registry_stays_lean():
    import subprocess
    import sys

    code = ("import sys, edgeprune.bench, edgeprune.bench.backends; "
            "edgeprune.bench.backends.list_backends(); "
            "print(sorted(m for m in ('torch', 'onnxruntime', 'openvino') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
