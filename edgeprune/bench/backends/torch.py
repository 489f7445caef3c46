"""PyTorch eager on the CPU: loads an edgeprune checkpoint, ``torch.set_num_threads`` set explicitly."""

from __future__ import annotations

import importlib.util
import time

from edgeprune.bench.backends import Artifact, Backend, Session, register_backend


@register_backend
class TorchBackend(Backend):
    """Eager PyTorch (inference_mode), intra-op threads set explicitly."""

    name, form, in_process = "torch", "checkpoint", True
    description = "PyTorch eager on the CPU (checkpoint input)"
    display_name = "PyTorch"

    def missing(self) -> str | None:
        """None when torch is importable."""
        return None if importlib.util.find_spec("torch") else "torch is not installed"

    def version(self) -> str:
        """torch.__version__."""
        import torch

        return torch.__version__

    def load(self, artifact: Artifact, threads: int, batch: int) -> Session:
        """Load the checkpoint and prepare one fixed random batch."""
        import torch

        from edgeprune.models import load_checkpoint

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        model = load_checkpoint(artifact.path).eval()
        init_ms = (time.perf_counter() - t0) * 1e3
        x = torch.randn(batch, *artifact.input_shape, generator=torch.Generator().manual_seed(0))

        def run():
            if torch.get_num_threads() != threads:  # another session in this process may have changed it
                torch.set_num_threads(threads)
            with torch.inference_mode():
                return model(x)

        return Session(run, init_ms, {"threads": threads, "threads_read_back": torch.get_num_threads()},
                       close=lambda: torch.set_num_threads(previous))
