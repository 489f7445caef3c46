"""The bad-input catalogue of train, prune, export, info, list, env and the data loaders behind ``--data``.

Every case is refused by validation, before any training, scoring or export: exit code, one error line
(plus at most a hint), no traceback, ``--out`` untouched (see conftest.py's ``refuse``). The checkpoints
are built untrained (random weights), so the whole catalogue runs in seconds.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class Workspace:
    """Per-case paths: ``tmp`` (the case's own folder), ``out`` (a fresh --out) and the shared checkpoint."""

    tmp: Path
    ckpt: Path
    write_idx: Callable[..., Path]

    @property
    def out(self) -> Path:
        return self.tmp / "out"

    def file(self, name: str, data: bytes | str = b"") -> Path:
        """A file under ``tmp`` with these contents."""
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def ckpt_with(self, filename: str, **spec_changes) -> Path:
        """The shared checkpoint's tensors under a spec with some fields changed (a hand-edited header)."""
        from safetensors.torch import load_file, save_file

        from edgeprune.models import read_header
        from edgeprune.models.checkpoint import FORMAT

        spec, _ = read_header(self.ckpt)
        path = self.tmp / filename
        save_file(load_file(str(self.ckpt)), str(path), metadata={"format": FORMAT, "spec": spec.replace(**spec_changes).to_json()})
        return path


@dataclass
class Case:
    """One bad input: ``argv(ws)`` returns the arguments, or the arguments and the folder to watch."""

    name: str
    argv: Callable[[Workspace], list | tuple[list, Path]]
    match: str
    code: int = 2
    skip: str | None = None


CASES: list[Case] = []


def case(name: str, match: str, code: int = 2, skip: str | None = None):
    """Register the decorated argv builder as a catalogue case."""
    def register(fn: Callable[[Workspace], list | tuple[list, Path]]):
        CASES.append(Case(name, fn, match, code, skip))
        return fn
    return register


def _idx_root(ws: Workspace, damage: Callable[[Path], None] | None = None, gz: bool = False) -> Path:
    """A small fake MNIST-style idx dataset under ``tmp``, damaged by ``damage``."""
    root = ws.write_idx(ws.tmp / "idx", gz=gz, n_train=20, n_test=10)
    if damage is not None:
        damage(root)
    return root


def _png(path: Path, value: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), color=value).save(path)


def _imagefolder(ws: Workspace, corrupt: str | None = None) -> Path:
    root = ws.tmp / "images"
    for split in ("train", "test"):
        for c, cls in enumerate(("a", "b")):
            for i in range(3):
                _png(root / split / cls / f"{i}.png", 40 + 100 * c + i)
    if corrupt:
        (root / corrupt).write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    return root


# --- train ------------------------------------------------------------------------------------------

TRAIN = ["train", "--model", "vgg11_bn", "--width", "0.125", "--epochs", "1"]


@case("train-workers-negative", r"workers")
def _(ws): return [*TRAIN, "--workers", "-1", "--out", ws.out]


@case("train-epochs-negative", r"epochs")
def _(ws): return [*TRAIN[:-2], "--epochs", "-1", "--out", ws.out]


@case("train-batch-size-zero", r"batch.size")
def _(ws): return [*TRAIN, "--batch-size", "0", "--out", ws.out]


@case("train-lr-zero", r"learning rate|--lr")
def _(ws): return [*TRAIN, "--lr", "0", "--out", ws.out]


@case("train-lr-negative", r"learning rate|--lr")
def _(ws): return [*TRAIN, "--lr", "-0.01", "--out", ws.out]


@case("train-patience-zero", r"patience")
def _(ws): return [*TRAIN, "--patience", "0", "--out", ws.out]


@case("train-unknown-model", r"unknown model")
def _(ws): return ["train", "--model", "vgg7", "--epochs", "1", "--out", ws.out]


@case("train-unknown-tv-model", r"torchvision has no")
def _(ws): return ["train", "--model", "tv:nosuchnet", "--epochs", "1", "--out", ws.out]


