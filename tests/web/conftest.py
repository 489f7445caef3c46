"""Web fixtures: the bundle of the tiny digits model, and a skip (with the reason) when no browser can run.

Everything missing here is the ``browser`` component: under ``EDGEPRUNE_REQUIRE=browser`` (CI) a missing
piece fails the test with the same reason instead of skipping it.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def web_bundle(tiny_ckpt, tmp_path_factory, require_or_skip) -> Path:
    """``edgeprune deploy web`` of the tiny digits checkpoint (skips when onnxruntime-web is not installed)."""
    from edgeprune.deploy.web import RuntimeMissingError, deploy_web

    try:
        return Path(deploy_web(tiny_ckpt, tmp_path_factory.mktemp("web") / "site", quiet=True).path)
    except RuntimeMissingError as e:
        require_or_skip("browser", f"{e.message}: {e.hint}")


@pytest.fixture(scope="session")
def need_runtime(require_or_skip) -> None:
    """Skip (fail under EDGEPRUNE_REQUIRE=browser), saying why, when `make setup` did not install onnxruntime-web."""
    from edgeprune.deploy.web import RuntimeMissingError, installed_version

    try:
        installed_version()
    except RuntimeMissingError as e:
        require_or_skip("browser", f"{e.message}: {e.hint}")


@pytest.fixture(scope="session")
def need_browser(need_runtime, require_or_skip) -> None:
    """Skip (fail under EDGEPRUNE_REQUIRE=browser), saying why, when Chromium, playwright or onnxruntime-web is missing."""
    from edgeprune.bench.backends.web import browser_missing

    why = browser_missing()
    if why:
        require_or_skip("browser", f"browser tests skipped: {why}")


@pytest.fixture(scope="session")
def tiny_onnx(tiny_ckpt, tmp_path_factory) -> Path:
    """The tiny checkpoint as ONNX (with its spec)."""
    from edgeprune.export.onnx import export_onnx
    from edgeprune.models.checkpoint import load_checkpoint

    return export_onnx(load_checkpoint(tiny_ckpt), tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="session")
def tiny_half_onnx(tiny_half_ckpt, tmp_path_factory) -> Path:
    """The half-width checkpoint as ONNX."""
    from edgeprune.export.onnx import export_onnx
    from edgeprune.models.checkpoint import load_checkpoint

    return export_onnx(load_checkpoint(tiny_half_ckpt), tmp_path_factory.mktemp("onnx") / "tiny_half.onnx")
