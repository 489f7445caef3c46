"""edgeprune env: versions, CPU model and flags, cores and quotas, for bug reports and bench headers."""

from __future__ import annotations

import argparse

HELP = "print versions, CPU model and SIMD flags, cores, affinity and cgroup quota (for bug reports)"
EXAMPLES = """examples:
  edgeprune env
  edgeprune env --json > env.json
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune env``."""
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Print the environment."""
    import json

    from edgeprune.bench.env import collect_env

    env = collect_env()
    if args.json:
        print(json.dumps(env, indent=2))
        return 0
    for key, value in env.items():
        if key == "versions":
            print(f"{'versions:':<18} " + ", ".join(f"{k} {v}" for k, v in value.items() if v))
            missing = [k for k, v in value.items() if not v]
            if missing:
                print(f"{'missing:':<18} " + ", ".join(missing))
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            print(f"{key + ':':<18} {shown if shown not in (None, '') else '–'}")
    return 0
