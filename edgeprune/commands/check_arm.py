"""edgeprune check-arm: run a linux-aarch64 device bundle under qemu-user and compare with x86."""

from __future__ import annotations

import argparse
import os

HELP = "run an aarch64 device bundle under qemu-user emulation and check its outputs equal the x86 ones"
EXAMPLES = """examples:
  make arm-smoke        # builds the arm64 root and wheels, a digits bundle, then runs this
  edgeprune check-arm bundle.tar.gz --root ~/.cache/edgeprune/arm64-root --site ~/.cache/edgeprune/arm64-site
timings under emulation are labelled emulated; they are never device latency.
the bundle's sha256 manifest catches accidents (truncated or edited files), not attackers: the bundle
runs its own run.py, so check only bundles you built.
"""
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "edgeprune")


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune check-arm``."""
    p.add_argument("bundle", metavar="BUNDLE", help="a .tar.gz from `edgeprune deploy device --target linux-aarch64`")
    p.add_argument("--root", default=os.path.join(CACHE, "arm64-root"), help="arm64 Debian root (default: %(default)s)")
    p.add_argument("--site", default=os.path.join(CACHE, "arm64-site"),
                   help="aarch64 onnxruntime + numpy installed with pip --target (default: %(default)s)")
    p.add_argument("--samples", type=int, default=16, help="random inputs to compare (default: %(default)s)")
    p.add_argument("--atol", type=float, default=1e-5, help="largest allowed |logit difference| (default: %(default)s)")
    p.add_argument("--cpu", default="cortex-a72", help="qemu -cpu model (default: %(default)s)")
    p.add_argument("--out", default=None, help="write the result as JSON here")


def out_folder(args: argparse.Namespace) -> None:
    """Nothing to lock: ``--out`` is one JSON file, written atomically."""
    return None


def run(args: argparse.Namespace) -> int:
    """Run the check and print a one-line verdict."""
    from edgeprune.deploy.arm import check_arm

    r = check_arm(args.bundle, args.root, args.site, samples=args.samples, atol=args.atol, cpu=args.cpu, out=args.out)
    print(f"check-arm: passed: {r['samples']} samples, labels equal, max |diff| {r['max_abs_diff']:.3g} "
          f"({'exact' if r['exact'] else 'within atol'}); x86 {r['x86']['wall_s']} s, "
          f"aarch64 {r['arm']['emulated_wall_s']} s emulated (not device latency)")
    return 0
