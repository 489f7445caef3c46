"""The bad-input catalogue of the commands that run and ship models: bench, deploy web/device, check-arm,
pipeline recipes, and the one-run-per---out lock they all share.

Each case is refused the same way (see conftest.py): its exit code, one ``: error:`` line that says why,
no traceback, ``--out`` as it was. Models are tiny random-weight VGGs and foreign ONNX files built here;
validation refuses them before anything is timed, trained or written.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

_spec = importlib.util.spec_from_file_location("bad_inputs_rule", Path(__file__).with_name("conftest.py"))
_rule = sys.modules.setdefault("bad_inputs_rule", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_rule)  # the rule's helpers (conftest.py is not importable by name)
run_cli, snapshot = _rule.run_cli, _rule.snapshot

RECIPE = """\
name = "bad"
[data]
name = "digits"
[model]
name = "vgg11_bn"
width = 0.125
[train]
epochs = 1
[[variants]]
name = "P"
method = "magnitude"
target_macs = 0.5
"""


def _foreign(path: Path, shape: tuple[int, int, int], classes: int) -> Path:
    """A non-edgeprune ONNX classifier (conv, pool, linear) taking ``shape`` and giving ``classes`` outputs."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(shape[0], 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, classes)).eval()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice: it is the fast one
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    return path


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _recipe(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def m(tmp_path_factory) -> SimpleNamespace:
    """Every file the cases refer to: good models (to pair with bad ones), bad models, bundles, recipes."""
    import torch

    from edgeprune.export.onnx import export_onnx
    from edgeprune.models import create_model, load_checkpoint, save_checkpoint

    tmp = tmp_path_factory.mktemp("badin")
    torch.manual_seed(0)
    ckpt = save_checkpoint(create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125).eval(),
                           tmp / "base.safetensors")
    relabeled = save_checkpoint(create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125,
                                             labels=[f"c{i}" for i in range(10)]).eval(), tmp / "relabeled.safetensors")
    onnx = export_onnx(load_checkpoint(ckpt), tmp / "base.onnx")
    raw = onnx.read_bytes()
    ns = SimpleNamespace(tmp=tmp, ckpt=ckpt, relabeled=relabeled, onnx=onnx)
    ns.copy = tmp / "copy.onnx"
    ns.copy.write_bytes(raw)
    ns.foreign64 = _foreign(tmp / "foreign64.onnx", (3, 64, 64), 10)
    ns.foreign5 = _foreign(tmp / "foreign5.onnx", (1, 32, 32), 5)
    ns.empty = tmp / "empty.onnx"
    ns.empty.write_bytes(b"")
    ns.text = tmp / "notes.onnx"
    ns.text.write_text("these are my notes, not a model\n")
    ns.truncated = tmp / "truncated.onnx"
    ns.truncated.write_bytes(raw[: len(raw) // 3])
    ns.file = tmp / "a-file.txt"
    ns.file.write_text("I am a file, not a folder\n")
    ns.under_file = ns.file / "sub"
    ns.missing = tmp / "missing.onnx"
    ns.evil = _tar(tmp / "evil.tar.gz", {"manifest.json": b"{}", "../escaped.txt": b"gotcha"})
    ns.armjson = tmp / "arm.json"
    ns.nottar = tmp / "bundle.tar.gz"
    ns.nottar.write_bytes(b"not a tarball at all")
    recipes = tmp / "recipes"
    recipes.mkdir()
    ns.recipe = _recipe(recipes, "good", RECIPE)
    ns.r_epochs = _recipe(recipes, "epochs", RECIPE.replace("epochs = 1", 'epochs = "one"'))
    ns.r_top = _recipe(recipes, "top", 'colour = "blue"\n' + RECIPE)
    ns.r_vkey = _recipe(recipes, "vkey", RECIPE + "stpes = 2\n")
    ns.r_from = _recipe(recipes, "from", RECIPE + 'from = "ResNet"\n')
    ns.r_dup = _recipe(recipes, "dup", RECIPE + '[[variants]]\nname = "P"\nmethod = "obd"\nratio = 0.5\n')
    ns.r_cycle = _recipe(recipes, "cycle", RECIPE + 'from = "Q"\n[[variants]]\nname = "Q"\nfrom = "P"\n'
                                                    'method = "obd"\nratio = 0.5\n')
    ns.r_self = _recipe(recipes, "self", RECIPE + 'from = "P"\n')
    ns.r_extends = _recipe(recipes, "extends", 'extends = "nowhere.toml"\nname = "x"\n')
    ns.r_syntax = _recipe(recipes, "syntax", RECIPE.replace("epochs = 1", "epochs = = 1"))
    ns.r_section = _recipe(recipes, "section", RECIPE.replace("[train]", "[trian]"))
    ns.r_target = _recipe(recipes, "target", RECIPE.replace("target_macs = 0.5", "target_macs = 1.5"))
    ns.r_bench = _recipe(recipes, "bench", RECIPE + '[bench]\nthreads = [0]\n')
    ns.outdir = tmp / "out-existing"  # an --out that holds a previous result: it must stay as it is
    ns.outdir.mkdir()
    (ns.outdir / "previous.json").write_text("{}\n")
    ns.newout = tmp / "out-new" / "deeper"  # an --out that does not exist: it must not appear
    return ns


@pytest.fixture(autouse=True)
def _quiet_and_fake_web_runtime(tmp_path_factory, monkeypatch) -> None:
    """A stand-in onnxruntime-web dist, so deploy web reaches its model checks without `make setup`."""
    from edgeprune.deploy.web import RUNTIME_FILES

    base = tmp_path_factory.getbasetemp() / "fake-ort-web"
    if not base.exists():
        (base / "dist").mkdir(parents=True)
        (base / "package.json").write_text(json.dumps({"version": "1.30.0"}))
        for name in RUNTIME_FILES:
            (base / "dist" / name).write_text("// stand-in\n")
    monkeypatch.setenv("EDGEPRUNE_ORT_WEB", str(base))
    monkeypatch.setenv("EDGEPRUNE_QUIET", "1")


Case = Callable[[SimpleNamespace], tuple[list, int, Path | None]]


def bench(*argv, code: int = 2, out: str = "newout") -> Case:
    """A bench case: ``argv`` entries naming an attribute of the fixture (``"onnx"``) become its path."""
    return lambda m: (["bench", *(getattr(m, a) if isinstance(a, str) and hasattr(m, a) else a for a in argv),
                       "--no-memory", "--out", getattr(m, out)], code, getattr(m, out))


def cmd(*argv, code: int = 2, out: str | None = None) -> Case:
    """Any command: attribute names of the fixture become paths; ``out`` names the folder that must not change."""
    return lambda m: ([getattr(m, a) if isinstance(a, str) and hasattr(m, a) else a for a in argv], code,
                      getattr(m, out) if out else None)


CASES = [
    # --- bench: models that cannot be compared, or read ----------------------------------------------
    pytest.param(bench("foreign64", "--baseline", "onnx", "--claim", "2"), id="bench-foreign-input-shape"),
    pytest.param(bench("foreign5", "--baseline", "onnx", "--claim", "2"), id="bench-foreign-outputs"),
    pytest.param(bench("relabeled", "--baseline", "ckpt", "--backends", "torch"), id="bench-other-labels"),
    pytest.param(bench("onnx", "--baseline", "missing"), id="bench-missing-baseline"),
    pytest.param(bench("missing", "--baseline", "onnx"), id="bench-missing-model"),
    pytest.param(bench("empty", "--backends", "ort"), id="bench-empty-onnx"),
    pytest.param(bench("text", "--backends", "ort"), id="bench-text-renamed-onnx"),
    pytest.param(bench("file", "--backends", "ort"), id="bench-unknown-format"),
    pytest.param(bench("foreign5", "--backends", "ort", "--data", "digits"), id="bench-data-other-classes"),
    pytest.param(bench("foreign64", "onnx", "--backends", "ort", "--data", "digits"), id="bench-data-other-input"),
    # --- bench: options ---------------------------------------------------------------------------
    pytest.param(bench("onnx", "--backends", "onnxruntime"), id="bench-unknown-backend"),
    pytest.param(bench("onnx", "--backends", ","), id="bench-no-backend"),
    pytest.param(bench("onnx", "--profile", "phone"), id="bench-unknown-profile"),
    pytest.param(bench("onnx", "--threads", "0"), id="bench-threads-0"),
    pytest.param(bench("onnx", "--threads", "two"), id="bench-threads-text"),
    pytest.param(bench("onnx", "--batch", "0"), id="bench-batch-0"),
    pytest.param(bench("copy", "--baseline", "onnx", "--claim", "2", "--claim-on", "onnxruntime"), id="bench-claim-on-unknown"),
    pytest.param(bench("copy", "--baseline", "onnx", "--backends", "ort", "--claim", "2", "--claim-on", "openvino"), id="bench-claim-on-not-benched"),
    pytest.param(bench("copy", "--baseline", "onnx", "--claim-on", "ort"), id="bench-claim-on-no-claim"),
    pytest.param(bench("copy", "--baseline", "onnx", "--claim", "0"), id="bench-claim-0"),
    pytest.param(bench("copy", "--baseline", "onnx", "--claim", "-2"), id="bench-claim-negative"),
    pytest.param(bench("copy", "--baseline", "onnx", "--claim", "nan"), id="bench-claim-nan"),
    pytest.param(bench("copy", "--claim", "2"), id="bench-claim-no-baseline"),
    pytest.param(bench("onnx", "--baseline", "onnx", "--claim", "2"), id="bench-claim-no-candidate"),
    pytest.param(bench("onnx", out="file"), id="bench-out-is-file"),
    pytest.param(bench("onnx", out="under_file"), id="bench-out-under-a-file"),
    pytest.param(bench("onnx", "--backends", "ssh", "--device", "ftp://board"), id="bench-bad-ssh-url"),
    pytest.param(bench("onnx", "--backends", "ssh", "--device", "ssh://pi@board?colour=1"), id="bench-bad-ssh-option"),
    pytest.param(bench("onnx", "--backends", "ort", "--device", "ssh://pi@board"), id="bench-device-no-ssh"),
    pytest.param(bench("onnx", "--quick", "--full"), id="bench-quick-and-full"),
    # --- deploy web ----------------------------------------------------------------------------------
    pytest.param(cmd("deploy", "web", "truncated", "--out", "newout", out="newout"), id="web-truncated-onnx"),
    pytest.param(cmd("deploy", "web", "empty", "--out", "outdir", out="outdir"), id="web-empty-onnx"),
    pytest.param(cmd("deploy", "web", "missing", "--out", "newout", out="newout"), id="web-missing-model"),
    pytest.param(cmd("deploy", "web", "onnx", "--out", "file", out="file"), id="web-out-is-file"),
    pytest.param(cmd("deploy", "web", "onnx", "--target", "linux-aarch64", "--out", "newout", out="newout"), id="web-device-option"),
    pytest.param(cmd("deploy", "web", "onnx", "--colour", "blue", "--out", "newout", out="newout"), id="web-unknown-option"),
    pytest.param(cmd("deploy", "phone", "onnx", "--out", "newout", out="newout"), id="deploy-unknown-kind"),
    # --- deploy device -------------------------------------------------------------------------------
    pytest.param(cmd("deploy", "device", "onnx", "--target", "windows-arm", "--out", "outdir", out="outdir"), id="device-unknown-target"),
    pytest.param(cmd("deploy", "device", "onnx", "--target", "ssh://pi@board", "--out", "outdir", out="outdir"), id="device-ssh-url-as-target"),
    pytest.param(cmd("deploy", "device", "missing", "--out", "outdir", out="outdir"),
                 id="device-missing-model"),
    pytest.param(cmd("deploy", "device", "truncated", "--out", "outdir", out="outdir"),
                 id="device-truncated-onnx"),
    pytest.param(cmd("deploy", "device", "onnx", "--out", "file", out="file"), id="device-out-not-tar"),
    # --- check-arm -----------------------------------------------------------------------------------
    pytest.param(cmd("check-arm", "nottar", "--samples", "0"), id="arm-samples-0"),
    pytest.param(cmd("check-arm", "nottar", "--samples", "-1"), id="arm-samples-negative"),
    pytest.param(cmd("check-arm", "nottar", "--atol", "-1"), id="arm-atol-negative"),
    pytest.param(cmd("check-arm", "nottar", "--atol", "nan"), id="arm-atol-nan"),
    pytest.param(cmd("check-arm", "missing"), id="arm-missing-bundle"),
    pytest.param(cmd("check-arm", "nottar"), id="arm-not-a-tar"),
    pytest.param(cmd("check-arm", "evil", "--out", "armjson", out="armjson"), id="arm-path-traversal"),
    # --- pipeline recipes ------------------------------------------------------------------------------
    pytest.param(cmd("pipeline", "r_epochs", "--out", "newout", out="newout"), id="recipe-epochs-text"),
    pytest.param(cmd("pipeline", "r_top", "--out", "newout", out="newout"), id="recipe-unknown-top-key"),
    pytest.param(cmd("pipeline", "r_section", "--out", "newout", out="newout"),
                 id="recipe-unknown-section"),
    pytest.param(cmd("pipeline", "r_vkey", "--out", "newout", out="newout"), id="recipe-unknown-variant-key"),
    pytest.param(cmd("pipeline", "r_from", "--out", "newout", out="newout"), id="recipe-from-no-model"),
    pytest.param(cmd("pipeline", "r_dup", "--out", "newout", out="newout"), id="recipe-duplicate-variant"),
    pytest.param(cmd("pipeline", "r_cycle", "--out", "newout", out="newout"), id="recipe-cycle"),
    pytest.param(cmd("pipeline", "r_self", "--out", "newout", out="newout"), id="recipe-from-itself"),
    pytest.param(cmd("pipeline", "r_extends", "--out", "newout", out="newout"),
                 id="recipe-extends-missing"),
    pytest.param(cmd("pipeline", "r_syntax", "--out", "newout", out="newout"), id="recipe-toml-syntax"),
    pytest.param(cmd("pipeline", "r_target", "--out", "newout", out="newout"),
                 id="recipe-target-out-of-range"),
    pytest.param(cmd("pipeline", "r_bench", "--out", "newout", out="newout"), id="recipe-bench-threads-0"),
    pytest.param(cmd("pipeline", "missing", "--out", "newout", out="newout"), id="recipe-missing-file"),
    pytest.param(cmd("pipeline", "recipe", "--only", "quantum", "--out", "outdir", out="outdir"),
                 id="pipeline-only-unknown-stage"),
    pytest.param(cmd("pipeline", "recipe", "--until", "prune:Nope", "--out", "newout", out="newout"),
                 id="pipeline-until-unknown-stage"),
    pytest.param(cmd("pipeline", "recipe", "--out", "file", out="file"), id="pipeline-out-is-file"),
]

# what each refusal's error line must say (case id -> regex), beside its exit code when it is not 2
MATCH = {
    "bench-foreign-input-shape": r"foreign64\.onnx.*not comparable.*input shape 3x64x64 vs the baseline's 1x32x32",
    "bench-foreign-outputs": r"foreign5\.onnx.*not comparable.*output shape 5 vs the baseline's 10",
    "bench-other-labels": r"relabeled.*not comparable.*labels \[c0,",
    "bench-missing-baseline": r"--baseline .*missing\.onnx: file not found",
    "bench-missing-model": r"MODEL .*missing\.onnx: file not found",
    "bench-empty-onnx": r"empty\.onnx: not a valid ONNX model",
    "bench-text-renamed-onnx": r"notes\.onnx: not a valid ONNX model",
    "bench-unknown-format": r"a-file\.txt: unknown model format '\.txt'",
    "bench-data-other-classes": r"--data digits has 10 classes but MODEL .*foreign5\.onnx has 5 outputs",
    "bench-data-other-input": r"--data digits gives inputs 3x64x64 but MODEL .*base\.onnx takes 1x32x32",
    "bench-unknown-backend": r"unknown backend 'onnxruntime'",
    "bench-no-backend": r"--backends names no backend",
    "bench-unknown-profile": r"unknown profile 'phone'",
    "bench-threads-0": r"--threads must be positive integers",
    "bench-threads-text": r"--threads expects integers",
    "bench-batch-0": r"--batch must be an integer >= 1",
    "bench-claim-on-unknown": r"--claim-on names an unknown backend 'onnxruntime'",
    "bench-claim-on-not-benched": r"--claim-on 'openvino' is not among the benched --backends ort",
    "bench-claim-on-no-claim": r"--claim-on needs --claim",
    "bench-claim-0": r"--claim must be a positive, finite speedup, got 0",
    "bench-claim-negative": r"--claim must be a positive, finite speedup, got -2",
    "bench-claim-nan": r"--claim must be a positive, finite speedup, got nan",
    "bench-claim-no-baseline": r"--claim needs --baseline",
    "bench-claim-no-candidate": r"--claim needs a candidate in MODEL besides --baseline",
    "bench-out-is-file": r"--out .*a-file\.txt is an existing file, not a folder",
    "bench-out-under-a-file": r"--out .*a-file\.txt/sub cannot be created: Not a directory",
    "bench-bad-ssh-url": r"device 'ftp://board' is not ssh://",
    "bench-bad-ssh-option": r"unknown ssh option 'colour'",
    "bench-device-no-ssh": r"--device ssh://pi@board needs a backend that runs on it",
    "bench-quick-and-full": r"argument --full: not allowed with argument --quick",
    "web-truncated-onnx": r"truncated\.onnx is not a readable ONNX file",
    "web-empty-onnx": r"empty\.onnx is not an ONNX model",
    "web-missing-model": r"model .*missing\.onnx does not exist",
    "web-out-is-file": r"--out .*a-file\.txt is an existing file, not a folder",
    "web-device-option": r"--target applies to `deploy device`, not `deploy web`",
    "web-unknown-option": r"unrecognized arguments: --colour blue",
    "deploy-unknown-kind": r"argument kind: invalid choice: 'phone'",
    "device-unknown-target": r"device target 'windows-arm' is not one of",
    "device-ssh-url-as-target": r"device target 'ssh://pi@board' is not one of",
    "device-missing-model": r"model .*missing\.onnx does not exist",
    "device-truncated-onnx": r"truncated\.onnx is not a readable ONNX file",
    "device-out-not-tar": r"--out .*a-file\.txt: a device bundle is a \.tar\.gz file",
    "arm-samples-0": r"--samples must be an integer >= 1, got 0",
    "arm-samples-negative": r"--samples must be an integer >= 1, got -1",
    "arm-atol-negative": r"--atol must be a finite number >= 0, got -1",
    "arm-atol-nan": r"--atol must be a finite number >= 0, got nan",
    "arm-missing-bundle": r"bundle .*missing\.onnx does not exist",
    "arm-not-a-tar": r"bundle\.tar\.gz is not a readable bundle",
    "arm-path-traversal": r"unsafe path '\.\./escaped\.txt' in the bundle",
    "recipe-epochs-text": r"train\.epochs must be int, got 'one'",
    "recipe-unknown-top-key": r"unknown top-level key 'colour'",
    "recipe-unknown-section": r"unknown top-level key 'trian'",
    "recipe-unknown-variant-key": r"unknown key variants\[0\]\.stpes",
    "recipe-from-no-model": r"variant 'P': from = 'ResNet' names no model",
    "recipe-duplicate-variant": r"variant name 'P' is used twice",
    "recipe-cycle": r"variants form a cycle: P from Q, Q from P",
    "recipe-from-itself": r"variants form a cycle: P from P",
    "recipe-extends-missing": r"recipe .*nowhere\.toml does not exist",
    "recipe-toml-syntax": r"syntax\.toml is not valid TOML: .*line 8",
    "recipe-target-out-of-range": r"target_macs = 1\.5 is out of range",
    "recipe-bench-threads-0": r"bench: threads must be positive integers, got \[0\]",
    "recipe-missing-file": r"recipe .*missing\.onnx does not exist",
    "pipeline-only-unknown-stage": r"--only 'quantum' names no stage of this recipe",
    "pipeline-until-unknown-stage": r"--until 'prune:Nope' names no stage of this recipe",
    "pipeline-out-is-file": r"--out .*a-file\.txt is an existing file, not a folder",
}


@pytest.mark.parametrize("case", [pytest.param(p.values[0], id=p.id) for p in CASES])
def test_refused(case: Case, m, refuse, request) -> None:
    argv, code, out = case(m)
    refuse(argv, code=code, match=MATCH[request.node.callspec.id], out=out)


def test_catalogue_is_complete() -> None:
    assert len(CASES) >= 30 and {p.id for p in CASES} == set(MATCH)


# --- claims never pass on what was not measured ------------------------------------------------------

@pytest.fixture
def tiny_quick(monkeypatch) -> None:
    """``--quick`` as a few rounds of a few runs: these tests check verdicts, not speeds."""
    from edgeprune.bench.timing import PRESETS, Preset

    monkeypatch.setitem(PRESETS, "quick", Preset("quick", warmup_runs=2, warmup_s=0.05, min_runs=12, min_rounds=4,
                                                 min_time_s=0.05, max_time_s=2.0))


def test_bench_claim_that_fails_exits_1_with_the_fail_line(m, tiny_quick, tmp_path) -> None:
    r = run_cli(["bench", m.copy, "--baseline", m.onnx, "--backends", "ort", "--profile", "lowpower",
                 "--claim", "1000", "--no-memory", "--out", tmp_path / "b"])
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.code == 1, r.stdout + r.stderr
    assert "FAIL copy on ort/lowpower/1t" in r.stdout and "< 1000x (lower bound)" in r.stdout, r.stdout
    assert json.loads((tmp_path / "b" / "bench.json").read_text())["claim_passed"] is False
    assert not (tmp_path / "b" / ".edgeprune.lock").exists()  # released on exit


def test_bench_claim_on_a_failed_row_fails(m, tiny_quick, tmp_path) -> None:
    """torch runs only checkpoints: the ONNX candidate's row fails, so the claim cannot pass (exit 1)."""
    r = run_cli(["bench", m.onnx, "--baseline", m.ckpt, "--backends", "torch", "--profile", "lowpower",
                 "--claim", "0.001", "--no-memory", "--out", tmp_path / "b"])
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.code == 1, r.stdout + r.stderr
    assert "FAIL base on torch/lowpower/1t: not measured (torch needs an edgeprune checkpoint" in r.stdout, r.stdout


def test_check_claims_fails_failed_and_missing_rows() -> None:
    from edgeprune.bench.claims import check_claims
    from edgeprune.bench.rows import BenchReport, BenchRow

    def row(role: str, **kw) -> BenchRow:
        return BenchRow(model=role, variant=role, format="onnx", precision="fp32", backend="ort",
                        backend_version="1", profile="desktop", threads=1, role=role, **kw)

    failed = row("candidate", status="error", reason="load failed")
    unmeasured = row("candidate", speedup_vs_baseline=None, speedup_ci_low=None)
    checks = check_claims([row("baseline"), failed, unmeasured], 1.0)
    assert [c.passed for c in checks] == [False, False]
    assert "not measured (load failed)" in checks[0].line
    assert BenchReport(rows=[], env={}, settings={"claim": 2.0}, claims=[]).claim_passed is False  # no row checked


# --- one run per --out at a time ----------------------------------------------------------------------

HOLD = """
import sys, time
from edgeprune.fileio import locked_folder
with locked_folder(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_second_bench_into_a_held_out_is_refused(m, refuse) -> None:
    """Another process holds OUT's lock: the bench is refused with its pid and OUT stays as it was."""
    out = m.tmp / "held"
    out.mkdir()
    (out / "bench.json").write_text("{}\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        refuse(["bench", m.onnx, "--backends", "ort", "--no-memory", "--out", out],
               match=rf"another edgeprune run holds .*held \(pid {holder.pid}\)", out=out)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert sorted(snapshot(out)) == [".edgeprune.lock", "bench.json"]  # the killed holder's stale lock stays
    assert (out / "bench.json").read_text() == "{}\n"


@pytest.mark.parametrize("argv", [
    pytest.param(lambda m, out: ["pipeline", m.recipe, "--out", out], id="pipeline"),
    pytest.param(lambda m, out: ["deploy", "web", m.onnx, "--out", out], id="deploy-web"),
    pytest.param(lambda m, out: ["deploy", "device", m.onnx, "--out", out], id="deploy-device-folder"),
    pytest.param(lambda m, out: ["export", m.ckpt, "--out", out], id="export"),
    pytest.param(lambda m, out: ["train", "--model", "vgg11_bn", "--data", "digits", "--epochs", "1", "--out", out], id="train"),
])
def test_every_writer_takes_the_out_lock(argv, m, refuse, tmp_path) -> None:
    from edgeprune.fileio import locked_folder

    out = tmp_path / "run"
    with locked_folder(out):
        refuse(argv(m, out), match=rf"another edgeprune run holds .*run \(pid {os.getpid()}\)", out=out)
    assert not out.exists()  # the holder created it, and took it away again empty


def test_lock_is_released_and_a_stale_one_does_not_block(tmp_path) -> None:
    from edgeprune.fileio import LOCK_NAME, FolderBusyError, locked_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text("999999999\n")  # left by a process that died: no flock on it
    with locked_folder(out):
        assert (out / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(FolderBusyError, match=f"pid {os.getpid()}"), locked_folder(out):
            pass
    assert list(out.iterdir()) == []
    with locked_folder(out):  # and it can be taken again
        pass


def test_deploy_api_refuses_unknown_options(m, tmp_path) -> None:
    """``deploy(model, out, kind, ...)`` keyword options: a typo is an error on both kinds, never silently ignored."""
    from edgeprune.deploy import deploy
    from edgeprune.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown web deploy option 'titel'"):
        deploy(m.onnx, tmp_path / "site", "web", titel="x")
    with pytest.raises(ConfigError, match="unknown device deploy option 'openvin'"):
        deploy(m.onnx, tmp_path / "b.tar.gz", "device", openvin=True)
    assert list(tmp_path.iterdir()) == []
