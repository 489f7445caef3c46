"""PyTorch -> ONNX: one file, dynamic batch, the ModelSpec in metadata_props.

Exporter choice: the TorchScript exporter (``dynamo=False``). It writes a single self-contained
file, folds BatchNorm into the convolutions, takes a dynamic batch axis through ``dynamic_axes``
and runs in well under a second for a small VGG (the dynamo exporter takes ~3 s, needs onnxscript
and writes external data unless told not to). Its deprecation warning is filtered locally. Where it cannot trace a model
(AdaptiveAvgPool2d to a size that does not divide its input, e.g. torchvision's VGG at 32 px), the
torch.export-based exporter takes over (opset 18 or later).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from edgeprune.errors import ExportError, first_line
from edgeprune.fileio import atomic_path
from edgeprune.models import ModelSpec, spec_of
from edgeprune.runtime.onnxfile import SPEC_KEY, initializers, onnx_files, read_metadata  # noqa: F401 (re-exported)
from edgeprune.ui import log

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
TWO_GB = 2**31 - 1


def export_onnx(model: nn.Module, path: str | os.PathLike[str], opset: int = OPSET, *,
                input_shape: tuple[int, int, int] | None = None, source_sha256: str | None = None) -> Path:
    """Export ``model`` (with its spec) to ``path``: inputs "input", outputs "logits", dynamic batch.

    The spec stored is the model's, with the current layer sizes filled in as a checkpoint save does.
    """
    from edgeprune.models.layers import layer_sizes

    path = Path(path)
    spec = spec_of(model).replace(layers=layer_sizes(model))
    shape = tuple(input_shape or spec.input_shape)
    if input_shape is not None:
        spec = spec.replace(input_shape=shape)
    x = torch.zeros(2, *shape)
    with cpu_eval(model) as model:
        _check_forward(model, x, spec.name)
        try:
            proto = _trace_to_onnx(model, (x,), opset)
        except Exception as e:  # the exporter raises many types; name the layer that fails
            try:
                proto = _dynamo_to_onnx(model, (x,), opset)
                log(f"{spec.name}: the TorchScript exporter failed ({first_line(e)}); exported with torch.export "
                    f"at opset {max(opset, 18)}")
            except Exception:
                layer = find_failing_layer(model, x, opset)
                where = f" at layer {layer}" if layer else ""
                raise ExportError(f"{spec.name} cannot be exported to ONNX opset {opset}{where}: {first_line(e)}",
                                  hint="replace that layer with a standard one or try another opset", params=("opset",)) from e
    _set_metadata(proto, spec, source_sha256)
    save_onnx(proto, path)
    return path


@contextlib.contextmanager
def cpu_eval(model: nn.Module) -> Iterator[nn.Module]:
    """The model in eval mode on the CPU (a copy if it lives elsewhere); its training flag is restored after."""
    import copy

    on_cpu = all(p.device.type == "cpu" for p in [*model.parameters(), *model.buffers()])
    target = model if on_cpu else copy.deepcopy(model).to("cpu")
    was_training = model.training
    target.eval()
    try:
        yield target
    finally:
        model.train(was_training)


def read_spec(path: str | os.PathLike[str]) -> ModelSpec | None:
    """The ModelSpec stored in an ONNX file's metadata, or None when it has none."""
    meta = read_metadata(path)
    text = meta.get(SPEC_KEY)
    if text is None:
        return None
    try:
        return ModelSpec.from_json(text)
    except (ValueError, TypeError, KeyError) as e:
        raise ExportError(f"{path}: malformed {SPEC_KEY} metadata ({first_line(e)})") from e


def save_onnx(proto, path: str | os.PathLike[str], size_limit: int = TWO_GB) -> Path:
    """Save atomically; one file below ``size_limit`` bytes, else weights in ``<name>.data`` beside it."""
    import onnx

    path = Path(path)
    if proto.ByteSize() < size_limit:
        with atomic_path(path) as tmp:
            onnx.save_model(proto, str(tmp))
        return path
    data_name = path.name + ".data"
    with atomic_path(path.parent / data_name) as tmp_data, atomic_path(path) as tmp:
        # onnx writes the data file next to the model under ``location``: write, then move it aside
        onnx.save_model(proto, str(tmp), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=tmp_data.name, size_threshold=1024)
        _relocate_external(tmp, tmp_data.name, data_name)
    return path


