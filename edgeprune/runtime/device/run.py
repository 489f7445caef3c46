#!/usr/bin/env python3
"""edgeprune device runner: verify the bundle, classify images, benchmark; needs numpy + onnxruntime.

Usage (inside an extracted bundle):
  python3 run.py verify                      # sha256 of every file against manifest.json
  python3 run.py env                         # this device's environment header (JSON)
  python3 run.py classify img.png x.npy      # one JSON line per image (PNG/JPEG need Pillow)
  python3 run.py bench --threads 1,2 --cpus 2,3   # the edgeprune timing protocol, JSON rows

Python 3.9+ with the standard library, numpy and onnxruntime only: never torch, never edgeprune.
What it shares with edgeprune (verification, CPU identification, session settings, the timing
protocol) it imports from ``runtime/`` beside it: verbatim copies of edgeprune.runtime's modules.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".pgm", ".ppm", ".tif", ".tiff"}


class RunnerError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def shipped(name: str):
    """A module of the bundle's ``runtime/`` folder (``python -I`` leaves the script's folder off sys.path)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    return importlib.import_module(f"runtime.{name}")


def verify(folder: Path = HERE) -> dict:
    """Check every file against the manifest, refusing missing and unlisted ones; RunnerError naming what differs."""
    check = shipped("bundle")
    try:
        return check.verify_dir(folder)
    except check.BundleCheckError as e:
        raise RunnerError(str(e)) from e


def env_header() -> dict:
    """CPU model and flags, cores, governor (when readable), machine, Python and runtime versions."""
    import numpy  # noqa: F401 (imported: versions() falls back to its __version__)
    import onnxruntime  # noqa: F401

    machine = shipped("machine")
    info = {"cpu_model": machine.cpu_model(), "cpu_flags": machine.cpu_flags(), "machine": platform.machine(),
            "system": platform.platform(), "cores": os.cpu_count(), **machine.versions(("numpy", "onnxruntime")),
            "hostname": platform.node()}
    if hasattr(os, "sched_getaffinity"):
        info["usable_cpus"] = sorted(os.sched_getaffinity(0))
    governor = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor:
        info["governor"] = governor
    return info


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None


def pin(cpus: str | None) -> None:
    """Pin this process to a CPU list such as '2,3' or '0-3'."""
    if not cpus:
        return
    chosen = set()
    try:
        for part in cpus.split(","):
            lo, _, hi = part.partition("-")
            chosen.update(range(int(lo), int(hi or lo) + 1))
        os.sched_setaffinity(0, chosen)
    except (AttributeError, OSError, ValueError) as e:
        raise RunnerError(f"cannot pin to CPUs {cpus!r}: {e}") from e


def session(manifest: dict, threads: int, folder: Path = HERE):
    """An onnxruntime CPU session for the bundle's model, configured as `edgeprune bench`'s ort backend."""
    return shipped("ort").ort_session(folder / manifest["model"], threads)


def load_inputs(path: Path, spec: dict):
    """Normalized float32 (N, C, H, W) from an image (Pillow) or a .npy of [0,1] floats or uint8 pixels."""
    import numpy as np

    c, h, w = spec["input_shape"]
    if not path.is_file():
        raise RunnerError(f"{path} does not exist")
    if path.suffix.lower() == ".npy":
        x = np.load(path, allow_pickle=False)
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        if x.ndim == 2:
            x = x[None, None]
        elif x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[1:] != (c, h, w):
            raise RunnerError(f"{path}: array shape {x.shape} is not (N, {c}, {h}, {w}), ({c}, {h}, {w}) or ({h}, {w})")
    elif path.suffix.lower() in IMAGE_SUFFIXES:
        try:
            from PIL import Image
        except ImportError as e:
            raise RunnerError(f"{path}: reading {path.suffix} files needs Pillow (pip install pillow); "
                              ".npy arrays need nothing more") from e
        with Image.open(path) as im:
            im = im.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
            x = np.asarray(im, dtype=np.float32) / 255.0
        x = (x[None] if c == 1 else x.transpose(2, 0, 1))[None]
    else:
        raise RunnerError(f"{path}: unsupported file type (use .npy, or PNG/JPEG with Pillow installed)")
    mean = np.asarray(spec["mean"], dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec["std"], dtype=np.float32).reshape(1, -1, 1, 1)
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def classify(args: argparse.Namespace, manifest: dict) -> int:
    """Print one JSON line per input sample: label, score and logits."""
    import numpy as np

    spec = manifest["spec"]
    sess = session(manifest, args.threads)
    name = sess.get_inputs()[0].name
    labels = spec.get("labels") or []
    for file in args.files:
        x = load_inputs(Path(file), spec)
        logits = sess.run(None, {name: x})[0]
        z = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        for i, row in enumerate(logits):
            k = int(row.argmax())
            print(json.dumps({"file": file, "sample": i, "index": k, "label": labels[k] if k < len(labels) else str(k),
                              "score": float(probs[i, k]), "logits": [float(v) for v in row]}))
    return 0


