"""INT8: onnxruntime static quantization, QDQ format, per-channel weights, calibrated on real samples."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from edgeprune.errors import ExportError, first_line


class ArrayCalibrationReader:
    """A CalibrationDataReader over a float32 array, fed in small batches."""

    def __init__(self, xs: np.ndarray, input_name: str = "input", batch: int = 32) -> None:
        self._batches = [{input_name: np.ascontiguousarray(xs[i:i + batch], dtype=np.float32)}
                         for i in range(0, len(xs), batch)]
        self._it = iter(self._batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next calibration batch, or None when done."""
        return next(self._it, None)

    def rewind(self) -> None:
        """Start over (onnxruntime may read the data more than once)."""
        self._it = iter(self._batches)


def quantize_int8(src: str | os.PathLike[str], dst: str | os.PathLike[str], calibration: np.ndarray,
                  per_channel: bool = True, reduce_range: bool = True) -> Path:
    """Write a QDQ INT8 copy of ``src`` to ``dst`` calibrated on ``calibration`` (N, C, H, W) float32.

    ``reduce_range`` (7-bit weights) avoids the saturation of onnxruntime's U8S8 kernels on x86 CPUs
    without VNNI (AVX2 / AVX-512 ``vpmaddubsw``): on a weakly trained digits VGG it moved ORT INT8
    accuracy from 0.517 to 0.662 (FP32 0.647), where OpenVINO already gave 0.643.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgeprune.export.onnx import INPUT_NAME, save_onnx

    if len(calibration) == 0:
        raise ExportError("INT8 calibration needs at least one sample")
    src, dst = Path(src), Path(dst)
    reader = type("Reader", (ArrayCalibrationReader, CalibrationDataReader), {})(calibration, INPUT_NAME)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        pre = Path(tmp) / "pre.onnx"
        out = Path(tmp) / "int8.onnx"
        try:
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=False)
            quantize_static(str(pre), str(out), reader, quant_format=QuantFormat.QDQ, per_channel=per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            reduce_range=reduce_range)
        except Exception as e:
            raise ExportError(f"INT8 quantization of {src} failed: {first_line(e)}") from e
        model = onnx.load(str(out))
    meta = {p.key: p.value for p in onnx.load(str(src), load_external_data=False).metadata_props}
    meta["precision"] = "int8"
    del model.metadata_props[:]
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    return save_onnx(model, dst)
