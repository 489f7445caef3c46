"""edgeprune info: params, MACs, per-layer widths and file size of a checkpoint or ONNX file."""

from __future__ import annotations

import argparse

HELP = "show params, MACs, per-layer widths and file size of a checkpoint or ONNX model"
EXAMPLES = """examples:
  edgeprune info runs/a/model.safetensors
  edgeprune info runs/a/export/model.onnx --json
"""


def configure(p: argparse.ArgumentParser) -> None:
    """Arguments of ``edgeprune info``."""
    p.add_argument("model", metavar="CKPT|ONNX", help="an edgeprune checkpoint (.safetensors) or an ONNX file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    """Print the model's complexity."""
    import json
    from pathlib import Path

    from edgeprune.errors import CheckpointError, ExportError

    path = Path(args.model)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"{path} is a directory, not a checkpoint or ONNX file",
                              hint="pass the model.safetensors or model.onnx inside it")
    if path.suffix == ".onnx":
        from edgeprune.export.info import onnx_info

        try:
            info = onnx_info(path)
        except ExportError as e:  # an unreadable input file is the user's to fix, not a failed export
            raise CheckpointError(e.message, e.hint) from e
    else:
        from edgeprune.models.info import model_info

        info = model_info(path).to_dict()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    size = f"{info['file_bytes']:,} bytes" if info.get("file_bytes") is not None else "n/a"
    console.print(f"[bold]{info['name']}[/bold]  input {tuple(info['input_shape'])}  classes {info['classes']}")
    console.print(f"params {info['params']:,}   MACs {info['macs']:,}   file {size}")
    table = Table("layer", "kind", "in", "out")
    for row in info["layers"]:
        table.add_row(row["name"], row["kind"], str(row["inputs"]), str(row["outputs"]))
    console.print(table)
    return 0
