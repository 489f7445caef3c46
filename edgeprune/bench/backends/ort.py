"""onnxruntime CPU: intra-op threads set explicitly, inter-op 1, spinning recorded."""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from edgeprune.bench.backends import Artifact, Backend, Session, register_backend
from edgeprune.runtime.ort import SPINNING


@register_backend
class OrtBackend(Backend):
    """onnxruntime CPUExecutionProvider on an ONNX file."""

    name, form, in_process = "ort", "onnx", True
    description = "onnxruntime CPU execution provider (ONNX input)"
    display_name = "onnxruntime"
    spinning = SPINNING  # onnxruntime's default; recorded so a run without spinning is distinguishable

    def missing(self) -> str | None:
        """None when onnxruntime is importable."""
        return None if importlib.util.find_spec("onnxruntime") else "onnxruntime is not installed (pip install onnxruntime)"

    def version(self) -> str:
        """onnxruntime.__version__."""
        import onnxruntime

        return onnxruntime.__version__

    def load(self, artifact: Artifact, threads: int, batch: int) -> Session:
        """Create the session with explicit threads and a fixed random batch."""
        from edgeprune.runtime.ort import ort_session

        t0 = time.perf_counter()
        session = ort_session(artifact.path, threads, self.spinning)
        init_ms = (time.perf_counter() - t0) * 1e3
        name = session.get_inputs()[0].name
        x = np.random.default_rng(0).standard_normal((batch, *artifact.input_shape)).astype(np.float32)
        feed = {name: x}
        return Session(lambda: session.run(None, feed), init_ms,
                       {"intra_op_num_threads": threads, "inter_op_num_threads": 1,
                        "allow_spinning": bool(self.spinning), "providers": session.get_providers()})
