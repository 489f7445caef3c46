"""Shared fixtures: the digits data, two small trained VGG checkpoints (dense and half-width), and the
rules every test uses for the things that could make the suite flaky:

- ``assert_outputs_close`` / ``same_model``: outputs of separately built models or sessions are compared
  with a float32 tolerance relative to the output scale (never bit-exact: oneDNN and onnxruntime pick
  different kernels and accumulation orders on different CPUs); weights and state dicts stay exact.
- ``retry_timing``: an assertion on a measured speed is retried once, so one burst of load on a shared
  box cannot fail it while a real regression (failing twice) still does.
- ``require_or_skip``: a test whose optional system piece (browser, ssh, arm) is missing skips with the
  reason, unless ``EDGEPRUNE_REQUIRE`` names that piece (CI does): then it fails with the reason.

The half-width model stands in for a pruned one where a test needs a smaller network but not the
pruning engine itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import numpy as np
import pytest
import torch

os.environ.setdefault("EDGEPRUNE_QUIET", "1")
torch.set_num_threads(2)

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

# --- optional system pieces: skip locally, fail in CI ------------------------------------------------

REQUIRE_ENV = "EDGEPRUNE_REQUIRE"
COMPONENTS = {
    "browser": "Chromium at /usr/bin/chromium, the playwright package and onnxruntime-web in node_modules",
    "ssh": "/usr/sbin/sshd and the OpenSSH client (a throwaway sshd on 127.0.0.1)",
    "arm": "qemu-aarch64-static and the cached arm64 root and wheels (scripts/arm-smoke.sh --prepare), as root",
}


def required_components() -> set[str]:
    """The components ``EDGEPRUNE_REQUIRE`` (comma-separated) names; an unknown name is an error."""
    names = {n.strip() for n in os.environ.get(REQUIRE_ENV, "").split(",") if n.strip()}
    unknown = sorted(names - set(COMPONENTS))
    if unknown:
        raise pytest.UsageError(f"{REQUIRE_ENV} names unknown components {unknown}; known: {sorted(COMPONENTS)}")
    return names


def _require_or_skip(component: str, reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it when ``EDGEPRUNE_REQUIRE`` names ``component``."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown component {component!r}; known: {sorted(COMPONENTS)}")
    if component in required_components():
        pytest.fail(f"{component} is required ({REQUIRE_ENV}={os.environ[REQUIRE_ENV]}) but not usable: {reason}",
                    pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    required_components()  # a typo in EDGEPRUNE_REQUIRE stops the run before any test


def pytest_report_header(config):
    names = required_components()
    return f"{REQUIRE_ENV}: {','.join(sorted(names))} (missing ones fail)" if names else None


@pytest.fixture(scope="session")
def require_or_skip() -> Callable[[str, str], NoReturn]:
    """``require_or_skip(component, reason)``: skip, or fail when ``EDGEPRUNE_REQUIRE`` names the component."""
    return _require_or_skip


# --- comparing models and outputs -----------------------------------------------------------------

OUTPUT_RTOL = 1e-5  # float32 arithmetic, different kernels / accumulation orders


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _assert_outputs_close(actual, expected, what: str = "outputs") -> None:
    """``actual`` equals ``expected`` up to float32 rounding: rtol 1e-5 and atol 1e-5 x max|output|.

    The absolute part scales with the outputs: random-init logits can be ~1e-10, where a fixed atol
    would pass anything.
    """
    a, e = _as_array(actual), _as_array(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert np.isfinite(a).all() and np.isfinite(e).all(), f"{what}: non-finite values"
    scale = float(max(np.abs(a).max(initial=0.0), np.abs(e).max(initial=0.0)))
    np.testing.assert_allclose(a, e, rtol=OUTPUT_RTOL, atol=OUTPUT_RTOL * scale,
                               err_msg=f"{what} differ beyond float32 rounding (scale {scale:.3g})")


def _assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """The same keys and bit-identical tensors (weights are copied, never recomputed)."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb), f"state dict keys differ: {sorted(set(sa) ^ set(sb))}"
    differ = [k for k in sa if sa[k].shape != sb[k].shape or sa[k].dtype != sb[k].dtype or not torch.equal(sa[k], sb[k])]
    assert not differ, f"state dict tensors differ: {differ}"