@case("train-width-zero", r"width")
def _(ws): return ["train", "--model", "vgg11_bn", "--width", "0", "--epochs", "1", "--out", ws.out]


@case("train-widths-not-numbers", r"--widths")
def _(ws): return ["train", "--model", "vgg11_bn", "--widths", "8,x,16", "--epochs", "1", "--out", ws.out]


@case("train-unknown-device", r"device")
def _(ws): return [*TRAIN, "--device", "tpu", "--out", ws.out]


@case("train-unknown-optimizer", r"invalid choice")
def _(ws): return [*TRAIN, "--optimizer", "lion", "--out", ws.out]


@case("train-weights-pickle", r"safetensors")
def _(ws): return [*TRAIN, "--weights", ws.file("w.pth", b"\x80\x04\x95 pickled"), "--out", ws.out]


@case("train-weights-missing", r"does not exist")
def _(ws): return [*TRAIN, "--weights", ws.tmp / "none.safetensors", "--out", ws.out]


@case("train-out-is-a-file", r"--out .* is (a|an existing) file|not a directory")
def _(ws):
    f = ws.file("taken", "precious")
    return [*TRAIN, "--out", f], f


@case("train-out-parent-is-a-file", r"--out|not a directory")
def _(ws):
    f = ws.file("parent", "precious")
    return [*TRAIN, "--out", f / "run"], f


@case("train-out-read-only", r"--out .*(writ|permission)", skip="root ignores permissions" if IS_ROOT else None)
def _(ws):
    ro = ws.tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return [*TRAIN, "--out", ro / "run"], ro


# --- data (reached through train) --------------------------------------------------------------------

@case("data-unknown-name", r"unknown dataset")
def _(ws): return [*TRAIN, "--data", "imagenet21k", "--out", ws.out]


@case("data-channels-two", r"invalid choice")
def _(ws): return [*TRAIN, "--channels", "2", "--out", ws.out]


@case("data-input-size-zero", r"input.size")
def _(ws): return [*TRAIN, "--input-size", "0", "--out", ws.out]


@case("data-fraction-zero", r"fraction")
def _(ws): return [*TRAIN, "--data", "mnist", "--fraction", "0", "--out", ws.out]


@case("data-sizes-two-numbers", r"--sizes")
def _(ws): return [*TRAIN, "--data", "mnist", "--sizes", "10,10", "--out", ws.out]


@case("digits-fraction-ignored", r"fraction.*digits")
def _(ws): return [*TRAIN, "--fraction", "0.5", "--out", ws.out]


@case("digits-data-root-ignored", r"data.root.*digits")
def _(ws): return [*TRAIN, "--data-root", ws.tmp, "--out", ws.out]


@case("digits-download-ignored", r"download.*digits")
def _(ws): return [*TRAIN, "--download", "--out", ws.out]


@case("imagefolder-data-root-ignored", r"data.root.*imagefolder")
def _(ws): return [*TRAIN, "--data", f"imagefolder:{_imagefolder(ws)}", "--data-root", ws.tmp, "--out", ws.out]


@case("imagefolder-fraction-ignored", r"fraction.*imagefolder")
def _(ws): return [*TRAIN, "--data", f"imagefolder:{_imagefolder(ws)}", "--fraction", "0.5", "--out", ws.out]


@case("imagefolder-missing", r"imagefolder .*train/ and test/")
def _(ws): return [*TRAIN, "--data", f"imagefolder:{ws.tmp / 'nowhere'}", "--out", ws.out]


@case("imagefolder-empty-path", r"imagefolder")
def _(ws): return [*TRAIN, "--data", "imagefolder:", "--out", ws.out]


@case("imagefolder-corrupt-image", r"bad\.png")
def _(ws):
    root = _imagefolder(ws, corrupt="train/a/bad.png")
    return [*TRAIN, "--data", f"imagefolder:{root}", "--input-size", "32", "--out", ws.out]


@case("mnist-missing-offline", r"mnist idx files not found.*never downloads")
def _(ws): return [*TRAIN, "--data", "mnist", "--data-root", ws.tmp / "empty", "--out", ws.out]


