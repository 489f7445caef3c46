"""The CLI as a user meets it: help without heavy imports, a real training run, one-line errors, a lean import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import edgeprune as ep

ENV = {**os.environ, "EDGEPRUNE_QUIET": "1"}


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeprune.cli", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


# `edgeprune --help` run as the console script would, then which heavy runtimes it pulled in: the proof that
# help stays fast is that it imports none of them (no wall-clock bound, which a loaded box would break).
HELP = """
import json, runpy, sys
sys.argv = ["edgeprune", "--help"]
try:
    runpy.run_module("edgeprune.cli", run_name="__main__")
    code = 0
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("torch", "torchvision", "onnxruntime", "openvino") if m in sys.modules)
print("HELP-RESULT " + json.dumps({"code": code, "heavy": heavy}))
"""


def test_help_is_fast_and_lists_the_stages():
    import json

    proc = subprocess.run([sys.executable, "-c", HELP], capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr
    help_text, _, result = proc.stdout.rpartition("HELP-RESULT ")
    assert json.loads(result) == {"code": 0, "heavy": []}  # no torch etc. on the help path
    for name in ("train", "info", "list"):
        assert name in help_text
    assert "examples:" in help_text


def test_import_is_lean():
    code = "import sys, edgeprune; print(sorted(m for m in ('torch', 'onnxruntime', 'openvino') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert proc.stdout.strip() == "[]"


def test_train_then_info_then_load(tmp_path, digits, same_model):
    out = tmp_path / "a"
    proc = cli("train", "--model", "vgg11_bn", "--width", "0.125", "--data", "digits", "--epochs", "1",
               "--device", "cpu", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout
    ckpt = out / "model.safetensors"
    info = cli("info", str(ckpt), "--json")
    assert info.returncode == 0, info.stderr
    import json

    data = json.loads(info.stdout)
    model = ep.load(ckpt)
    assert data["params"] == sum(p.numel() for p in model.parameters())
    assert data["macs"] > 0 and data["file_bytes"] == ckpt.stat().st_size
    # loading in Python gives the training run's own test accuracy
    summary = json.loads((out / "train.json").read_text())
    assert ep.evaluate(model, digits, "test", device="cpu").accuracy == summary["test"]["accuracy"]
    x, _ = digits.sample("test", 4)
    same_model(model, ep.load(ckpt), x)


def test_offline_dataset_is_one_line(tmp_path):
    proc = cli("train", "--data", "mnist", "--data-root", str(tmp_path), "--out", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    error, hint = proc.stderr.strip().splitlines()  # one line of error, one of hint
    assert error.startswith("edgeprune train: error: mnist idx files not found") and "never downloads" in error
    assert "MNIST/raw" in hint and "--data-root" in hint


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a")
    proc = cli("info", str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "truncated or corrupted" in proc.stderr


def test_bad_option_values(tmp_path):
    proc = cli("train", "--model", "vgg7", "--out", str(tmp_path))
    assert proc.returncode == 2 and "unknown model" in proc.stderr and "Traceback" not in proc.stderr


def test_same_command_same_model(tmp_path):
    """The seed covers the initial weights too: two runs of one command write identical tensors."""
    from safetensors.torch import load_file

    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        res = cli("train", "--model", "vgg11_bn", "--width", "0.125", "--data", "digits", "--epochs", "1",
                  "--device", "cpu", "--out", str(out))
        assert res.returncode == 0, res.stderr
    a, b = (load_file(o / "model.safetensors") for o in outs)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_freeze_features_trains_only_the_classifier(tmp_path):
    """Transfer learning as the papers did it: the feature extractor's weights leave training untouched."""
    import torch

    first = tmp_path / "first"
    assert cli("train", "--model", "vgg11_bn", "--width", "0.125", "--data", "digits", "--epochs", "1",
               "--out", str(first)).returncode == 0
    again = tmp_path / "again"
    proc = cli("train", "--model", "vgg11_bn", "--width", "0.125", "--data", "digits", "--epochs", "1",
               "--weights", str(first / "model.safetensors"), "--freeze-features", "--lr", "0.01", "--out", str(again))
    assert proc.returncode == 0, proc.stderr
    before, after = ep.load(first / "model.safetensors").state_dict(), ep.load(again / "model.safetensors").state_dict()
    features = [k for k in before if k.startswith("features.")]
    head = [k for k in before if k.startswith("classifier.") and k.endswith("weight")]
    assert features and head
    assert all(torch.equal(before[k], after[k]) for k in features)  # BN statistics included: frozen means eval mode
    assert any(not torch.equal(before[k], after[k]) for k in head)


def test_library_errors_name_parameters_and_the_cli_names_flags(tmp_path, capsys):
    """The API user passed ``claim_on`` and reads claim_on; the CLI user typed --claim-on and reads that."""
    from edgeprune.bench.claims import parse_claim_on
    from edgeprune.cli import main
    from edgeprune.errors import ConfigError

    with pytest.raises(ConfigError) as e:
        parse_claim_on("nosuch")
    assert e.value.message.startswith("claim_on names an unknown backend 'nosuch'") and "--" not in e.value.message
    assert main(["bench", str(tmp_path / "b.onnx"), "--baseline", str(tmp_path / "a.onnx"), "--claim", "2",
                 "--claim-on", "nosuch", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "error: --claim-on names an unknown backend 'nosuch'" in err, err


def test_in_terms_of_renames_whole_words_only():
    from edgeprune.errors import ConfigError

    e = ConfigError("out is a file; out_dir and layout stay", hint="pass another out", params=("out", "absent"))
    assert e.in_terms_of({"out": "--out"}) == ("--out is a file; out_dir and layout stay", "pass another --out")
