"""``onnx_info``: the keys of ``ModelInfo.to_dict()`` (``edgeprune.models.info``), read from an ONNX graph alone.

MACs come from Conv / Gemm / MatMul nodes after shape inference at batch 1 (output elements times
the reduction length), the same count as ``edgeprune.models.count_macs``. Params count the float
initializers feeding those nodes: BatchNorm is folded into the convolutions on export, so a BN
model shows fewer params than in PyTorch (its BN scale and shift are gone).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from edgeprune.errors import ExportError

_KINDS = {"Conv": "Conv2d", "Gemm": "Linear", "MatMul": "Linear"}


def onnx_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Name, input shape, classes, params, MACs, file bytes, layers and provenance of an ONNX file."""
    import onnx
    from onnx import numpy_helper

    from edgeprune.export.onnx import onnx_files, read_spec

    path = Path(path)
    spec = read_spec(path)
    try:
        model = onnx.load(str(path))
    except Exception as e:
        raise ExportError(f"{path} is not a readable ONNX file ({e})") from e
    if not model.graph.node or not model.graph.input or not model.graph.output:
        raise ExportError(f"{path} holds no ONNX graph ({path.stat().st_size} bytes: empty or not an ONNX model)",
                          hint="export the checkpoint again with edgeprune export")
    shapes = _batch1_shapes(model)
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:  # shared initializers (Identity) and INT8 weights (DequantizeLinear)
        if node.op_type in ("Identity", "DequantizeLinear") and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    graph_in = next((i for i in model.graph.input if i.name not in inits), None)
    if graph_in is None:
        raise ExportError(f"{path}: every graph input is an initializer, so the model takes no input")
    input_shape = list(spec.input_shape) if spec else shapes.get(graph_in.name, [])[1:]
    macs = params = 0
    layers = []
    for node in model.graph.node:
        if node.op_type not in _KINDS:
            continue
        w = _weight(node, inits, numpy_helper)
        if w is None:
            continue
        out_shape = shapes.get(node.output[0])
        params += sum(numpy_helper.to_array(inits[n]).size for n in node.input[1:] if n in inits)
        ins, outs, k = _widths(node, w.shape)
        if out_shape:
            macs += math.prod(out_shape) * k
        layers.append({"name": module_name(node.name) or node.name, "kind": _KINDS[node.op_type],
                       "inputs": ins, "outputs": outs})
    out_shape = shapes.get(model.graph.output[0].name) or []
    return {
        "name": spec.name if spec else path.stem,
        "input_shape": [int(d) for d in input_shape],
        "classes": len(spec.labels) if spec else (int(out_shape[-1]) if out_shape else None),
        "params": int(params),
        "macs": int(macs),
        "file_bytes": sum(f.stat().st_size for f in onnx_files(path)),
        "layers": layers,
        "provenance": spec.provenance if spec else {},
    }


def module_name(node_name: str) -> str:
    """The PyTorch module path of an exported node: "/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1"."""
    parts: list[str] = []
    for seg in node_name.split("/")[1:-1]:
        if parts and seg.startswith(parts[-1] + "."):
            parts[-1] = seg
        else:
            parts.append(seg)
    return ".".join(parts)


def _weight(node, inits, numpy_helper):
    name = node.input[1] if len(node.input) > 1 else None
    return numpy_helper.to_array(inits[name]) if name in inits else None


def _widths(node, wshape) -> tuple[int, int, int]:
    """(input width, output width, reduction length per output element) of a Conv/Gemm/MatMul."""
    if node.op_type == "Conv":
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        return wshape[1] * group, wshape[0], math.prod(wshape[1:])
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        k, n = (wshape[1], wshape[0]) if trans_b else (wshape[0], wshape[1])
        return k, n, k
    return wshape[0], wshape[1], wshape[0]  # MatMul with a [K, N] weight


def _batch1_shapes(model) -> dict[str, list[int]]:
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)
    for inp in m.graph.input:
        dims = inp.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_param")
            dims[0].dim_value = 1
    inferred = onnx.shape_inference.infer_shapes(m)
    shapes = {}
    for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    return shapes