def _relocate_external(model_path: Path, old: str, new: str) -> None:
    import onnx

    proto = onnx.load(str(model_path), load_external_data=False)
    for t in initializers(proto):
        for entry in t.external_data:
            if entry.key == "location" and entry.value == old:
                entry.value = new
    onnx.save_model(proto, str(model_path))


def _trace_to_onnx(model: nn.Module, args: tuple[torch.Tensor, ...], opset: int):
    """Trace to a ModelProto (through a temporary file: above 2 GB torch writes external data there)."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp, quiet_native_output(), warnings.catch_warnings(), torch.no_grad():
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="ONNX Preprocess - Removing mutation")  # inplace ReLU
        path = Path(tmp) / "traced.onnx"
        torch.onnx.export(model, args, str(path), dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], do_constant_folding=True,
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
        return onnx.load(str(path))  # external data, if any, is read into memory here


def _dynamo_to_onnx(model: nn.Module, args: tuple[torch.Tensor, ...], opset: int):
    """The torch.export-based exporter, for what TorchScript cannot trace (e.g. AdaptiveAvgPool2d to 7x7 from 1x1)."""
    import onnx

    with tempfile.TemporaryDirectory() as tmp, quiet_native_output(replay=False), warnings.catch_warnings(), \
            torch.no_grad():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "exported.onnx"
        program = torch.onnx.export(model, args, dynamo=True, opset_version=max(opset, 18), input_names=[INPUT_NAME],
                                    output_names=[OUTPUT_NAME],
                                    dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), verbose=False)
        program.optimize()
        program.save(str(path), external_data=False)
        return onnx.load(str(path))


@contextlib.contextmanager
def quiet_native_output(replay: bool = True) -> Iterator[None]:
    """Capture what is printed to fd 1 and 2 (native code) and to sys.stdout/stderr; replay it on
    stderr on success when ``replay``.

    The TorchScript exporter dumps its whole IR graph to stdout on failure; onnxsim prints progress.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    text = io.StringIO()
    with tempfile.TemporaryFile() as sink:
        for fd in saved:
            os.dup2(sink.fileno(), fd)
        ok = False
        try:
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield
            ok = True
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            if ok and replay:  # nothing went wrong: pass through what was printed
                sink.seek(0)
                printed = sink.read().decode(errors="replace") + text.getvalue()
                if printed:
                    sys.stderr.write(printed)


def _check_forward(model: nn.Module, x: torch.Tensor, name: str) -> None:
    try:
        with torch.no_grad():
            model(x)
    except Exception as e:
        raise ExportError(f"{name} cannot take inputs of shape {tuple(x.shape[1:])}: {first_line(e)}",
                          hint="export at the input size the model was built for (see `edgeprune info`)") from e


def find_failing_layer(model: nn.Module, x: torch.Tensor, opset: int = OPSET) -> str | None:
    """Name the deepest submodule that cannot be exported on its own (None if none can be singled out)."""
    inputs: dict[str, tuple] = {}
    handles = [m.register_forward_hook(_recorder(inputs, n)) for n, m in model.named_modules() if n]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    names = [n for n, _ in model.named_modules() if n in inputs]
    for name in sorted(names, key=lambda n: -n.count(".")):  # deepest first
        try:
            _trace_to_onnx(model.get_submodule(name), inputs[name], opset)
        except Exception:
            return f"{name} ({type(model.get_submodule(name)).__name__})"
    return None


def _recorder(store: dict[str, tuple], name: str):
    def hook(_m: nn.Module, args: tuple, _out) -> None:
        if name not in store and args and all(isinstance(a, torch.Tensor) for a in args):
            store[name] = tuple(a.detach() for a in args)
    return hook


def _set_metadata(proto, spec: ModelSpec, source_sha256: str | None) -> None:
    from edgeprune import __version__

    sha = source_sha256 or spec.provenance.get("sha256") or ""
    meta = {
        SPEC_KEY: spec.to_json(),
        "labels": json.dumps(list(spec.labels)),
        "input_shape": json.dumps(list(spec.input_shape)),
        "mean": json.dumps(list(spec.mean)),
        "std": json.dumps(list(spec.std)),
        "source_sha256": sha,
        "edgeprune_version": __version__,
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.doc_string = f"{spec.name} exported by edgeprune {__version__}"

