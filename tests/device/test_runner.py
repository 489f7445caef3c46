"""The device runner on its own: no torch, no edgeprune; predictions equal local onnxruntime's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Run run.py isolated (-I: no user site, no script dir) with an import hook that fails on torch and
# edgeprune, and prove at exit that neither was imported (onnxruntime may probe for torch; that
# probe must fail quietly and not matter).
GUARD = """
import importlib.abc, runpy, sys
BLOCKED = ("torch", "edgeprune", "torchvision", "openvino")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: the runner must not need it")
sys.meta_path.insert(0, Block())
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
"""


def runner(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the bundle's run.py under the import guard."""
    return subprocess.run([sys.executable, "-I", "-c", GUARD, str(folder / "run.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_classify_npy_equals_local_onnxruntime(extracted, digit_pixels, local_logits, digits, tmp_path,
                                               assert_outputs_close):
    np.save(tmp_path / "x.npy", digit_pixels)
    proc = runner(extracted, "classify", str(tmp_path / "x.npy"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    expected = local_logits(digit_pixels)
    assert_outputs_close(np.array([r["logits"] for r in rows], dtype=np.float32), expected)
    assert [r["index"] for r in rows] == expected.argmax(1).tolist()
    assert all(r["label"] == digits.labels[r["index"]] for r in rows)


def test_classify_png_needs_pillow_and_matches_npy(extracted, digit_pixels, tmp_path, assert_outputs_close):
    from PIL import Image

    img = (digit_pixels[0, 0] * 255).round().astype(np.uint8)
    Image.fromarray(img, mode="L").save(tmp_path / "d.png")
    np.save(tmp_path / "d.npy", img)  # uint8 pixels: the runner scales by 1/255
    png = runner(extracted, "classify", str(tmp_path / "d.png"))
    npy = runner(extracted, "classify", str(tmp_path / "d.npy"))
    assert png.returncode == npy.returncode == 0, png.stderr + npy.stderr
    png_row, npy_row = json.loads(png.stdout), json.loads(npy.stdout)
    assert_outputs_close(png_row["logits"], npy_row["logits"])
    assert png_row["index"] == npy_row["index"]


def test_verify_refuses_unlisted_and_missing_files(extracted):
    (extracted / "extra.py").write_text("print('hi')\n")
    proc = runner(extracted, "verify")
    assert proc.returncode == 2 and "extra.py is not in the manifest" in proc.stderr
    (extracted / "extra.py").unlink()
    (extracted / "README.md").unlink()
    proc = runner(extracted, "verify")
    assert proc.returncode == 2 and "README.md is missing" in proc.stderr


def test_env_header_is_the_bench_headers(extracted):
    from edgeprune.runtime.machine import cpu_flags, cpu_model

    proc = runner(extracted, "env")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["cpu_model"] == cpu_model() and env["cpu_flags"] == cpu_flags()


def test_verify_refuses_tampered_bundle(extracted):
    assert runner(extracted, "verify").returncode == 0
    model = extracted / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-10] ^= 0xFF
    model.write_bytes(bytes(data))
    for command in (["verify"], ["env"], ["classify", "x.npy"]):
        proc = runner(extracted, *command)
        assert proc.returncode == 2 and "model.onnx does not match its sha256" in proc.stderr


def test_bench_prints_protocol_json(extracted):
    from edgeprune.runtime.timing import Preset, RawResult

    preset = Preset("test", warmup_runs=1, warmup_s=0.1, min_runs=6, min_rounds=3, min_time_s=0.0, max_time_s=5.0)
    proc = runner(extracted, "bench", "--threads", "1,2", "--cpus", "0", "--preset-json",
                  json.dumps(preset.to_dict()))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"cpu_model", "cores", "machine", "onnxruntime", "numpy", "python"} <= set(out["env"])
    assert [r["threads"] for r in out["runs"]] == [1, 2]
    for run in out["runs"]:
        (raw,) = [RawResult.from_dict(r) for r in run["results"]]
        assert raw.error is None and raw.init_ms > 0 and raw.first_ms > 0
        assert len(raw.rounds) >= 3 and len(raw.samples) >= 6 and min(raw.samples) > 0
        assert run["cpus"] == "0" and run["preset"]["min_runs"] == 6
        summary = run["results"][0]["summary"]
        assert summary["p50_ms"] == pytest.approx(float(np.median(raw.samples)))
        assert summary["samples"] == len(raw.samples)


def test_bad_input_is_one_line_error(extracted, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 5, 5), dtype=np.float32))
    proc = runner(extracted, "classify", str(tmp_path / "bad.npy"))
    assert proc.returncode == 2 and "is not (N, 1, 32, 32)" in proc.stderr and "Traceback" not in proc.stderr


def _python39() -> str | None:
    """A working Python 3.9 interpreter, if this machine has one."""
    import shutil

    for exe in (shutil.which("python3.9"), "/root/.pyenv/versions/3.9.18/bin/python3.9"):
        if exe and Path(exe).exists():
            ok = subprocess.run([exe, "-c", "import sys; assert sys.version_info[:2] == (3, 9)"], capture_output=True)
            if ok.returncode == 0:
                return exe
    return None


def test_runner_and_timing_run_on_python39(extracted):
    exe = _python39()
    if exe is None:
        pytest.skip("no Python 3.9 interpreter on this machine")
    shipped = sorted(str(p) for p in (extracted / "runtime").glob("*.py"))
    compiled = subprocess.run([exe, "-m", "py_compile", str(extracted / "run.py"), *shipped],
                              capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    verify = subprocess.run([exe, "-I", "-B", str(extracted / "run.py"), "verify"], capture_output=True, text=True)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], verify.stderr  # stdlib only


def test_shipped_files_make_no_python310_only_calls():
    """The bundle promises Python 3.9: zip(strict=) is a TypeError there, which compiling cannot catch."""
    import ast

    import edgeprune.runtime.device.run as run
    from edgeprune.runtime import SHIPPED

    runtime = Path(run.__file__).resolve().parents[1]
    for path in [Path(run.__file__), *(runtime / m for m in SHIPPED)]:
        tree = ast.parse(path.read_text())
        strict = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                  and any(k.arg == "strict" for k in n.keywords)]
        assert not strict, f"{path.name} uses strict= at lines {strict}"


def test_shipped_modules_import_only_stdlib_numpy_onnxruntime():
    """The bundle carries these files alone: no import of edgeprune, of torch, or of each other."""
    import ast

    from edgeprune.runtime import SHIPPED

    runtime = Path(__file__).resolve().parents[2] / "edgeprune" / "runtime"
    allowed = set(sys.stdlib_module_names) | {"numpy", "onnxruntime"}
    for name in SHIPPED:
        tree = ast.parse((runtime / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module.split(".")[0] in allowed, f"{name}:{node.lineno}"
            elif isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in allowed for a in node.names), f"{name}:{node.lineno}"


def test_missing_file_and_bad_cpus_are_one_line_errors(extracted, tmp_path):
    missing = runner(extracted, "classify", str(tmp_path / "nope.npy"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    np.save(tmp_path / "x.npy", np.zeros((1, 32, 32), dtype=np.float32))
    badcpu = runner(extracted, "classify", str(tmp_path / "x.npy"), "--cpus", "zero")
    assert badcpu.returncode == 2 and "cannot pin to CPUs" in badcpu.stderr
