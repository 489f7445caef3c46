"""MODEL inputs: what a path is (checkpoint, ONNX, OpenVINO IR) and its conversion to the form a backend runs.

Conversions are export's :func:`~edgeprune.export.materialize.materialize`, cached in
``OUT/cache/<stem>-<sha12>/`` keyed by the source file's sha256.
Problems are :class:`InputProblem`, never a crash: a MODEL that :func:`inspect_model` cannot read
refuses the whole bench before timing; a conversion one backend cannot make becomes a ❌ row.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from edgeprune.bench.backends import Artifact
from edgeprune.errors import first_line
from edgeprune.export.materialize import form_of

__all__ = ["InputProblem", "Source", "artifact_for", "inspect_model"]

class InputProblem(Exception):
    """A MODEL that cannot be measured in some form; the message is the row's reason."""


@dataclasses.dataclass
class Source:
    """One MODEL as given: path, format, input shape, params, MACs, label."""

    path: Path
    label: str
    format: str | None = None
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int | None, ...] | None = None  # of the first output, after the batch axis
    outputs: int | None = None  # how many outputs the graph has
    labels: list[str] | None = None  # class names the file carries (an edgeprune spec), else None
    params: int | None = None
    macs: int | None = None
    sha256: str | None = None
    problem: str | None = None
    precision: str = "fp32"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    verified: dict[str, Path] = dataclasses.field(default_factory=dict)  # form -> the export's parity-checked file


def label_for(path: Path) -> str:
    """A short display name: the file stem, or ``folder/stem`` for generic names (model.onnx, model.int8.onnx)."""
    stem = path.stem
    return f"{path.parent.name}/{stem}" if stem.split(".")[0] == "model" and path.parent.name else stem


def inspect_model(path: str | os.PathLike[str]) -> Source:
    """Identify a MODEL; a missing, unknown or broken file gives a Source with ``problem`` set."""
    from edgeprune.fileio import sha256_file

    path = Path(path)
    src = Source(path=path, label=label_for(path))
    src.format = form_of(path)
    src.precision = "int8" if "int8" in path.name.lower() else "fp32"
    if not path.is_file():
        src.problem = "file not found"
        return src
    if src.format is None:
        src.problem = f"unknown model format {path.suffix!r} (expected .safetensors, .onnx or OpenVINO .xml)"
        return src
    try:
        src.sha256 = sha256_file(path)
        {"checkpoint": _inspect_checkpoint, "onnx": _inspect_onnx, "openvino": _inspect_ir}[src.format](src)
    except InputProblem as e:
        src.problem = str(e)
    return src


def _inspect_checkpoint(src: Source) -> None:
    from edgeprune.errors import EdgepruneError
    from edgeprune.models import count_macs, count_params, load_checkpoint, spec_of

    try:
        model = load_checkpoint(src.path)
    except EdgepruneError as e:
        raise InputProblem(f"not a usable checkpoint: {e.message}") from e
    except Exception as e:
        raise InputProblem(f"not a usable checkpoint: {type(e).__name__}: {e}") from e
    spec = spec_of(model)
    src.input_shape = tuple(spec.input_shape)
    src.labels = list(spec.labels) or None
    src.output_shape, src.outputs = ((len(spec.labels),) if spec.labels else None), 1
    src.params = count_params(model)
    src.macs = count_macs(model, src.input_shape)


def _inspect_onnx(src: Source) -> None:
    try:
        import onnx

        proto = onnx.load(str(src.path), load_external_data=False)
        onnx.checker.check_model(proto)
    except Exception as e:
        raise InputProblem(f"not a valid ONNX model: {first_line(e, 200)}") from e
    if not proto.graph.input:
        raise InputProblem("ONNX model has no inputs")
    inits = {i.name for i in proto.graph.initializer}
    first = next((i for i in proto.graph.input if i.name not in inits), proto.graph.input[0])
    dims = [d.dim_value if d.HasField("dim_value") else None for d in first.type.tensor_type.shape.dim]
    if len(dims) < 2 or any(d is None for d in dims[1:]):
        raise InputProblem(f"ONNX input {first.name!r} has shape {dims}: need fixed (C, H, W) after the batch axis")
    src.input_shape = tuple(int(d) for d in dims[1:])
    outs = [[d.dim_value if d.HasField("dim_value") else None for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output]
    src.outputs = len(outs)
    src.output_shape = tuple(outs[0][1:]) if outs and outs[0] else None
    src.labels = _onnx_labels(proto)
    try:
        from edgeprune.export.info import onnx_info

        info = onnx_info(src.path)
        src.params, src.macs = info.get("params"), info.get("macs")
    except Exception:  # complexity is a nice-to-have for a foreign ONNX file
        pass


def _onnx_labels(proto: Any) -> list[str] | None:
    """The class labels an edgeprune export stored in the ONNX metadata (None for a foreign file)."""
    import json

    text = next((p.value for p in proto.metadata_props if p.key == "labels"), None)
    try:
        labels = json.loads(text) if text else None
    except ValueError:
        return None
    return [str(lab) for lab in labels] if isinstance(labels, list) and labels else None


def _inspect_ir(src: Source) -> None:
    try:
        import openvino as ov

        model = ov.Core().read_model(str(src.path))
        shape = model.inputs[0].get_partial_shape()
        dims = [d.get_length() if d.is_static else None for d in shape]
        out_dims = [d.get_length() if d.is_static else None for d in model.outputs[0].get_partial_shape()]
        src.outputs, src.output_shape = len(model.outputs), tuple(out_dims[1:]) or None
    except Exception as e:
        raise InputProblem(f"not a readable OpenVINO IR: {first_line(e, 200)}") from e
    if len(dims) < 2 or any(d is None for d in dims[1:]):
        raise InputProblem(f"OpenVINO input shape {dims}: need fixed (C, H, W) after the batch axis")
    src.input_shape = tuple(int(d) for d in dims[1:])


def artifact_for(src: Source, form: str, cache: Path) -> Artifact:
    """``src`` in ``form`` (checkpoint, onnx, openvino), converted by export's ``materialize`` once; InputProblem if impossible."""
    if src.problem:
        raise InputProblem(src.problem)
    if form == src.format:
        return Artifact(src.label, src.path, form, src.input_shape, source=src.path)
    if form in src.verified:  # what export produced and checked: the file a user ships
        return Artifact(src.label, src.verified[form], form, src.input_shape, source=src.path)
    if form == "checkpoint":
        raise InputProblem(f"torch needs an edgeprune checkpoint (.safetensors); {src.path.name} is {src.format}")
    if form not in ("onnx", "openvino"):
        raise InputProblem(f"unknown artifact form {form!r}")
    if form == "onnx" and src.format != "checkpoint":
        raise InputProblem(f"cannot make ONNX from {src.format} ({src.path.name})")
    from edgeprune.errors import EdgepruneError
    from edgeprune.export.materialize import materialize

    try:
        path = materialize(src.path, form, cache, sha256=src.sha256)
    except EdgepruneError as e:
        raise InputProblem(f"{'ONNX export' if form == 'onnx' else 'OpenVINO conversion'} failed: {e.message}") from e
    return Artifact(src.label, path, form, src.input_shape, source=src.path)


def artifact_bytes(artifact: Artifact) -> int:
    """Bytes on disk of what the backend runs (ONNX + external data, IR .xml + .bin, checkpoint)."""
    p = artifact.path
    files = [p]
    if artifact.form == "openvino":
        files.append(p.with_suffix(".bin"))
    elif artifact.form == "onnx":
        files += list(p.parent.glob(p.name + ".data"))
    return sum(f.stat().st_size for f in files if f.exists())
