"""Test-split accuracy of a model as each backend runs it (a pruned model's cost is also its accuracy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeprune.bench.backends import Artifact

__all__ = ["accuracy_of", "test_arrays"]


def test_arrays(data: Any, input_shape: tuple[int, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    """The test split as float32 inputs and int labels; ``data`` is a DataBundle or a dataset name."""
    import torch

    if isinstance(data, str):
        from edgeprune.data import load_data

        kw = {"input_size": input_shape[1], "channels": input_shape[0]} if input_shape else {}
        data = load_data(data, **kw)
    xs, ys = zip(*[(x, y) for x, y in data.loader("test", 256, shuffle=False)], strict=True)
    return torch.cat(xs).numpy().astype(np.float32), torch.cat(ys).numpy()


def accuracy_of(backend: str, artifact: Artifact, xs: np.ndarray, ys: np.ndarray, threads: int = 1) -> float:
    """Top-1 accuracy of ``artifact`` run by ``backend`` (torch, ort or openvino)."""
    if backend == "torch":
        import torch

        from edgeprune.models import load_checkpoint

        model = load_checkpoint(artifact.path).eval()

        def run(x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()
    else:
        from edgeprune.export.runtime import runner_for

        run = runner_for(backend, artifact.path, threads)
    correct = sum(int((np.asarray(run(xs[i:i + 256])).argmax(1) == ys[i:i + 256]).sum()) for i in range(0, len(xs), 256))
    return correct / max(1, len(ys))
