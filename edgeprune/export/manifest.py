"""What an export verified: the files of ``export.json`` that passed parity, for the stages that measure and ship them."""

from __future__ import annotations

import os
from pathlib import Path

from edgeprune.fileio import read_json

MANIFEST = "export.json"
ONNX_PREFERENCE = ("model.sim.onnx", "model.onnx")  # the simplified file is what OpenVINO is built from


def verified_files(folder: str | os.PathLike[str], source_sha256: str | None = None) -> dict[str, dict]:
    """form (``onnx``, ``openvino``) -> the FP32 file entry of ``folder/export.json`` that passed parity.

    Each entry has ``path`` (absolute), ``sha256`` and ``bytes`` as the export recorded them. With
    ``source_sha256``, an export made from another checkpoint (a stale folder) yields nothing.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    info = read_json(path)
    if source_sha256 is not None and (info.get("source") or {}).get("sha256") != source_sha256:
        return {}
    failed = set(info.get("parity_failed") or [])
    checked = {r["artifact"] for r in info.get("parity", []) if r.get("passed")}
    ok = {f["path"]: f for f in info.get("files", [])
          if f.get("precision") == "fp32" and not f.get("parity_failed") and f["path"] in checked - failed}
    out: dict[str, dict] = {}
    for name in ONNX_PREFERENCE:
        if name in ok:
            out["onnx"] = {**ok[name], "path": str(folder / name)}
            break
    ir = next((f for p, f in ok.items() if f.get("format") == "openvino"), None)
    if ir is not None:
        out["openvino"] = {**ir, "path": str(folder / ir["path"])}
    return out
