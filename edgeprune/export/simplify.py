"""Simplify an ONNX graph with onnxsim (checked), else onnxslim, else keep it as is; always onnx.checker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from edgeprune.errors import ExportError, first_line
from edgeprune.ui import log


def simplify_onnx(src: str | os.PathLike[str], dst: str | os.PathLike[str], check_n: int = 3) -> dict[str, Any]:
    """Write a simplified copy of ``src`` to ``dst``; return which tool ran, node counts and any warning."""
    import onnx

    from edgeprune.export.onnx import save_onnx

    src, dst = Path(src), Path(dst)
    model = onnx.load(str(src))
    before = len(model.graph.node)
    tool, simplified, warning = None, None, None
    errors = []
    for name, fn in (("onnxsim", _onnxsim), ("onnxslim", _onnxslim)):
        try:
            simplified = fn(model, check_n)
            tool = name
            break
        except ImportError:
            errors.append(f"{name} not installed")
        except Exception as e:  # both tools raise assorted errors on graphs they cannot handle
            errors.append(f"{name}: {first_line(e)}")
    if simplified is None:
        warning = "graph left unsimplified (" + "; ".join(errors) + ")"
        log(f"[yellow]warning:[/yellow] {warning}")
        shutil.copyfile(src, dst)
    else:
        del simplified.metadata_props[:]
        simplified.metadata_props.extend(model.metadata_props)
        simplified.doc_string = model.doc_string
        save_onnx(simplified, dst)
    check_onnx(dst)
    after = len(onnx.load(str(dst), load_external_data=False).graph.node)
    return {"tool": tool, "nodes_before": before, "nodes_after": after, "warning": warning}


def check_onnx(path: str | os.PathLike[str]) -> None:
    """Run onnx.checker (full check, by path so that files over 2 GB work); ExportError if it fails."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:
        raise ExportError(f"{path} fails onnx.checker: {first_line(e)}") from e


def _onnxsim(model, check_n: int):
    import onnxsim

    from edgeprune.export.onnx import quiet_native_output

    with quiet_native_output(replay=False):  # onnxsim prints "Checking 0/3..." from C++
        simplified, ok = onnxsim.simplify(model, check_n=check_n)
    if not ok:
        raise RuntimeError(f"onnxsim's check on {check_n} random inputs failed")
    return simplified


def _onnxslim(model, _check_n: int):
    import onnxslim

    return onnxslim.slim(model)