@case("fashionmnist-missing-offline", r"fashionmnist is not installed.*apt-get install")
def _(ws): return [*TRAIN, "--data", "fashionmnist", "--data-root", ws.tmp / "empty", "--out", ws.out]


@case("stl10-missing-offline", r"stl10 is not on disk.*never downloads")
def _(ws): return [*TRAIN, "--data", "stl10", "--data-root", ws.tmp / "empty", "--out", ws.out]


@case("cifar10-missing-offline", r"cifar10 is not on disk")
def _(ws): return [*TRAIN, "--data", "cifar10", "--data-root", ws.tmp / "empty", "--out", ws.out]


@case("mnist-wrong-magic", r"train-images-idx3-ubyte.*magic")
def _(ws):
    def damage(root: Path) -> None:
        f = root / "train-images-idx3-ubyte"
        f.write_bytes(struct.pack(">II", 1234, 20) + f.read_bytes()[8:])

    return [*TRAIN, "--data", "mnist", "--data-root", _idx_root(ws, damage), "--out", ws.out]


@case("mnist-truncated-labels", r"t10k-labels-idx1-ubyte")
def _(ws):
    def damage(root: Path) -> None:
        f = root / "t10k-labels-idx1-ubyte"
        f.write_bytes(f.read_bytes()[:12])

    return [*TRAIN, "--data", "mnist", "--data-root", _idx_root(ws, damage), "--out", ws.out]


@case("fashionmnist-damaged-gzip", r"train-labels-idx1-ubyte\.gz")
def _(ws):
    root = _idx_root(ws, gz=True)
    f = root / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-6])
    return [*TRAIN, "--data", "fashionmnist", "--data-root", root, "--out", ws.out]


@case("fashionmnist-empty-file", r"t10k-images-idx3-ubyte")
def _(ws):
    root = _idx_root(ws)
    (root / "t10k-images-idx3-ubyte").write_bytes(b"")
    return [*TRAIN, "--data", "fashionmnist", "--data-root", root, "--out", ws.out]


# --- prune ------------------------------------------------------------------------------------------

def PRUNE(ws: Workspace, *extra) -> list:
    return ["prune", ws.ckpt, "--method", "magnitude", *extra]


@case("prune-missing-checkpoint", r"does not exist")
def _(ws): return ["prune", ws.tmp / "none.safetensors", "--method", "magnitude", "--ratio", "0.5", "--out", ws.out]


@case("prune-checkpoint-is-a-directory", r"is a directory")
def _(ws): return ["prune", ws.tmp, "--method", "magnitude", "--ratio", "0.5", "--out", ws.out]


@case("prune-plain-safetensors", r"not an edgeprune checkpoint")
def _(ws):
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(ws.tmp / "plain.safetensors"))
    return ["prune", ws.tmp / "plain.safetensors", "--method", "magnitude", "--ratio", "0.5", "--out", ws.out]


