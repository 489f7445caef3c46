"""`edgeprune export` as a user meets it: a real run through a subprocess, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

import edgeprune as ep
from edgeprune.cli import main

ENV = {**os.environ, "EDGEPRUNE_QUIET": "1"}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeprune.cli", *args], capture_output=True, text=True,
                          env=ENV, timeout=300)


def test_export_then_info(tiny_half_ckpt, tmp_path):
    out = tmp_path / "exp"
    proc = cli("export", str(tiny_half_ckpt), "--to", "onnx,openvino", "--int8", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "parity ok" in proc.stdout and "int8" in proc.stdout
    assert "Checking" not in proc.stdout + proc.stderr  # onnxsim's chatter is swallowed
    result = json.loads((out / "export.json").read_text())
    assert result["status"] == "ok" and result["data"] == "digits"
    assert (out / "openvino" / "model.xml").is_file() and (out / "model.int8.onnx").is_file()
    proc = cli("info", str(out / "model.sim.onnx"), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert [r["outputs"] for r in info["layers"] if r["kind"] == "Conv2d"] == [8, 16, 32, 32, 64, 64, 64, 64]
    assert info["macs"] == ep.model_info(tiny_half_ckpt).macs


def test_corrupted_checkpoint_is_one_line(tiny_ckpt, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(tiny_ckpt.read_bytes()[:500])
    proc = cli("export", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("edgeprune export: error:") and "corrupted" in proc.stderr


def test_user_errors_in_process(tiny_ckpt, digits, tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export", str(tiny_ckpt), "--to", "tflite", "--out", str(tmp_path / "o")]) == 2
    assert "unknown export format" in capsys.readouterr().err
    assert main(["export", str(tiny_ckpt), "--int8", "--no-data", "--out", str(tmp_path / "o")]) == 2
    # a seed-head VGG has a fixed-size classifier: 64 px inputs cannot go through it
    torch.manual_seed(0)
    seed = ep.create_model("vgg11", data=digits, width=0.125, classifier="seed", hidden=16)
    ckpt = ep.save(seed, tmp_path / "seed.safetensors")
    assert main(["export", str(ckpt), "--input-size", "64", "--to", "onnx", "--out", str(tmp_path / "s")]) == 3
    err = capsys.readouterr().err
    assert "cannot take inputs of shape (1, 64, 64)" in err and "Traceback" not in err
    # the same model at its own size exports fine
    assert main(["export", str(ckpt), "--to", "onnx", "--out", str(tmp_path / "s")]) == 0
