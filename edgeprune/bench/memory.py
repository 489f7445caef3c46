"""Peak resident memory of a fresh worker process that loads a model and runs it.

Run apart from the interleaved timing so models do not share a heap. The worker is this module
(``python -m edgeprune.bench.memory``); it imports only the backend it measures and prints
``{"peak_rss_bytes": N}`` or ``{"error": "..."}``. The figure is ``VmHWM`` from /proc/self/status: Linux
keeps ``ru_maxrss`` across ``exec``, so a worker started by a large parent would report the parent's peak.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

__all__ = ["peak_rss"]


def peak_rss(backend: str, path: str | Path, form: str, input_shape: tuple[int, ...], threads: int, batch: int,
             runs: int = 3, timeout: float = 600) -> tuple[int | None, str | None]:
    """(peak RSS bytes, None) of a fresh worker, or (None, reason)."""
    cmd = [sys.executable, "-m", "edgeprune.bench.memory", backend, str(path), form,
           ",".join(map(str, input_shape)), str(threads), str(batch), str(runs)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"memory worker timed out after {timeout:.0f} s"
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"memory worker failed (exit {done.returncode}): {tail[:200]}"
    result = json.loads(lines[-1])
    return result.get("peak_rss_bytes"), result.get("error")


def _worker(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="edgeprune.bench.memory")
    for name in ("backend", "path", "form", "shape"):
        p.add_argument(name)
    for name in ("threads", "batch", "runs"):
        p.add_argument(name, type=int)
    a = p.parse_args(argv)
    from edgeprune.bench.backends import Artifact, get_backend

    try:
        art = Artifact(Path(a.path).stem, Path(a.path), a.form, tuple(int(s) for s in a.shape.split(",")))
        session = get_backend(a.backend).load(art, a.threads, a.batch)
        for _ in range(a.runs):
            session.run()
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    print(json.dumps({"peak_rss_bytes": _peak_bytes()}))
    return 0


def _peak_bytes() -> int:
    """This process's resident high-water mark (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return int(kib if sys.platform == "darwin" else kib * 1024)


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