def _same_model(a: torch.nn.Module, b: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Exactly equal state dicts, and outputs on ``x`` (eval, no grad) close; returns ``a``'s outputs."""
    _assert_same_state(a, b)
    a.eval()
    b.eval()
    with torch.no_grad():
        ya, yb = a(x), b(x)
    _assert_outputs_close(ya, yb)
    return ya


@pytest.fixture(scope="session")
def assert_outputs_close() -> Callable[..., None]:
    """``assert_outputs_close(actual, expected)``: tensors or arrays, within float32 rounding of the scale."""
    return _assert_outputs_close


@pytest.fixture(scope="session")
def same_model() -> Callable[[torch.nn.Module, torch.nn.Module, torch.Tensor], torch.Tensor]:
    """``same_model(a, b, x)``: state dicts bit-identical, outputs on ``x`` within float32 rounding."""
    return _same_model


# --- measured speeds --------------------------------------------------------------------------------

T = TypeVar("T")
TIMING_ATTEMPTS = 2


def _retry_timing(measure_and_check: Callable[[], T], attempts: int = TIMING_ATTEMPTS) -> T:
    """Run ``measure_and_check`` (measure, then assert on the measured speed); an AssertionError is retried.

    One retry absorbs a burst of load on a shared 2-core box; a real regression fails every attempt and
    the last attempt's assertion is what the report shows.
    """
    for attempt in range(1, attempts + 1):
        try:
            return measure_and_check()
        except AssertionError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def retry_timing() -> Callable[..., object]:
    """``retry_timing(fn)``: ``fn`` measures and asserts on speed; a failed assertion gets one more try."""
    return _retry_timing


@pytest.fixture(scope="session")
def digits():
    """Digits at 32 px, one channel."""
    from edgeprune.data import load_data

    return load_data("digits")


def _train(digits, tmp_path_factory, name: str, **model_kwargs) -> Path:
    import edgeprune as ep

    out = tmp_path_factory.mktemp(name)
    torch.manual_seed(2)
    model = ep.create_model("vgg11_bn", data=digits, **model_kwargs)
    ep.fit(model, digits, epochs=2, out=out, device="cpu")
    return out / "model.safetensors"


@pytest.fixture(scope="session")
def tiny_ckpt(digits, tmp_path_factory) -> Path:
    """A vgg11_bn at width 0.25 trained 2 epochs on digits (~97% test accuracy)."""
    return _train(digits, tmp_path_factory, "tiny", width=0.25)


@pytest.fixture(scope="session")
def tiny_half_ckpt(digits, tmp_path_factory) -> Path:
    """The same architecture with every conv width halved, trained the same way."""
    return _train(digits, tmp_path_factory, "tiny_half", widths=[8, 16, 32, 32, 64, 64, 64, 64])


@pytest.fixture(scope="session")
def latency_cache(tmp_path_factory) -> Path:
    """One latency-table cache for the session: tables of ``tiny_ckpt`` are measured once."""
    return tmp_path_factory.mktemp("latency-cache")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots, reports)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def write_idx_split_files(folder: Path, gz: bool = True, n_train: int = 100, n_test: int = 20, seed: int = 0) -> Path:
    """The four MNIST-style idx files (random 28x28 images, labels cycling 0..9) in ``folder``, gzip or plain."""
    import gzip
    import struct

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for magic, array in ((2051, rng.integers(0, 255, (n, 28, 28))), (2049, np.arange(n) % 10)):
            kind = "images-idx3" if magic == 2051 else "labels-idx1"
            raw = struct.pack(">II", magic, n) + (struct.pack(">II", 28, 28) if magic == 2051 else b"")
            raw += array.astype(np.uint8).tobytes()
            name = f"{prefix}-{kind}-ubyte"
            (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(raw) if gz else raw)
    return folder


@pytest.fixture(scope="session")
def idx_files() -> Callable[..., Path]:
    """``idx_files(folder, gz=True, n_train=100, n_test=20, seed=0)`` writes a fake MNIST/Fashion-MNIST."""
    return write_idx_split_files


@pytest.fixture
def fake_system_fashionmnist(tmp_path, monkeypatch) -> Path:
    """A small fake Fashion-MNIST where Debian's package puts it, the real one hidden; $EDGEPRUNE_DATA unset."""
    system = tmp_path / "system-datasets"
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(system))
    monkeypatch.delenv("EDGEPRUNE_DATA", raising=False)
    return write_idx_split_files(system / "fashion-mnist", n_train=400, n_test=100)


@pytest.fixture
def short_timing(monkeypatch):
    """The bench's timing protocol (interleaved rounds, a bootstrap interval) in a tenth of the time, as both the
    "quick" and the "full" preset: for tests of what is measured and recorded, not of how fast."""
    from edgeprune.runtime.timing import PRESETS, Preset

    short = Preset("short", warmup_runs=3, warmup_s=0.2, min_runs=24, min_rounds=8, min_time_s=0.05, max_time_s=5.0)
    monkeypatch.setitem(PRESETS, "quick", short)
    monkeypatch.setitem(PRESETS, "full", short)
    return short
