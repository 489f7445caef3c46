"""Run exported files: ONNX Runtime and OpenVINO behind one callable, numpy in, logits out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

Runner = Callable[[np.ndarray], np.ndarray]


def ort_runner(path: str | os.PathLike[str], threads: int = 1) -> Runner:
    """An onnxruntime CPU session on ``path`` as a function of a float32 batch."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def openvino_cpu_config(threads: int) -> dict[str, object]:
    """OpenVINO CPU settings: explicit threads, latency hint, and FP32 arithmetic.

    Without the precision hint OpenVINO computes in bf16 on CPUs with AMX or AVX512-BF16, which
    breaks FP32 parity and would credit a precision change to pruning.
    """
    return {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}


def openvino_runner(path: str | os.PathLike[str], threads: int = 1) -> Runner:
    """An OpenVINO CPU compiled model on an IR or ONNX file as a function of a float32 batch."""
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(str(Path(path)), "CPU", openvino_cpu_config(threads))
    request = compiled.create_infer_request()
    return lambda x: np.array(request.infer([np.ascontiguousarray(x, dtype=np.float32)])[0])


def runner_for(backend: str, path: str | os.PathLike[str], threads: int = 1) -> Runner:
    """The runner of a backend by name: "ort" or "openvino"."""
    return {"ort": ort_runner, "openvino": openvino_runner}[backend](path, threads)

