"""edgeprune: prune CNNs structurally, export them, and measure what the edge gets.

The public API is re-exported lazily from :mod:`edgeprune.api` so that ``import edgeprune``
and ``edgeprune --help`` stay fast and never import onnxruntime or openvino.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = (
    "create_model",
    "list_models",
    "load_data",
    "load",
    "save",
    "fit",
    "evaluate",
    "prune",
    "export_model",
    "benchmark",
    "deploy_model",
    "model_info",
    "TrainConfig",
    "PruneConfig",
    "ExportConfig",
    "BenchConfig",
    "DeployConfig",
    "FitResult",
    "EvalResult",
    "PruneResult",
    "ExportResult",
    "BenchReport",
    "DeployResult",
    "ModelInfo",
)

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from edgeprune import api

        return getattr(api, name)
    raise AttributeError(f"module 'edgeprune' has no attribute {name!r}")
