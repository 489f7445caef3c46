"""edgeprune bench: latency, memory and speedups on CPU backends, with an optional speed-claim check."""

from __future__ import annotations

import argparse

HELP = "benchmark models on torch / onnxruntime / OpenVINO (and web, ssh), with speedups and a claim check"
EXAMPLES = """examples:
  edgeprune bench runs/a/model.safetensors runs/a-obd/model.safetensors --baseline runs/a/model.safetensors --out runs/bench
  edgeprune bench base.onnx pruned.onnx --baseline base.onnx --backends ort,openvino --profile desktop,lowpower --out b
  edgeprune bench base.safetensors pruned.safetensors --baseline base.safetensors --claim 2.0 --claim-on ort,openvino --out b
  edgeprune bench model.safetensors --threads 1,2 --full --data digits --out b
  edgeprune bench base.onnx pruned.onnx --baseline base.onnx --backends ssh --device ssh://pi@board --remote-setup --out b

MODEL is a checkpoint (.safetensors), an ONNX file or an OpenVINO IR (.xml); each backend gets the form
it runs (converted once, cached in OUT/cache). Baseline and candidates run interleaved in rounds in one
process; speedup = ratio of medians with a 95% bootstrap interval. Writes bench.json, bench.md, bench.png.
With --claim F, prints one verdict per checked row and exits 1 when any interval lower bound is below F.
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune bench``; defaults and choices come from BenchConfig and the registries.

    Each dest is the BenchConfig field (or bench() parameter) it sets, so a library error naming the
    parameter is shown with this flag.
    """
    from edgeprune.bench.backends import BUILTIN
    from edgeprune.bench.config import BenchConfig
    from edgeprune.bench.profiles import PROFILES

    defaults = BenchConfig()
    p.add_argument("models", nargs="+", metavar="MODEL", help="checkpoints, ONNX files or OpenVINO .xml files")
    p.add_argument("--baseline", metavar="MODEL", help="the unpruned model speedups are measured against")
    p.add_argument("--backends", default=",".join(defaults.backends),
                   help=f"comma-separated, of {', '.join(BUILTIN)} (default: %(default)s)")
    p.add_argument("--profile", dest="profiles", default=",".join(defaults.profiles),
                   help="; ".join(f"{n}: {prof.description}" for n, prof in PROFILES.items())
                   + "; comma-separated (default: %(default)s)")
    p.add_argument("--threads", default=None, metavar="N[,N]", help="thread counts overriding the profile's (e.g. 1,2)")
    p.add_argument("--batch", type=int, default=defaults.batch, help="batch size (default: %(default)s)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="preset", action="store_const", const="quick", help="short measurement (default)")
    g.add_argument("--full", dest="preset", action="store_const", const="full", help="longer measurement, tighter intervals")
    p.set_defaults(preset=defaults.preset)
    p.add_argument("--claim", type=float, default=None, metavar="F", help="check every row is at least F times faster")
    p.add_argument("--claim-on", default=None, metavar="B[:P],...", help="restrict the claim, e.g. ort,openvino:lowpower")
    p.add_argument("--data", default=None, metavar="NAME", help="add test-split accuracy (e.g. digits)")
    p.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-memory worker processes")
    p.add_argument("--device", default=None, metavar="URL",
                   help="board for the ssh backend: ssh://user@host[:port] (uses your SSH config and keys)")
    p.add_argument("--remote-setup", dest="remote_setup", action="store_true",
                   help="with --device: create a venv on the board and pip install the bundle's requirements")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")


def _threads(text: str | None) -> list[int] | None:
    from edgeprune.errors import ConfigError

    if not text:
        return None
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--threads expects integers like 1,2; got {text!r}") from None


def _ssh(args: argparse.Namespace):
    """SshOptions from --device and --remote-setup (None: none asked for, or not benching on ssh)."""
    import os

    from edgeprune.errors import ConfigError
    from edgeprune.runtime.device.remote import SshOptions

    if not args.remote_setup:
        return None
    device = args.device or os.environ.get("EDGEPRUNE_SSH_DEVICE")
    if not device:
        raise ConfigError("--remote-setup needs --device", hint="e.g. --device ssh://pi@board --remote-setup")
    return SshOptions.parse(device, remote_setup=True)


def run(args: argparse.Namespace) -> int:
    """Run the bench, print the table location, a summary and the claim verdicts."""
    import sys

    from edgeprune.bench import bench
    from edgeprune.bench.config import BenchConfig
    from edgeprune.bench.report import speedup_text

    config = BenchConfig.build(backends=args.backends, profiles=args.profiles, threads=_threads(args.threads),
                               batch=args.batch, preset=args.preset, claim=args.claim, claim_on=args.claim_on,
                               memory=args.memory, device=args.device, ssh=_ssh(args))
    report = bench(args.models, config, baseline=args.baseline, data=args.data, out=args.out)
    for r in report.rows:
        where = f"{r.variant:<20} {r.backend:<9} {r.profile:<9} {r.threads}t"
        if r.ok:
            mem = f"{r.peak_rss_bytes / 1e6:7.1f} MB" if r.peak_rss_bytes else "      – MB"
            print(f"✅ {where} p50 {r.p50_ms:8.3f} ms  {mem}  {speedup_text(r)}")
        else:
            print(f"❌ {where} {r.reason}")
    for c in report.claims:
        print(c.line)
    print(f"wrote {args.out}/bench.json, bench.md and bench.png")
    if not any(r.ok for r in report.rows):
        print("edgeprune bench: nothing could be measured (see the ❌ reasons above)", file=sys.stderr)
        return 1
    return 1 if report.claim_passed is False else 0
