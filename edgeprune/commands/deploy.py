"""edgeprune deploy: package a model for the browser or for a device."""

from __future__ import annotations

import argparse

HELP = "package a model: a static web site (onnxruntime-web) or a device bundle (onnxruntime only)"
EXAMPLES = """examples:
  edgeprune deploy web runs/digits/prune/obd/model.safetensors --out runs/web
  python runs/web/serve.py            # then open the printed http://127.0.0.1 address
  edgeprune deploy device runs/digits/export/model.onnx --target linux-aarch64 --out bundle.tar.gz
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune deploy``."""
    from edgeprune.deploy.config import CONFIGS

    p.add_argument("kind", choices=tuple(CONFIGS), help="what to build")
    p.add_argument("model", metavar="MODEL", help="checkpoint (.safetensors) or ONNX file")
    p.add_argument("--out", required=True, help="output directory (web) or .tar.gz path (device)")
    p.add_argument("--target", default=None, help="device: linux-aarch64 or linux-x86_64 (default: this machine's)")
    p.add_argument("--openvino", action="store_true", help="device: include the OpenVINO IR too")


def out_folder(args: argparse.Namespace) -> str | None:
    """The folder to lock: the web bundle's; a device bundle is one .tar.gz file written atomically."""
    from pathlib import Path

    if args.kind == "device" and Path(args.out).suffix:  # bundle.tar.gz, or a name deploy device refuses
        return None
    return args.out


def run(args: argparse.Namespace) -> int:
    """Build the bundle and print where it is."""
    from edgeprune.deploy import deploy
    from edgeprune.errors import ConfigError

    options = {}
    if args.kind == "device":
        options = {"target": args.target, "openvino": args.openvino}
    else:
        given = [flag for flag, value in (("--target", args.target), ("--openvino", args.openvino)) if value]
        if given:
            raise ConfigError(f"{given[0]} applies to `deploy device`, not `deploy web`",
                              hint="a web bundle runs in any browser; drop the option")
    result = deploy(args.model, args.out, args.kind, **options)
    print(f"{args.kind} bundle: {result.path}")
    return 0
