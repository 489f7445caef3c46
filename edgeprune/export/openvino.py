"""ONNX -> OpenVINO IR (.xml + .bin) with the openvino Python API; FP32 unless asked for FP16 weights."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from edgeprune.errors import ExportError, first_line


def to_openvino(onnx_path: str | os.PathLike[str], xml_path: str | os.PathLike[str], fp16: bool = False) -> Path:
    """Convert an ONNX file to IR at ``xml_path`` (+ ``.bin``).

    OpenVINO's ``save_model`` compresses weights to FP16 by default, halving the file: here FP32 is the
    default so that size tables compare like with like; ``fp16=True`` asks for the compression.
    """
    import openvino as ov

    xml_path = Path(xml_path)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        model = ov.convert_model(str(onnx_path))
    except Exception as e:
        raise ExportError(f"OpenVINO cannot convert {onnx_path}: {first_line(e)}") from e
    from edgeprune.export.onnx import read_metadata

    for key, value in read_metadata(onnx_path).items():
        model.set_rt_info(value, ["edgeprune", key.replace(".", "_")])
    with tempfile.TemporaryDirectory(dir=xml_path.parent) as tmp:  # write both files, then move them in
        tmp_xml = Path(tmp) / xml_path.name
        ov.save_model(model, str(tmp_xml), compress_to_fp16=fp16)
        shutil.move(tmp_xml.with_suffix(".bin"), xml_path.with_suffix(".bin"))
        shutil.move(tmp_xml, xml_path)
    return xml_path


def ir_files(xml_path: str | os.PathLike[str]) -> list[Path]:
    """The .xml and .bin of an IR (what size figures must count)."""
    xml_path = Path(xml_path)
    return [xml_path, xml_path.with_suffix(".bin")]
