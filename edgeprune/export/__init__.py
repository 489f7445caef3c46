"""Export: ONNX (simplified), OpenVINO IR, INT8 QDQ, each checked against PyTorch (parity).

    from edgeprune.export import export
    result = export("runs/a/model.safetensors", "runs/a/export", int8=True, data="digits")
"""

from edgeprune.export.exporter import FORMATS, export, list_formats

__all__ = ["FORMATS", "export", "list_formats"]
