"""edgeprune export: ONNX (simplified), OpenVINO IR, INT8, each checked against PyTorch."""

from __future__ import annotations

import argparse

from edgeprune.commands.common import add_data_args, check_out

HELP = "export a checkpoint to ONNX / OpenVINO IR (optionally INT8) and check parity with PyTorch"
EXAMPLES = """examples:
  edgeprune export runs/a/model.safetensors --out runs/a/export
  edgeprune export runs/a-obd/model.safetensors --to onnx,openvino --int8 --out runs/a-obd/export
  edgeprune export runs/a/model.safetensors --to onnx --no-data --opset 18 --out runs/a/onnx18

writes model.onnx, model.sim.onnx, openvino/model.xml|bin, model.int8.onnx (--int8), export.json and
export.md; exits 3 with the figures when PyTorch and a runtime disagree (files renamed *.parity-failed.*).
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune export``: defaults and choices from ExportConfig and the FORMATS registry."""
    from edgeprune.export.config import DEFAULT_FORMATS, DEFAULT_OPSET, FORMATS

    p.add_argument("checkpoint", metavar="CKPT", help="an edgeprune checkpoint (.safetensors)")
    p.add_argument("--to", dest="formats", default=",".join(DEFAULT_FORMATS), metavar="FORMATS",
                   help=f"comma-separated: {', '.join(FORMATS)} (default: %(default)s)")
    p.add_argument("--int8", action="store_true", help="also write model.int8.onnx (static QDQ, per-channel)")
    p.add_argument("--fp16", action="store_true",
                   help="compress OpenVINO IR weights to FP16 (halves the file; not a pruning gain)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (default: %(default)s)")
    p.add_argument("--no-data", action="store_true",
                   help="check parity on random inputs only (no dataset; incompatible with --int8)")
    add_data_args(p, default="digits")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")


def run(args: argparse.Namespace) -> int:
    """Export, print where the files are and the parity/accuracy figures."""
    from edgeprune.accuracy import interval_text
    from edgeprune.commands.common import load_data_from_args
    from edgeprune.errors import ConfigError
    from edgeprune.export import export
    from edgeprune.export.config import ExportConfig
    from edgeprune.models import read_header

    check_out(args.out)  # every option is checked before the data loads and the export starts
    config = ExportConfig(formats=args.formats, int8=args.int8, fp16=args.fp16, opset=args.opset)
    if args.no_data and args.int8:
        raise ConfigError("--int8 needs data for calibration", hint="drop --no-data")
    spec, _ = read_header(args.checkpoint)  # a missing or corrupted checkpoint fails here, before data loads
    channels, size = spec.input_shape[0], spec.input_shape[1]
    if args.channels is not None and args.channels != channels:
        raise ConfigError(f"--channels {args.channels}: the model takes {channels} channel(s) "
                          f"(input shape {tuple(spec.input_shape)})", hint="drop --channels")
    shape = (channels, args.input_size or size, args.input_size or size)
    data = None if args.no_data else load_data_from_args(args, input_size=shape[1], channels=shape[0])
    if shape != tuple(spec.input_shape):
        config = ExportConfig.of(config, input_shape=shape)
    result = export(args.checkpoint, args.out, config, data=data)
    for f in result.files:
        print(f"{f.path:<24} {f.precision:<5} {f.bytes:>12,} bytes")
    checked = [r for r in result.parity if r["tolerance"] is not None or r.get("min_agreement") is not None]
    for precision in dict.fromkeys(r["precision"] for r in checked):
        rows = [r for r in checked if r["precision"] == precision]
        worst = max(rows, key=lambda r: r["rel_diff"])
        rule = (f"tolerance {worst['tolerance']:.0e}" if worst["tolerance"] is not None
                else f"needs top-1 agreement >= {worst['min_agreement']:.0%}")
        print(f"parity ok ({precision}): worst relative diff {worst['rel_diff']:.1e} ({rule}), "
              f"top-1 agreement {min(r['top1_agreement'] for r in rows):.0%}")
    acc = result.accuracy
    if acc:
        line = f"test accuracy fp32 {interval_text(acc['ort_fp32'], acc['n'])}"
        if "ort_int8" in acc:
            line += f", int8 {interval_text(acc['ort_int8'], acc['n'])} ({acc['int8_minus_fp32_points']:+.2f} points)"
        line += " (95% Wilson)"
        print(line)
    print(f"wrote {args.out}/export.json and export.md")
    return 0