def bench(args: argparse.Namespace, manifest: dict) -> int:
    """Run the edgeprune timing protocol (runtime/timing.py, shipped beside this file) and print one JSON object.

    Models: this bundle's, then those of ``--with`` bundles (each verified), interleaved in rounds.
    """
    import time

    import numpy as np

    timing = shipped("timing")

    preset = timing.Preset(**json.loads(args.preset_json)) if args.preset_json else timing.PRESETS[args.preset]
    bundles = [(HERE, manifest)] + [(Path(d).resolve(), verify(Path(d).resolve())) for d in args.with_dirs]
    runs_out = []
    for threads in [int(t) for t in args.threads.split(",")]:
        runs = []
        for folder, m in bundles:
            c, h, w = m["spec"]["input_shape"]
            x = np.random.default_rng(0).standard_normal((args.batch, c, h, w)).astype(np.float32)
            t0 = time.perf_counter()
            sess = session(m, threads, folder)
            name = sess.get_inputs()[0].name
            init_ms = (time.perf_counter() - t0) * 1e3
            runs.append((m.get("name") or folder.name, lambda s=sess, n=name, x=x: s.run(None, {n: x}), init_ms))
        results = timing.measure_interleaved(runs, preset)
        for r, (folder, m) in zip(results, bundles):  # noqa: B905 (strict= needs Python 3.10; runs on 3.9)
            r.info.update({"bundle": folder.name, "model_sha256": m["files"][m["model"]]["sha256"],
                           "intra_op_threads": threads, "cpus": args.cpus})
        runs_out.append({"threads": threads, "batch": args.batch, "cpus": args.cpus, "preset": preset.to_dict(),
                         "results": [{**r.to_dict(), "summary": timing.summarize(r.samples, args.batch)}
                                     for r in results]})
    print(json.dumps({"env": env_header(), "runs": runs_out}))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse, verify the bundle, dispatch."""
    p = argparse.ArgumentParser(prog="run.py", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="check every file's sha256 against manifest.json")
    sub.add_parser("env", help="print this device's environment header as JSON")
    c = sub.add_parser("classify", help="classify image files (PNG/JPEG need Pillow) or .npy arrays")
    c.add_argument("files", nargs="+")
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--cpus", default=None, help="pin to these CPUs, e.g. 2,3 or 0-3")
    b = sub.add_parser("bench", help="time the model with the edgeprune protocol; prints JSON")
    b.add_argument("--threads", default="1", help="comma-separated thread counts (default: 1)")
    b.add_argument("--cpus", default=None, help="pin to these CPUs, e.g. 2,3 or 0-3")
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--preset", default="quick", help="quick or full (default: quick)")
    b.add_argument("--preset-json", default=None, help="a timing.Preset as JSON (overrides --preset)")
    b.add_argument("--with", dest="with_dirs", nargs="*", default=[], metavar="DIR",
                   help="other extracted bundles to interleave with this one (e.g. the baseline)")
    args = p.parse_args(argv)
    try:
        manifest = verify()
        if args.command == "verify":
            print(json.dumps({"ok": True, "files": len(manifest["files"])}))
            return 0
        if args.command == "env":
            print(json.dumps(env_header()))
            return 0
        pin(args.cpus)
        return classify(args, manifest) if args.command == "classify" else bench(args, manifest)
    except RunnerError as e:
        print(f"run.py {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
