"""OpenVINO CPU plugin: PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS set and read back."""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from edgeprune.bench.backends import Artifact, Backend, Session, register_backend


@register_backend
class OpenvinoBackend(Backend):
    """OpenVINO runtime on an IR (.xml/.bin)."""

    name, form, in_process = "openvino", "openvino", True
    description = "OpenVINO CPU, LATENCY hint (IR input)"
    display_name = "OpenVINO"

    def missing(self) -> str | None:
        """None when openvino is importable."""
        return None if importlib.util.find_spec("openvino") else "openvino is not installed (pip install openvino)"

    def version(self) -> str:
        """openvino's runtime version."""
        import openvino

        return openvino.__version__ if hasattr(openvino, "__version__") else openvino.get_version()

    def load(self, artifact: Artifact, threads: int, batch: int) -> Session:
        """Read, reshape to the batch, compile with explicit threads; read the settings back."""
        import openvino as ov

        from edgeprune.runtime.openvino import compile_cpu

        core = ov.Core()
        t0 = time.perf_counter()
        model = core.read_model(str(artifact.path))
        model.reshape([batch, *artifact.input_shape])
        compiled = compile_cpu(model, threads, core)
        request = compiled.create_infer_request()
        init_ms = (time.perf_counter() - t0) * 1e3
        x = np.random.default_rng(0).standard_normal((batch, *artifact.input_shape)).astype(np.float32)
        info = {"performance_hint": str(compiled.get_property("PERFORMANCE_HINT")),
                "inference_num_threads": int(compiled.get_property("INFERENCE_NUM_THREADS")),
                "num_streams": str(compiled.get_property("NUM_STREAMS")),
                "inference_precision": str(compiled.get_property("INFERENCE_PRECISION_HINT"))}
        return Session(lambda: request.infer([x]), init_ms, info)
