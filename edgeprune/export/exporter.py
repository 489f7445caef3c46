"""``export()``: checkpoint or model -> ONNX, simplified ONNX, OpenVINO IR, INT8, parity, export.json."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from edgeprune.errors import ConfigError
from edgeprune.export.config import FORMATS, VARIANTS, ExportConfig, check_formats, check_opset, list_formats
from edgeprune.export.result import ExportFile, ExportResult
from edgeprune.fileio import sha256_file, write_json, write_text
from edgeprune.models import load_checkpoint, spec_of
from edgeprune.ui import log

__all__ = ["FORMATS", "VARIANTS", "ExportConfig", "ExportResult", "check_formats", "check_opset", "export",
           "list_formats"]

CALIBRATION_SAMPLES = 300
PARITY_SAMPLES = 64


def export(model_or_ckpt_path: nn.Module | str | os.PathLike[str], out: str | os.PathLike[str],
           config: ExportConfig | dict[str, Any] | None = None, *, data: Any = None, **options: Any) -> ExportResult:
    """Export, check parity against PyTorch, write ``export.json`` + ``export.md``; return what export.json holds.

    ``config``: an :class:`ExportConfig` (or its dict); keyword ``options`` (``formats``, ``int8``, ``fp16``,
    ``opset``, ``input_shape``) override its fields, the call form of earlier versions. ``data``: a
    DataBundle or dataset name; its test split feeds parity and accuracy, its train split INT8
    calibration. A parity failure raises ExportError after writing the figures, with the failing
    artifacts renamed ``*.parity-failed.*``.
    """
    from edgeprune.export.onnx import export_onnx
    from edgeprune.export.parity import Target, check_parity, parity_error, random_batch
    from edgeprune.export.simplify import simplify_onnx

    t0 = time.perf_counter()
    cfg = ExportConfig.of(config, **options)
    formats, int8, fp16, opset, input_shape = cfg.formats, cfg.int8, cfg.fp16, cfg.opset, cfg.input_shape
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model, source = _load(model_or_ckpt_path)
    spec = spec_of(model)
    shape = tuple(input_shape or spec.input_shape)
    bundle = _bundle(data, spec, shape)
    if int8 and bundle is None:
        raise ConfigError("int8 needs data for calibration and accuracy", hint="pass data (a dataset name)",
                          params=("int8", "data"))

    log(f"exporting {spec.name} {shape} to {out}")
    onnx_path = export_onnx(model, out / "model.onnx", opset, input_shape=input_shape,
                            source_sha256=source.get("sha256"))
    sim_path = out / "model.sim.onnx"
    simplify = simplify_onnx(onnx_path, sim_path)
    targets = [Target("model.onnx", "ort", onnx_path), Target("model.sim.onnx", "ort", sim_path)]
    if "openvino" in formats:
        from edgeprune.export.openvino import to_openvino

        xml = to_openvino(sim_path, out / "openvino" / "model.xml", fp16=fp16)
        targets.append(Target("openvino/model.xml", "openvino", xml, "fp16" if fp16 else "fp32"))
    if int8:
        from edgeprune.export.quantize import quantize_int8

        calib = bundle.sample("train", CALIBRATION_SAMPLES)[0].numpy()
        q = quantize_int8(sim_path, out / "model.int8.onnx", calib)
        targets += [Target("model.int8.onnx", "ort", q, "int8"), Target("model.int8.onnx", "openvino", q, "int8")]

    batches = {"random": random_batch(shape)}
    if bundle is not None:
        batches["test"] = bundle.sample("test", PARITY_SAMPLES)[0].numpy()
    rows = check_parity(model, targets, batches)
    accuracy = _accuracy(model, bundle, targets) if bundle is not None else None
    failed = sorted({r.artifact for r in rows if not r.passed})
    renamed = {a: _mark_failed(out, a) for a in failed}
    result = ExportResult(
        status="parity-failed" if failed else "ok",
        model=spec.name,
        input_shape=list(shape),
        opset=_written_opset(onnx_path, opset),
        source=source,
        data=getattr(bundle, "name", None),
        files=_files(out, targets, renamed),
        simplify=simplify,
        openvino_weights=("fp16 (compressed on request)" if fp16 else "fp32 (OpenVINO's save_model would "
                          "compress to fp16 by default; kept fp32 so sizes compare like with like)")
        if "openvino" in formats else None,
        parity=[r.to_dict() for r in rows],
        parity_failed=failed,
        accuracy=accuracy,
        versions=versions(),
        seconds=round(time.perf_counter() - t0, 2),
        config=cfg,
    )
    write_json(out / "export.json", result.to_dict())
    from edgeprune.export.summary import export_markdown

    write_text(out / "export.md", export_markdown(result.to_dict()))
    if failed:
        raise parity_error(rows)
    return result


def _written_opset(path: Path, asked: int) -> int:
    """The default-domain opset the file carries (the torch.export fallback writes 18 or later)."""
    from edgeprune.runtime.onnxfile import load_header

    try:
        proto = load_header(path)
        return next(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    except Exception:  # an unreadable header: what was asked
        return asked


def _load(model_or_path: nn.Module | str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    if isinstance(model_or_path, nn.Module):
        return model_or_path, {}
    path = Path(model_or_path)
    model = load_checkpoint(path)
    return model, {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def _bundle(data: Any, spec, shape: tuple[int, ...]):
    if data is None:
        return None
    if isinstance(data, str):
        from edgeprune.data import load_data

        data = load_data(data, input_size=shape[1], channels=shape[0])
    if tuple(data.input_shape) != tuple(shape):
        raise ConfigError(f"data {data.name} has input shape {tuple(data.input_shape)}, the export {tuple(shape)}",
                          hint="load the data at the model's input size and channels", params=("data",))
    if spec.labels and list(data.labels) != list(spec.labels):
        raise ConfigError(f"data {data.name} has classes {_short(data.labels)}, model {spec.name} {_short(spec.labels)}",
                          hint="pass the dataset the model was trained on as data, or none", params=("data",))
    return data


def _short(labels: Sequence[str]) -> str:
    return str(list(labels)[:4])[:-1] + (", ...]" if len(labels) > 4 else "]")


def _accuracy(model: nn.Module, bundle, targets) -> dict[str, Any]:
    """Test-split top-1 of PyTorch and of the ORT FP32 / INT8 files, batch by batch."""
    from edgeprune.export.parity import torch_logits
    from edgeprune.export.runtime import runner_for
    from edgeprune.ui import track

    runners = {"torch_fp32": lambda b: torch_logits(model, b)}
    for t in targets:
        if t.artifact in ("model.sim.onnx", "model.int8.onnx") and t.backend == "ort":
            runners[f"ort_{t.precision}"] = runner_for("ort", t.path)
    preds: dict[str, list[int]] = {k: [] for k in runners}
    labels: list[int] = []
    loader = bundle.loader("test", 256, shuffle=False)
    for x, y in track(loader, "test accuracy", total=len(loader)):
        xb = x.numpy()
        labels += y.tolist()
        for key, run in runners.items():
            preds[key] += run(xb).argmax(1).tolist()
    n = len(labels)
    truth = np.asarray(labels)
    result: dict[str, Any] = {"split": "test", "n": n,
                              **{k: float((np.asarray(p) == truth).mean()) if n else 0.0 for k, p in preds.items()},
                              "predictions": preds, "labels": labels}
    if "ort_int8" in result:
        result["int8_minus_fp32_points"] = round(100 * (result["ort_int8"] - result["ort_fp32"]), 3)
    return result


def _mark_failed(out: Path, artifact: str) -> str:
    """Rename a failing artifact (and an IR's .bin) to ``<stem>.parity-failed<suffix>``; return its new name."""
    path = out / artifact
    new = path.with_name(path.name.replace(path.suffix, ".parity-failed" + path.suffix))
    if path.suffix == ".xml":
        path.with_suffix(".bin").replace(new.with_suffix(".bin"))
    path.replace(new)
    return str(new.relative_to(out))


def _files(out: Path, targets, renamed: dict[str, str]) -> list[ExportFile]:
    from edgeprune.export.onnx import onnx_files
    from edgeprune.export.openvino import ir_files

    rows, seen = [], set()
    for t in targets:
        if t.artifact in seen:
            continue
        seen.add(t.artifact)
        path = out / renamed.get(t.artifact, t.artifact)
        parts = ir_files(path) if path.suffix == ".xml" else onnx_files(path)
        fmt = "openvino" if path.suffix == ".xml" else "onnx"
        rows.append(ExportFile(path=str(path.relative_to(out)), format=fmt, precision=t.precision,
                               bytes=sum(p.stat().st_size for p in parts), sha256=sha256_file(path),
                               parts=[{"path": str(p.relative_to(out)), "bytes": p.stat().st_size,
                                       "sha256": sha256_file(p)} for p in parts],
                               parity_failed=t.artifact in renamed))
    return rows


def versions() -> dict[str, str | None]:
    """Versions of the libraries an export depends on."""
    from edgeprune.runtime.machine import versions as installed

    return installed(("edgeprune", "torch", "onnx", "onnxruntime", "onnxsim", "onnxslim", "openvino", "numpy"),
                     python=False)


