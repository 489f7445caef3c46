"""What an export verified: the files of ``export.json`` that passed parity, for the stages that measure and ship them."""

from __future__ import annotations

import os
from pathlib import Path

from edgeprune.export.result import ONNX_PREFERENCE, ExportResult

__all__ = ["MANIFEST", "ONNX_PREFERENCE", "verified_files"]

MANIFEST = "export.json"
FP32_FORMS = ("onnx", "openvino")


def verified_files(folder: str | os.PathLike[str], source_sha256: str | None = None) -> dict[str, dict]:
    """form (``onnx``, ``openvino``) -> the FP32 file entry of ``folder/export.json`` that passed parity.

    Each entry has ``path`` (absolute), ``sha256`` and ``bytes`` as the export recorded them. With
    ``source_sha256``, an export made from another checkpoint (a stale folder) yields nothing.
    """
    folder = Path(folder)
    result = ExportResult.read(folder)
    if result is None or (source_sha256 is not None and result.source_sha256 != source_sha256):
        return {}
    return {form: {**f.to_dict(), "path": str(folder / f.path)}
            for form, f in result.verified().items() if form in FP32_FORMS}
