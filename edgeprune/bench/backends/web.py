"""The ``web`` bench backend: onnxruntime-web (wasm) in Debian's Chromium, headless, driven by Playwright.

Out of process: the models become one web bundle (the page of ``edgeprune deploy web``; every model under
``models/``), served on 127.0.0.1 with COOP/COEP; a fresh Chromium profile opens the page with
``?threads=N`` and the page runs the timing protocol itself (warm-up, rounds interleaving the
models, ``performance.now()``). Afterwards the page's logits on a fixed input are checked against
onnxruntime in Python. Rows carry ``info["profile"]`` = ``browser-wasm-1t`` or ``browser-wasm-<N>t``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from edgeprune.bench.backends import Artifact, Backend, Preset, RawResult, register_backend
from edgeprune.bench.config import WebOptions

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PARITY_ATOL = 1e-4


def chromium_path(chromium: str | None = None) -> str:
    """The browser to drive: ``chromium`` (WebOptions.chromium), else $EDGEPRUNE_CHROMIUM, else /usr/bin/chromium."""
    return chromium or os.environ.get("EDGEPRUNE_CHROMIUM", CHROMIUM)


def browser_missing(chromium: str | None = None) -> str | None:
    """Why no browser can be driven here (no Chromium, no playwright package), or None."""
    path = chromium_path(chromium)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return f"Chromium not found at {path} (run `make setup` as root, or `apt-get install -y chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[web]')"
    return None


@functools.lru_cache(maxsize=4)
def chromium_version(chromium: str | None = None) -> str:
    """``Chromium 156.0...`` as the browser reports it."""
    try:
        out = subprocess.run([chromium_path(chromium), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "Chromium (unknown version)"
    return " ".join(out.split()[:2]) or "Chromium (unknown version)"


def local_only(url: str) -> bool:
    """True for URLs that stay on this machine (127.0.0.1, data:, blob:)."""
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob") or parsed.hostname == "127.0.0.1"


@contextlib.contextmanager
def browser_page(url: str, block_offsite: bool = True, chromium: str | None = None) -> Iterator[Any]:
    """A page of a fresh headless Chromium profile at ``url``; ``page.edgeprune_requests`` lists every URL asked for."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="edgeprune-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=chromium_path(chromium), headless=True,
                                                   args=FLAGS, viewport={"width": 1000, "height": 800})
        try:
            if block_offsite:
                ctx.route("**/*", lambda route: route.continue_() if local_only(route.request.url) else route.abort())
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            requests: list[str] = []
            workers: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("worker", lambda w: workers.append(w.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.edgeprune_requests, page.edgeprune_workers, page.edgeprune_errors = requests, workers, errors
            page.goto(url)
            page.evaluate("window.edgeprune.ready")
            yield page
        finally:
            ctx.close()


def profile_name(threads: int) -> str:
    """``browser-wasm-1t`` / ``browser-wasm-Nt``."""
    return f"browser-wasm-{threads}t"


def fixed_input(shape: tuple[int, ...], batch: int, seed: int = 0) -> np.ndarray:
    """The input every model is timed and checked on (normal noise, like a normalized image)."""
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(np.float32)


def ort_logits(path: Path, x: np.ndarray) -> np.ndarray:
    """Reference logits from onnxruntime in Python (1 thread)."""
    from edgeprune.runtime.ort import ort_runner

    return ort_runner(path, threads=1)(x)


@register_backend
class WebBackend(Backend):
    """onnxruntime-web (wasm, SIMD, threads) in headless Chromium."""

    name, form, in_process = "web", "onnx", False
    description = "onnxruntime-web (wasm) in headless Chromium via Playwright (profiles browser-wasm-1t/Nt)"
    display_name = "onnxruntime-web"
    options_type = WebOptions

    @property
    def chromium(self) -> str | None:
        """The browser of this bench's WebOptions (None: the default one)."""
        return self.options.chromium if self.options is not None else None

    def missing(self) -> str | None:
        """Why it cannot run: no Chromium, no playwright, or no onnxruntime-web installed."""
        why = browser_missing(self.chromium)
        if why:
            return why
        from edgeprune.runtime.web import RuntimeMissingError, installed_version

        try:
            installed_version()
        except RuntimeMissingError as e:
            return f"{e.message}; {e.hint}"
        return None

    def version(self) -> str:
        """``onnxruntime-web 1.30.0 (wasm) in Chromium 156...``."""
        from edgeprune.runtime.web import installed_version

        return f"{installed_version()} (wasm, {chromium_version(self.chromium)})"

    def thread_counts(self, requested: list[int]) -> list[int]:
        """The browser rows: 1 thread and the most threads asked for (the page needs crossOriginIsolated for >1)."""
        return sorted({1, max(requested)})

    def measure(self, artifacts: list[Artifact], threads: int, batch: int, preset: Preset) -> list[RawResult]:
        """Bundle the models, open the page with ``threads``, run the protocol there, check the logits."""
        from edgeprune.runtime.serve import Serving
        from edgeprune.runtime.web import installed_version, write_site

        with tempfile.TemporaryDirectory(prefix="edgeprune-web-") as tmp:
            site = Path(tmp) / "site"
            write_site(artifacts[0].path, site, installed_version(), require_spec=False)
            (site / "models").mkdir()
            models, inputs = [], []
            for i, a in enumerate(artifacts):
                shutil.copyfile(a.path, site / "models" / f"m{i}.onnx")
                x = fixed_input(tuple(a.input_shape), batch)
                inputs.append(x)
                models.append({"url": f"models/m{i}.onnx", "shape": list(a.input_shape), "input": x.ravel().tolist()})
            with Serving(site) as srv, browser_page(f"{srv.url}?threads={threads}", chromium=self.chromium) as page:
                raw = page.evaluate("([models, preset, batch]) => window.edgeprune.protocol({models, preset, batch})",
                                    [models, preset.to_dict(), batch])
                logits = [page.evaluate("([x, url, b, s]) => window.edgeprune.run(x, url, b, s)",
                                        [m["input"], m["url"], batch, m["shape"]])["logits"] for m in models]
                offsite = [u for u in page.edgeprune_requests if not local_only(u)]
                workers = len(page.edgeprune_workers)
            results = []
            for a, r, got, x in zip(artifacts, raw, logits, inputs, strict=True):
                res = RawResult.from_dict({**r, "name": a.name})
                res.info.update({"profile": profile_name(threads), "workers": workers, "offsite_requests": offsite})
                used = res.info.get("threads")
                if not res.error and used != threads:
                    res.error = (f"the page ran {used} thread(s), not {threads} "
                                 f"(crossOriginIsolated={res.info.get('crossOriginIsolated')})")
                if not res.error:
                    res.error = self._parity(a.path, x, np.asarray(got, dtype=np.float32), res.info)
                results.append(res)
        return results

    @staticmethod
    def _parity(path: Path, x: np.ndarray, got: np.ndarray, info: dict[str, Any]) -> str | None:
        ref = ort_logits(path, x)
        diff = float(np.max(np.abs(ref.ravel() - got.ravel()))) if ref.size == got.size else float("inf")
        info["parity_max_abs"] = diff
        if diff > PARITY_ATOL * max(1.0, float(np.max(np.abs(ref)))):
            return f"page logits differ from onnxruntime by {diff:.3g} (tolerance {PARITY_ATOL})"
        return None
