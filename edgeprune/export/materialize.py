"""``materialize(model, form, cache_dir)``: the one way a checkpoint or ONNX file becomes the file a runtime reads.

The bench and both deploy targets ask here instead of converting on their own: what they measure
and ship is the export folder's parity-checked file when the checkpoint has one, otherwise an
export made once into the cache, checked the same way (a checkpoint goes through :func:`export`,
parity on a random batch against PyTorch; an ONNX file's IR is checked against onnxruntime).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from edgeprune.errors import ConfigError, ExportError
from edgeprune.export.result import ExportResult

SUFFIX_FORMS = {".safetensors": "checkpoint", ".onnx": "onnx", ".xml": "openvino"}
FORMS = ("onnx", "openvino", "int8")
EXPORT_FOLDER = "export"  # a checkpoint's export, by default: the folder ``export`` beside it


def form_of(path: str | os.PathLike[str]) -> str | None:
    """What a model file is by its suffix: checkpoint, onnx, openvino (None: unknown)."""
    return SUFFIX_FORMS.get(Path(path).suffix.lower())


def materialize(model_path: str | os.PathLike[str], form: str, cache_dir: str | os.PathLike[str], *,
                export_dir: str | os.PathLike[str] | None = None, sha256: str | None = None) -> Path:
    """The file of ``form`` (``onnx``, ``openvino``: the .xml; ``int8``) for the checkpoint or ONNX ``model_path``.

    A file already in ``form`` is returned as it is. A checkpoint's file comes from ``export_dir``
    (default: ``export/`` beside the checkpoint) when that export was made from this very checkpoint
    and verified the file; otherwise it is exported once into ``cache_dir/<stem>-<sha12>/``.
    ``sha256`` is the model file's, when the caller knows it already. Raises ExportError when a
    conversion fails or does not match its source.
    """
    from edgeprune.fileio import sha256_file

    model_path = Path(model_path)
    if form not in FORMS:
        raise ConfigError(f"form {form!r} is not one of {', '.join(FORMS)}", params=("form",))
    have = form_of(model_path)
    if have == form or (form == "int8" and have == "onnx" and "int8" in model_path.name.lower()):
        return model_path
    if have not in ("checkpoint", "onnx") or (have == "onnx" and form != "openvino"):
        raise ExportError(f"cannot make {form} from {have or 'an unknown format'} ({model_path.name})")
    sha256 = sha256 or sha256_file(model_path)
    if have == "checkpoint":
        found = _verified(Path(export_dir) if export_dir else model_path.parent / EXPORT_FOLDER, form, sha256)
        if found is not None:
            return found
        if form == "int8":
            raise ExportError(f"no verified INT8 export of {model_path.name}",
                              hint="export it with int8 and data (calibration needs real images)")
    folder = Path(cache_dir) / f"{model_path.name.split('.')[0]}-{sha256[:12]}"
    if have == "checkpoint":
        return _cached_export(model_path, form, folder, sha256)
    return _cached_ir(model_path, folder)


def _verified(folder: Path, form: str, sha256: str) -> Path | None:
    """The file of ``form`` that the export in ``folder`` made from the checkpoint ``sha256`` and verified."""
    result = ExportResult.read(folder)
    if result is None or result.source_sha256 != sha256:
        return None
    entry = result.verified().get(form)
    return folder / entry.path if entry is not None else None


def _cached_export(ckpt: Path, form: str, folder: Path, sha256: str) -> Path:
    """The file of ``form`` for ``ckpt`` from ``folder``: its ONNX exported there once (parity-checked against
    PyTorch), the IR converted from that ONNX file when asked for (checked against onnxruntime).

    An ONNX request never needs OpenVINO, and an IR request never replaces the ONNX file handed out before.
    """
    onnx = _verified(folder, "onnx", sha256)
    if onnx is None:
        from edgeprune.export.exporter import export

        _mkdir(folder.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            result = export(ckpt, tmp, formats=("onnx",))
            shutil.rmtree(folder, ignore_errors=True)
            tmp.replace(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        onnx = folder / result.verified()["onnx"].path
    return onnx if form == "onnx" else _cached_ir(onnx, folder)


def _cached_ir(onnx_path: Path, folder: Path) -> Path:
    """The OpenVINO IR of an ONNX file, converted once into ``folder`` and checked against onnxruntime."""
    xml = folder / "openvino" / "model.xml"
    if xml.is_file() and xml.with_suffix(".bin").is_file():
        return xml
    from edgeprune.export.openvino import to_openvino

    tmp = Path(tempfile.mkdtemp(prefix=".openvino-", dir=_mkdir(folder)))
    try:
        made = to_openvino(onnx_path, tmp / "model.xml")
        _check_ir(onnx_path, made)
        _mkdir(xml.parent)
        made.with_suffix(".bin").replace(xml.with_suffix(".bin"))
        made.replace(xml)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return xml


def _mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_ir(onnx_path: Path, xml: Path) -> None:
    """OpenVINO on the IR agrees with onnxruntime on the ONNX file, on a random batch: within the FP32 tolerance,
    or for a quantized (QDQ) file by the INT8 rule of export's parity (top-1 agreement: INT8 kernels differ)."""
    import numpy as np

    from edgeprune.export.parity import FP32_TOLERANCE, INT8_MIN_AGREEMENT
    from edgeprune.export.runtime import runner_for
    from edgeprune.runtime.onnxfile import dims, load_header

    proto = load_header(onnx_path)
    inits = {i.name for i in proto.graph.initializer}
    first = next(i for i in proto.graph.input if i.name not in inits)
    quantized = any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in proto.graph.node)
    shape = [d or 1 for d in dims(first)]
    x = np.random.default_rng(0).standard_normal([64 if quantized else 4, *shape[1:]]).astype(np.float32)
    ref, got = runner_for("ort", onnx_path)(x), runner_for("openvino", xml)(x)
    if quantized:
        agree = float(np.mean(ref.argmax(-1) == got.argmax(-1)))
        if agree < INT8_MIN_AGREEMENT:
            raise ExportError(f"the OpenVINO IR of {onnx_path.name} agrees with onnxruntime on {agree:.0%} of top-1 "
                              f"labels, below {INT8_MIN_AGREEMENT:.0%}")
        return
    rel = float(np.abs(ref - got).max() / max(float(np.abs(ref).max()), 1e-12))
    if not rel <= FP32_TOLERANCE:
        raise ExportError(f"the OpenVINO IR of {onnx_path.name} disagrees with onnxruntime: relative diff {rel:.2e} "
                          f"> {FP32_TOLERANCE:.0e}")
