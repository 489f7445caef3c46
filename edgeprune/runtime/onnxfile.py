"""Reading ONNX files without torch: metadata, the edgeprune spec as JSON, external-data parts, shapes.

``onnx`` is imported inside the functions; external data is never loaded to read a header.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgeprune.errors import ExportError, first_line

SPEC_KEY = "edgeprune.spec"
# what ModelSpec defaults to, for the deploy fields of a spec read as plain JSON
SPEC_DEFAULTS: dict[str, Any] = {"input_shape": [3, 32, 32], "labels": [], "mean": [0.0], "std": [1.0]}


def load_header(path: str | os.PathLike[str]) -> Any:
    """The ModelProto of ``path`` without its external data; ExportError when it is missing or unreadable."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"ONNX file {path} does not exist")
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as e:
        raise ExportError(f"{path} is not a readable ONNX file ({first_line(e)})") from e


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """All metadata_props of an ONNX file as a dict (external data is not loaded)."""
    return {p.key: p.value for p in load_header(path).metadata_props}


def read_spec_json(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The edgeprune spec of an ONNX file as a plain dict (None when it has none)."""
    text = read_metadata(path).get(SPEC_KEY)
    if text is None:
        return None
    try:
        spec = json.loads(text)
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ValueError("not an object with a name")
    except ValueError as e:
        raise ExportError(f"{path}: malformed {SPEC_KEY} metadata ({first_line(e)})") from e
    return spec


def deploy_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """What a bundle needs of a spec: name, input shape, labels, mean and std (as lists)."""
    full = {**SPEC_DEFAULTS, **spec}
    return {"name": full["name"], "input_shape": list(full["input_shape"]), "labels": list(full["labels"]),
            "mean": list(full["mean"]), "std": list(full["std"])}


def initializers(proto: Any) -> Iterator[Any]:
    """Every tensor stored in the graph: initializers and Constant nodes' values."""
    yield from proto.graph.initializer
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t


def onnx_files(path: str | os.PathLike[str]) -> list[Path]:
    """The ONNX file plus every external-data file it references (what size figures must count)."""
    import onnx
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    path = Path(path)
    proto = onnx.load(str(path), load_external_data=False)
    extra = {ExternalDataInfo(t).location for t in initializers(proto) if uses_external_data(t)}
    folder = path.parent.resolve()
    files = [path.parent / loc for loc in sorted(extra)]
    outside = [str(f) for f in files if not f.resolve().is_relative_to(folder)]
    if outside:
        raise ExportError(f"{path} points to external data outside its folder: {outside[0]}",
                          hint="external data must lie beside the .onnx file")
    return [path, *files]


def dims(value_info: Any) -> list[int | None]:
    """The shape of a graph input or output: fixed sizes as ints, symbolic ones as None."""
    return [d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim]
