"""``ExportConfig``: what ``export()`` writes (formats, INT8, FP16, opset, input shape), validated once.

The registry of formats and variants lives here too, so that the recipe's ``[export]`` section and the
``edgeprune export`` flags take their defaults and choices from one place. Nothing here imports torch
until an opset is checked (``--help`` stays instant).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeprune.errors import ConfigError

# Formats that ``formats`` accepts. The simplified ONNX is always written: OpenVINO and INT8 start from it.
FORMATS: dict[str, str] = {
    "onnx": "ONNX (model.onnx as exported, model.sim.onnx simplified), dynamic batch, spec in metadata",
    "openvino": "OpenVINO IR (openvino/model.xml + .bin), FP32 weights unless --fp16",
}
VARIANTS: dict[str, str] = {
    "int8": "INT8 QDQ ONNX (model.int8.onnx), per-channel, calibrated on training samples (--int8)",
    "fp16": "OpenVINO IR with FP16-compressed weights (--fp16)",
}
DEFAULT_FORMATS = ("onnx", "openvino")
DEFAULT_OPSET = 17


def list_formats() -> dict[str, str]:
    """Export formats and variants by name, with one-line descriptions."""
    return {**FORMATS, **VARIANTS}


def opset_range() -> tuple[int, int]:
    """The opsets the TorchScript exporter writes (torch's own range, from a private module)."""
    try:
        from torch.onnx._constants import ONNX_MAX_OPSET, ONNX_MIN_OPSET
    except ImportError:
        return 7, 20
    return int(ONNX_MIN_OPSET), int(ONNX_MAX_OPSET)


def check_opset(opset: Any) -> int:
    """An ONNX opset the exporter writes and the runtimes run."""
    if not isinstance(opset, int) or isinstance(opset, bool):
        raise ConfigError(f"opset must be an integer, got {opset!r}", hint="the default, 17, runs everywhere",
                          params=("opset",))
    low, high = opset_range()
    if not low <= opset <= high:  # opset 6's BatchNormalization has no onnxruntime kernel
        raise ConfigError(f"opset {opset} is not supported: the exporter writes opsets {low} to {high}",
                          hint="the default, 17, runs everywhere", params=("opset",))
    return opset


def check_formats(formats: str | Sequence[str]) -> list[str]:
    """The formats as a list (a string is comma-separated), each one known, at least one."""
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    if not isinstance(formats, (list, tuple)) or not all(isinstance(f, str) for f in formats):
        raise ConfigError(f"formats must be a list of format names, got {formats!r}",
                          hint=f"one or more of {sorted(FORMATS)}", params=("formats",))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        hint = "INT8 and FP16 are options of their own, not formats" if set(unknown) & set(VARIANTS) else None
        raise ConfigError(f"formats names unknown export format(s) {unknown}; known: {sorted(FORMATS)}", hint=hint,
                          params=("formats",))
    if not formats:
        raise ConfigError("formats is empty: no export format given", hint=f"one or more of {sorted(FORMATS)}",
                          params=("formats",))
    return list(dict.fromkeys(formats))


def check_input_shape(shape: Any) -> tuple[int, int, int] | None:
    """None (the model's own) or (C, H, W), three integers >= 1."""
    if shape is None:
        return None
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape):
        raise ConfigError(f"input_shape must be (channels, height, width), three integers >= 1, got {shape!r}",
                          params=("input_shape",))
    return (int(shape[0]), int(shape[1]), int(shape[2]))


@dataclass
class ExportConfig:
    """What one export writes: ``formats``, an INT8 model, FP16 IR weights, the opset, the input shape."""

    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    int8: bool = False
    fp16: bool = False
    opset: int = DEFAULT_OPSET
    input_shape: tuple[int, int, int] | None = None  # None: the shape the checkpoint's spec records

    def __post_init__(self) -> None:
        self.formats = check_formats(self.formats)
        for key in ("int8", "fp16"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} must be true or false, got {getattr(self, key)!r}", params=(key,))
        self.opset = check_opset(self.opset)
        self.input_shape = check_input_shape(self.input_shape)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (``from_dict`` reads it back)."""
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape) if self.input_shape else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExportConfig:
        """The config of a ``to_dict()`` dict; an unknown key is refused."""
        return cls(**_known(cls, d, "export"))

    @classmethod
    def of(cls, config: ExportConfig | Mapping[str, Any] | None = None, **options: Any) -> ExportConfig:
        """``config`` (or the defaults) with keyword ``options`` applied: the call forms ``export()`` accepts."""
        if config is None:
            config = cls()
        elif isinstance(config, Mapping):
            config = cls.from_dict(config)
        elif not isinstance(config, ExportConfig):
            raise ConfigError(f"config must be an ExportConfig, got {type(config).__name__}", params=("config",))
        if not options:
            return config
        _known(cls, options, "export")
        return dataclasses.replace(config, **options)


def _known(cls: type, d: Mapping[str, Any], what: str) -> dict[str, Any]:
    """``d`` as keyword arguments of ``cls``; an unknown key is one ConfigError that names it."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(d) - set(names))
    if unknown:
        raise ConfigError(f"unknown {what} option {unknown[0]!r}", hint=f"{what} takes: {', '.join(names)}",
                          params=(unknown[0],))
    return dict(d)
