"""onnxruntime CPU: intra-op threads set explicitly, inter-op 1, spinning recorded."""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from edgeprune.bench.backends import Artifact, Backend, Session, register_backend


@register_backend
class OrtBackend(Backend):
    """onnxruntime CPUExecutionProvider on an ONNX file."""

    name, form, in_process = "ort", "onnx", True
    description = "onnxruntime CPU execution provider (ONNX input)"
    spinning = True  # onnxruntime's default; recorded so a run without spinning is distinguishable

    def missing(self) -> str | None:
        """None when onnxruntime is importable."""
        return None if importlib.util.find_spec("onnxruntime") else "onnxruntime is not installed (pip install onnxruntime)"

    def version(self) -> str:
        """onnxruntime.__version__."""
        import onnxruntime

        return onnxruntime.__version__

    def load(self, artifact: Artifact, threads: int, batch: int) -> Session:
        """Create the session with explicit threads and a fixed random batch."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        spin = "1" if self.spinning else "0"
        opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
        t0 = time.perf_counter()
        session = ort.InferenceSession(str(artifact.path), opts, providers=["CPUExecutionProvider"])
        init_ms = (time.perf_counter() - t0) * 1e3
        name = session.get_inputs()[0].name
        x = np.random.default_rng(0).standard_normal((batch, *artifact.input_shape)).astype(np.float32)
        feed = {name: x}
        return Session(lambda: session.run(None, feed), init_ms,
                       {"intra_op_num_threads": opts.intra_op_num_threads, "inter_op_num_threads": 1,
                        "allow_spinning": spin == "1", "providers": session.get_providers()})
