"""Emulated ARM check against the cached arm64 root that `make arm-smoke` builds (skipped without it, or
failed under ``EDGEPRUNE_REQUIRE=arm`` as in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from edgeprune.errors import ConfigError

pytestmark = pytest.mark.arm
CACHE = Path(os.environ.get("EDGEPRUNE_ARM_CACHE", Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                            / "edgeprune"))
ROOT, SITE = CACHE / "arm64-root", CACHE / "arm64-site"


@pytest.fixture(scope="module")
def arm_env(require_or_skip):
    """The arm64 root and aarch64 wheels, or a skip (a failure under EDGEPRUNE_REQUIRE=arm) saying how to get them."""
    if not shutil.which("qemu-aarch64-static"):
        require_or_skip("arm", "qemu-aarch64-static is missing: run `make arm-smoke` once (installs it and builds the root)")
    if not (ROOT / ".edgeprune-ready").exists() or not (SITE / ".edgeprune-ready").exists():
        require_or_skip("arm", f"no cached arm64 root/wheels under {CACHE}: run `make arm-smoke` once")
    if os.geteuid() != 0:
        require_or_skip("arm", "the emulated check needs root (unshare -m for a fake ARM /proc/cpuinfo)")
    return ROOT, SITE


def test_aarch64_outputs_equal_x86(arm_env, digits_onnx, tmp_path):
    from edgeprune.deploy.arm import check_arm
    from edgeprune.deploy.device import deploy_device

    bundle = deploy_device(digits_onnx, tmp_path / "pi.tar.gz", target="linux-aarch64").path
    result = check_arm(bundle, *arm_env, samples=8, out=tmp_path / "check.json")
    assert result["passed"] and result["mismatched_labels"] == 0 and result["max_abs_diff"] <= 1e-5
    assert result["arm"]["emulated"] is True and "emulated_wall_s" in result["arm"]
    assert "latency_ms" not in str(result) and "never device latency" in result["note"]
    assert (tmp_path / "check.json").is_file()


def test_x86_bundle_is_not_an_arm_check(arm_env, bundle):
    from edgeprune.deploy.arm import check_arm

    with pytest.raises(ConfigError, match="not linux-aarch64"):
        check_arm(bundle, *arm_env)
