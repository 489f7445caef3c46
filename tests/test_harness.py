"""The suite's own rules (tests/conftest.py): skip or fail on missing components, output tolerance, timing retry."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


# --- EDGEPRUNE_REQUIRE -------------------------------------------------------------------------------

def test_missing_component_skips_without_the_variable(require_or_skip, monkeypatch):
    monkeypatch.delenv("EDGEPRUNE_REQUIRE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no sshd here"):
        require_or_skip("ssh", "no sshd here")


def test_missing_component_fails_when_required(require_or_skip, monkeypatch):
    monkeypatch.setenv("EDGEPRUNE_REQUIRE", "browser, ssh")
    with pytest.raises(pytest.fail.Exception, match=r"ssh is required .*: no sshd here"):
        require_or_skip("ssh", "no sshd here")
    with pytest.raises(pytest.fail.Exception, match="browser is required"):
        require_or_skip("browser", "no Chromium")
    with pytest.raises(pytest.skip.Exception, match="no arm64 root"):  # not named: still a skip
        require_or_skip("arm", "no arm64 root")


def test_unknown_components_are_errors(require_or_skip, monkeypatch):
    monkeypatch.delenv("EDGEPRUNE_REQUIRE", raising=False)
    with pytest.raises(ValueError, match="unknown component 'gpu'"):
        require_or_skip("gpu", "no CUDA")
    monkeypatch.setenv("EDGEPRUNE_REQUIRE", "browser,shh")  # a typo must not quietly require nothing
    with pytest.raises(pytest.UsageError, match="shh"):
        require_or_skip("browser", "no Chromium")


def _bin_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only ``tools``: no apt-get, npm or ssh, so the setup scripts can only skip."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        (folder / tool).symlink_to(shutil.which(tool))
    return str(folder)


@pytest.mark.parametrize("script,component,env", [
    ("setup-ssh.sh", "ssh", {}),
    ("setup-web.sh", "browser", {"EDGEPRUNE_CHROMIUM": "/nonexistent/chromium"}),
])
def test_setup_scripts_skip_locally_and_fail_when_required(script, component, env, tmp_path):
    path = _bin_with(tmp_path, "dirname", "sed", "head", "grep", "id")
    base = {"PATH": path, "VENV": str(Path(sys.executable).parents[1]), **env}

    def run(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/bash", str(REPO / "scripts" / script)], capture_output=True, text=True,
                              timeout=60, env={**base, **extra})

    local = run()
    assert local.returncode == 0, local.stdout + local.stderr
    assert "skipped" in local.stdout and "FAILED" not in local.stderr
    ci = run(EDGEPRUNE_REQUIRE=f"arm,{component}")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "skipped" in ci.stdout and "FAILED: EDGEPRUNE_REQUIRE=" in ci.stderr
    other = run(EDGEPRUNE_REQUIRE="arm")  # another component required: this script still only skips
    assert other.returncode == 0, other.stdout + other.stderr


# --- outputs and weights ----------------------------------------------------------------------------

def test_output_tolerance_is_relative_to_the_scale(assert_outputs_close):
    y = np.array([[3.0, -12.0, 0.5]], dtype=np.float32)
    assert_outputs_close(y * (1 + np.float32(2e-7)), y)  # float32 rounding: fine
    with pytest.raises(AssertionError):
        assert_outputs_close(y + np.float32(1e-3), y)
    tiny = y * np.float32(1e-10)  # random-init logits: a fixed atol would pass anything here
    assert_outputs_close(tiny * (1 + np.float32(2e-7)), tiny)
    with pytest.raises(AssertionError):
        assert_outputs_close(tiny * 2, tiny)
    with pytest.raises(AssertionError, match="shape"):
        assert_outputs_close(y[:, :2], y)
    assert_outputs_close(torch.from_numpy(y), y)  # tensors and arrays alike


def test_same_model_needs_identical_weights(same_model):
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    b = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    b.load_state_dict(a.state_dict())
    x = torch.randn(5, 4)
    assert same_model(a, b, x).shape == (5, 2)
    with torch.no_grad():
        b[0].weight[0, 0] = torch.nextafter(b[0].weight[0, 0], torch.tensor(10.0))  # one ulp: outputs still close
    with pytest.raises(AssertionError, match=r"0\.weight"):
        same_model(a, b, x)
    with pytest.raises(AssertionError, match="keys differ"):
        same_model(a, torch.nn.Sequential(torch.nn.Linear(4, 3)), x)


# --- timing ------------------------------------------------------------------------------------------

def test_timing_retry_absorbs_one_bad_measurement_but_not_two(retry_timing):
    calls = []

    def flaky_once():
        calls.append(1)
        assert len(calls) > 1, "loaded box"
        return "ok"

    assert retry_timing(flaky_once) == "ok" and len(calls) == 2
    calls.clear()

    def slow_always():
        calls.append(1)
        raise AssertionError(f"attempt {len(calls)}: only 1.1x faster")

    with pytest.raises(AssertionError, match="attempt 2"):
        retry_timing(slow_always)
    assert len(calls) == 2

    def broken():
        raise RuntimeError("not a timing failure")

    with pytest.raises(RuntimeError):  # only failed assertions are retried
        retry_timing(broken)

