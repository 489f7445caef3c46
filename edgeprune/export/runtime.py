"""Run exported files: ONNX Runtime and OpenVINO behind one callable, numpy in, logits out.

The sessions themselves are configured in :mod:`edgeprune.runtime` (shared with bench and the
device runner); this module picks one by backend name.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from edgeprune.runtime.openvino import openvino_cpu_config, openvino_runner
from edgeprune.runtime.ort import ort_runner

__all__ = ["Runner", "openvino_cpu_config", "openvino_runner", "ort_runner", "runner_for"]

Runner = Callable[[np.ndarray], np.ndarray]


def runner_for(backend: str, path: str | os.PathLike[str], threads: int = 1) -> Runner:
    """The runner of a backend by name: "ort" or "openvino"."""
    return {"ort": ort_runner, "openvino": openvino_runner}[backend](path, threads)