@case("prune-truncated-checkpoint", r"not a readable safetensors file")
def _(ws):
    bad = ws.file("half.safetensors", ws.ckpt.read_bytes()[: ws.ckpt.stat().st_size // 2])
    return ["prune", bad, "--method", "magnitude", "--ratio", "0.5", "--out", ws.out]


@case("prune-unknown-method", r"unknown pruning method")
def _(ws): return ["prune", ws.ckpt, "--method", "lottery", "--ratio", "0.5", "--out", ws.out]


@case("prune-target-macs-zero", r"target.macs|\(0, 1\)")
def _(ws): return PRUNE(ws, "--target-macs", "0", "--out", ws.out)


@case("prune-target-macs-above-one", r"target.macs|\(0, 1\)")
def _(ws): return PRUNE(ws, "--target-macs", "1.5", "--out", ws.out)


@case("prune-target-macs-negative", r"target.macs|\(0, 1\)")
def _(ws): return PRUNE(ws, "--target-macs", "-0.1", "--out", ws.out)


@case("prune-two-targets", r"exactly one")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--target-params", "0.5", "--out", ws.out)


@case("prune-no-target", r"exactly one")
def _(ws): return PRUNE(ws, "--out", ws.out)


@case("prune-steps-zero", r"steps")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--steps", "0", "--out", ws.out)


@case("prune-finetune-epochs-negative", r"finetune")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--finetune-epochs", "-1", "--out", ws.out)


@case("prune-per-step-zero", r"per.step|filters per step")
def _(ws): return ["prune", ws.ckpt, "--method", "seed", "--per-step", "0", "--out", ws.out]


@case("prune-unknown-criterion", r"criterion")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--criterion", "vibes", "--out", ws.out)


@case("prune-unknown-regularizer", r"regularizer|reg")
def _(ws): return ["prune", ws.ckpt, "--method", "reg+obd", "--ratio", "0.5", "--reg", "l7", "--out", ws.out]


@case("prune-samples-zero", r"samples")
def _(ws): return ["prune", ws.ckpt, "--method", "obd", "--ratio", "0.5", "--samples", "0", "--out", ws.out]


@case("prune-fisher-with-magnitude", r"--fisher.*magnitude")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--fisher", "exact", "--out", ws.out)


@case("prune-norm-with-obd", r"--norm.*obd")
def _(ws): return ["prune", ws.ckpt, "--method", "obd", "--ratio", "0.5", "--norm", "l2", "--out", ws.out]


@case("prune-reg-lambda-without-regularization", r"--reg-lambda.*magnitude")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--reg-lambda", "0.1", "--out", ws.out)


@case("prune-samples-with-magnitude", r"--samples.*magnitude")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--samples", "64", "--out", ws.out)


@case("prune-target-speedup-without-on", r"--target-speedup needs --on")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--out", ws.out)


@case("prune-on-without-latency-target", r"--on applies only to --target-speedup")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--on", "ort:2", "--out", ws.out)


@case("prune-target-speedup-below-one", r"above 1")
def _(ws): return PRUNE(ws, "--target-speedup", "0.5", "--on", "ort:1", "--out", ws.out)


@case("prune-target-speedup-and-macs", r"exclude each other")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--target-macs", "0.3", "--on", "ort:1", "--out", ws.out)


@case("prune-target-speedup-and-latency", r"not both")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--target-latency", "1", "--on", "ort:1", "--out", ws.out)


@case("prune-target-latency-negative", r"positive, finite")
def _(ws): return PRUNE(ws, "--target-latency", "-1", "--on", "ort:1", "--out", ws.out)


@case("prune-on-browser", r"runtime 'web' is not supported.*browser")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--on", "web:2", "--out", ws.out)


@case("prune-on-zero-threads", r"threads must be a positive integer")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--on", "ort:0", "--out", ws.out)


@case("prune-uniform-scope-with-speedup", r"scope 'uniform' does not apply to a speedup target")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--on", "ort:1", "--scope", "uniform", "--out", ws.out)


@case("prune-round-to-with-speedup", r"--round-to does not apply")
def _(ws): return PRUNE(ws, "--target-speedup", "3", "--on", "ort:1", "--round-to", "8", "--out", ws.out)


@case("prune-input-size-differs", r"32 px|--input-size")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--input-size", "64", "--out", ws.out)


@case("prune-channels-differ", r"--channels|1 channel")
def _(ws): return PRUNE(ws, "--ratio", "0.5", "--channels", "3", "--out", ws.out)


@case("prune-data-other-classes", r"classes|labels")
def _(ws):
    return PRUNE(ws, "--ratio", "0.5", "--data", f"imagefolder:{_imagefolder(ws)}", "--input-size", "32",
                 "--channels", "1", "--out", ws.out)


@case("prune-out-is-a-file", r"--out .* is (a|an existing) file|not a directory")
def _(ws):
    f = ws.file("taken", "precious")
    return PRUNE(ws, "--ratio", "0.5", "--out", f), f


@case("prune-out-parent-is-a-file", r"--out|not a directory")
def _(ws):
    f = ws.file("parent", "precious")
    return PRUNE(ws, "--ratio", "0.5", "--out", f / "run"), f


@case("prune-out-read-only", r"--out .*(writ|permission)", skip="root ignores permissions" if IS_ROOT else None)
def _(ws):
    ro = ws.tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return PRUNE(ws, "--ratio", "0.5", "--out", ro / "run"), ro


# --- export -----------------------------------------------------------------------------------------

@case("export-empty-onnx", r"model\.onnx.*(checkpoint|safetensors)")
def _(ws): return ["export", ws.file("model.onnx"), "--out", ws.out]


@case("export-garbage-onnx", r"model\.onnx.*(checkpoint|safetensors)")
def _(ws): return ["export", ws.file("model.onnx", b"\xff" * 64), "--out", ws.out]


@case("export-unknown-format", r"unknown export format")
def _(ws): return ["export", ws.ckpt, "--to", "tflite", "--no-data", "--out", ws.out]


@case("export-no-format", r"no export format")
def _(ws): return ["export", ws.ckpt, "--to", ",", "--no-data", "--out", ws.out]


@case("export-int8-as-format", r"unknown export format")
def _(ws): return ["export", ws.ckpt, "--to", "onnx,int8", "--no-data", "--out", ws.out]


@case("export-int8-without-data", r"--int8 needs data")
def _(ws): return ["export", ws.ckpt, "--int8", "--no-data", "--out", ws.out]


@case("export-opset-too-old", r"--opset")
def _(ws): return ["export", ws.ckpt, "--to", "onnx", "--no-data", "--opset", "6", "--out", ws.out]


@case("export-channels-differ", r"--channels|1 channel")
def _(ws): return ["export", ws.ckpt, "--to", "onnx", "--no-data", "--channels", "3", "--out", ws.out]


@case("export-missing-checkpoint", r"does not exist")
def _(ws): return ["export", ws.tmp / "none.safetensors", "--out", ws.out]


@case("export-out-is-a-file", r"--out .* is (a|an existing) file|not a directory")
def _(ws):
    f = ws.file("taken", "precious")
    return ["export", ws.ckpt, "--to", "onnx", "--no-data", "--out", f], f


@case("export-out-parent-is-a-file", r"--out|not a directory")
def _(ws):
    f = ws.file("parent", "precious")
    return ["export", ws.ckpt, "--to", "onnx", "--no-data", "--out", f / "run"], f


@case("export-out-read-only", r"--out .*(writ|permission)", skip="root ignores permissions" if IS_ROOT else None)
def _(ws):
    ro = ws.tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return ["export", ws.ckpt, "--to", "onnx", "--no-data", "--out", ro / "run"], ro


# --- info -------------------------------------------------------------------------------------------

@case("info-missing", r"does not exist")
def _(ws): return ["info", ws.tmp / "none.safetensors"]


@case("info-directory", r"is a directory")
def _(ws): return ["info", ws.tmp]


@case("info-empty-onnx", r"model\.onnx.*(empty|not a readable ONNX|no input)")
def _(ws): return ["info", ws.file("model.onnx")]


@case("info-garbage-onnx", r"model\.onnx.*not a readable ONNX")
def _(ws): return ["info", ws.file("model.onnx", b"\xff" * 64)]


@case("info-truncated-onnx", r"model\.onnx.*(not a readable ONNX|holds no ONNX graph)")
def _(ws):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y])
    raw = helper.make_model(graph).SerializeToString()
    assert onnx.load_from_string(raw).graph.node  # whole, it parses
    return ["info", ws.file("model.onnx", raw[: len(raw) // 2])]


@case("info-text-file", r"notes\.txt.*not a readable safetensors")
def _(ws): return ["info", ws.file("notes.txt", "just some notes\n")]


@case("info-plain-safetensors", r"not an edgeprune checkpoint")
def _(ws):
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(ws.tmp / "plain.safetensors"))
    return ["info", ws.tmp / "plain.safetensors"]


@case("info-truncated-checkpoint", r"not a readable safetensors file")
def _(ws): return ["info", ws.file("half.safetensors", ws.ckpt.read_bytes()[:-100])]


@case("info-spec-not-json", r"malformed edgeprune header")
def _(ws):
    import torch
    from safetensors.torch import save_file

    from edgeprune.models.checkpoint import FORMAT

    save_file({"w": torch.zeros(2)}, str(ws.tmp / "bad.safetensors"), metadata={"format": FORMAT, "spec": "{not json"})
    return ["info", ws.tmp / "bad.safetensors"]


@case("info-spec-unknown-key", r"malformed edgeprune header")
def _(ws):
    import torch
    from safetensors.torch import save_file

    from edgeprune.models.checkpoint import FORMAT

    save_file({"w": torch.zeros(2)}, str(ws.tmp / "bad.safetensors"),
              metadata={"format": FORMAT, "spec": json.dumps({"name": "vgg11_bn", "colour": "red"})})
    return ["info", ws.tmp / "bad.safetensors"]


@case("info-labels-disagree-with-head", r"1 label.*10")
def _(ws): return ["info", ws.ckpt_with("labels.safetensors", labels=["only"])]


@case("info-input-channels-disagree-with-first-conv", r"input.shape.*3.*1 channel|channels")
def _(ws): return ["info", ws.ckpt_with("channels.safetensors", input_shape=(3, 32, 32))]


@case("info-unknown-architecture", r"unknown model")
def _(ws): return ["info", ws.ckpt_with("arch.safetensors", name="resnet9000")]


@case("info-unknown-option", r"unrecognized arguments")
def _(ws): return ["info", ws.ckpt, "--csv"]


# --- list, env, the top level -----------------------------------------------------------------------

@case("list-unknown-kind", r"invalid choice")
def _(ws): return ["list", "widgets"]


@case("list-pattern-for-methods", r"pattern.*models")
def _(ws): return ["list", "methods", "obd*"]


@case("env-unexpected-argument", r"unrecognized arguments")
def _(ws): return ["env", "--yaml"]


@case("unknown-command", r"invalid choice")
def _(ws): return ["distill"]


@case("no-command", r"command")
def _(ws): return []


# --- the runner -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_ckpt(tmp_path_factory) -> Path:
    """An untrained vgg11_bn (width 0.125) for digits, 1 x 32 x 32, saved as a checkpoint."""
    import torch

    import edgeprune as ep
    from edgeprune.data import load_data

    torch.manual_seed(0)
    model = ep.create_model("vgg11_bn", data=load_data("digits"), width=0.125)
    return ep.save(model, tmp_path_factory.mktemp("ckpt") / "model.safetensors")


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    """No dataset anywhere but where a case puts one: $EDGEPRUNE_DATA, ./data and the system folder are empty."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDGEPRUNE_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(tmp_path / "no-system-data"))


def test_catalogue_is_large_enough():
    assert len(CASES) >= 35 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("bad", CASES, ids=[c.name for c in CASES])
def test_refused(bad: Case, refuse, model_ckpt, idx_files, tmp_path):
    if bad.skip:
        pytest.skip(bad.skip)
    ws = Workspace(tmp_path / "case", model_ckpt, idx_files)
    ws.tmp.mkdir()
    built = bad.argv(ws)
    argv, watch = built if isinstance(built, tuple) else (built, ws.out)
    try:
        refuse(argv, code=bad.code, match=bad.match, out=watch)
    finally:
        for p in ws.tmp.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)


def test_zero_epochs_replace_the_old_model(model_ckpt, tmp_path):
    """``train --epochs 0`` into a folder holding another model leaves the new (untrained) model, not the old."""
    import shutil

    from edgeprune.cli import main
    from edgeprune.models import read_header

    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(model_ckpt, out / "model.safetensors")  # width 0.125
    assert main(["train", "--model", "vgg11_bn", "--width", "0.25", "--epochs", "0", "--out", str(out)]) == 0
    spec, _ = read_header(out / "model.safetensors")
    assert spec.kwargs["width"] == 0.25
    assert json.loads((out / "train.json").read_text())["params"] > 0
