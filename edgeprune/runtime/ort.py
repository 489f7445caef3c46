"""onnxruntime CPU sessions, configured in one place: the bench, parity checks and the device runner share them.

Shipped verbatim in the device bundle: standard library and onnxruntime (imported when a session
is made) only, Python 3.9+.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Union

PROVIDERS = ["CPUExecutionProvider"]
SPINNING = True  # onnxruntime's default, stated so that a run without spinning is distinguishable

PathLike = Union[str, "os.PathLike[str]"]


def session_options(threads: int = 1, spinning: bool = SPINNING) -> Any:
    """SessionOptions: ``threads`` intra-op threads, one inter-op thread, sequential, errors-only logs."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return opts


def ort_session(path: PathLike, threads: int = 1, spinning: bool = SPINNING) -> Any:
    """An InferenceSession on the CPU execution provider with :func:`session_options`."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), session_options(threads, spinning), providers=PROVIDERS)


def ort_runner(path: PathLike, threads: int = 1) -> Callable[[Any], Any]:
    """A session on ``path`` as a function of a float32 batch (numpy in, first output out)."""
    import numpy as np

    session = ort_session(path, threads)
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})[0]
