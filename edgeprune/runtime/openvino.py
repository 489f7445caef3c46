"""OpenVINO CPU: the compile settings every caller uses (FP32 pinned) and a runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def openvino_cpu_config(threads: int) -> dict[str, object]:
    """OpenVINO CPU settings: explicit threads, latency hint, and FP32 arithmetic.

    Without the precision hint OpenVINO computes in bf16 on CPUs with AMX or AVX512-BF16, which
    breaks FP32 parity and would credit a precision change to pruning.
    """
    return {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def compile_cpu(model: Any, threads: int = 1, core: Any = None) -> Any:
    """Compile an OpenVINO model (or a path to an IR/ONNX file) for the CPU with :func:`openvino_cpu_config`."""
    import openvino as ov

    core = core or ov.Core()
    if isinstance(model, (str, os.PathLike)):
        model = str(Path(model))
    return core.compile_model(model, "CPU", openvino_cpu_config(threads))


def openvino_runner(path: str | os.PathLike[str], threads: int = 1) -> Callable[[np.ndarray], np.ndarray]:
    """An OpenVINO CPU compiled model on an IR or ONNX file as a function of a float32 batch."""
    request = compile_cpu(path, threads).create_infer_request()
    return lambda x: np.array(request.infer([np.ascontiguousarray(x, dtype=np.float32)])[0])
