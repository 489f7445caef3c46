"""BenchConfig: refused options in parameter terms (the CLI shows its flags), JSON round trips, per-bench options."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest

from edgeprune.bench import bench
from edgeprune.bench.claims import ClaimConfig
from edgeprune.bench.config import BenchConfig, SshOptions, WebOptions
from edgeprune.errors import ConfigError
from edgeprune.runtime.timing import PRESETS, Preset


@pytest.mark.parametrize(("options", "message", "params"), [
    ({"backends": "onnxruntime"}, "unknown backend 'onnxruntime'", ("backends",)),
    ({"backends": ","}, "backends names no backend: ','", ("backends",)),
    ({"profiles": "phone"}, "unknown profile 'phone'", ("profiles",)),
    ({"profiles": []}, "profiles names no profile: []", ("profiles",)),
    ({"threads": [0]}, "threads must be positive integers, got [0]", ("threads",)),
    ({"threads": [True]}, "threads must be positive integers, got [True]", ("threads",)),
    ({"batch": 0}, "batch must be an integer >= 1, got 0", ("batch",)),
    ({"preset": "slow"}, "unknown preset 'slow'", ("preset",)),
    ({"max_time_s": 0}, "max_time_s must be > 0 seconds (it overrides the preset's), got 0", ("max_time_s",)),
    ({"claim": -2.0}, "claim must be a positive, finite speedup, got -2", ("claim",)),
    ({"claim": float("nan")}, "claim must be a positive, finite speedup, got nan", ("claim",)),
    ({"claim_on": "ort"}, "claim_on needs claim", ("claim_on", "claim")),
    ({"claim": 2.0, "claim_on": "onnxruntime"}, "claim_on names an unknown backend 'onnxruntime'", ("claim_on",)),
    ({"backends": "ort", "claim": 2.0, "claim_on": "openvino:lowpower"},
     "claim_on 'openvino' is not among the benched backends ort", ("claim_on", "backends")),
    ({"backends": "ort", "device": "ssh://pi@board"},
     "device ssh://pi@board needs a backend that runs on it (backends ssh)", ("device", "backends")),
    ({"colour": "blue"}, "unknown bench option 'colour'", ()),
])
def test_refused_options_name_the_parameter(options, message, params):
    with pytest.raises(ConfigError) as info:
        BenchConfig.build(**options)
    assert info.value.message == message and info.value.params == params


def test_a_claim_without_a_baseline_is_the_bench_s_check(tmp_path):
    BenchConfig.build(claim=2.0)  # fine as a config: the models are not known yet
    with pytest.raises(ConfigError) as info:
        bench([tmp_path / "x.onnx"], claim=2.0)
    assert info.value.message == "claim needs baseline" and info.value.params == ("claim", "baseline")


def test_the_cli_shows_the_flag_of_the_parameter(capsys):
    """The library says ``profiles``; the user typed ``--profile`` (the argparse dest is the parameter)."""
    from edgeprune.cli import main

    assert main(["bench", "x.onnx", "--profile", ",", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert "edgeprune bench: error: --profile names no profile: ','" in err and "profiles" not in err


def test_cli_defaults_come_from_the_config():
    from edgeprune.cli import build_parser

    args = build_parser().parse_args(["bench", "m.onnx", "--out", "o"])
    d = BenchConfig()
    assert (args.backends, args.profiles, args.batch, args.preset, args.memory) == (
        ",".join(d.backends), ",".join(d.profiles), d.batch, d.preset, d.memory)


def test_config_round_trips_through_json():
    cfg = BenchConfig.build(backends="ort,ssh", profiles=["desktop", "lowpower"], threads=2, batch=4,
                            preset=Preset("tiny", min_runs=6, min_rounds=3), max_time_s=9.0, claim=2.5,
                            claim_on="ort:lowpower,fastest", memory=False,
                            ssh=SshOptions("ssh://pi@board", cpus="2,3", remote_setup=True),
                            web=WebOptions(chromium="/opt/chromium"))
    again = BenchConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and again.to_dict() == cfg.to_dict()
    assert again.threads == [2] and again.claim == ClaimConfig(2.5, ["ort:lowpower", "fastest"])
    assert again.timing() == Preset("tiny*", min_runs=6, min_rounds=3, max_time_s=9.0)
    assert BenchConfig.from_dict(BenchConfig().to_dict()).timing() == PRESETS["quick"]
    with pytest.raises(ConfigError, match="unknown bench option 'colour'"):
        BenchConfig.from_dict({"colour": 1})


def test_a_device_url_becomes_the_ssh_options():
    cfg = BenchConfig(backends=["ssh"], device="ssh://pi@board?cpus=2&remote_setup=1")
    assert cfg.ssh == SshOptions("ssh://pi@board", cpus="2", remote_setup=True)
    assert cfg.options_for("ssh") is cfg.ssh and cfg.options_for("ort") is None
    with pytest.raises(ConfigError, match="unknown ssh option 'colour'"):
        BenchConfig(backends=["ssh"], device="ssh://pi@board?colour=1")


class _FakeBoard:
    """Stands in for SshDevice: records the options each bench gave it, returns synthetic samples."""

    seen: ClassVar[list[SshOptions]] = []

    def __init__(self, options: SshOptions) -> None:
        self.options = options
        _FakeBoard.seen.append(options)

    def target(self) -> str:
        return "linux-x86_64"

    def install(self, bundle):
        return f"/remote/{bundle.name}"

    def bench(self, folders, threads, batch, preset):
        rng = np.random.default_rng(0)
        results = [{"name": f, "init_ms": 1.0, "first_ms": 2.0, "info": {},
                    "rounds": [list(1.0 + rng.random(3)) for _ in range(4)]} for f in folders]
        return {"env": {"onnxruntime": "9.9", "cpus": self.options.cpus}, "runs": [{"results": results}]}


def test_ssh_options_travel_with_each_bench_and_never_leak(vgg_pair_onnx, tmp_path, monkeypatch):
    """Two benches in one process with different boards and options: each row ran with its own bench's."""
    import edgeprune.runtime.device as device_pkg
    import edgeprune.runtime.device.remote as remote
    from edgeprune.bench.backends import ssh

    assert not hasattr(ssh, "configure") and not hasattr(ssh, "_DEFAULTS")  # no module state to leak through
    monkeypatch.setattr(remote, "SshDevice", _FakeBoard)
    monkeypatch.setattr(device_pkg, "bundle_onnx", lambda path, out, target, edgeprune: out)
    monkeypatch.setattr(ssh.SshBackend, "missing", lambda self: None)
    monkeypatch.delenv("EDGEPRUNE_SSH_DEVICE", raising=False)
    _FakeBoard.seen = []
    base, _ = vgg_pair_onnx
    one = bench([base], BenchConfig(backends=["ssh"], ssh=SshOptions("ssh://a@board1", cpus="2")), memory=False)
    two = bench([base], backends="ssh", device="ssh://b@board2", memory=False)
    three = bench([base], backends="ssh", memory=False)
    assert [(o.device, o.cpus) for o in _FakeBoard.seen] == [("ssh://a@board1", "2"), ("ssh://b@board2", None)]
    assert [r.runtime["device"] for r in (*one.rows, *two.rows)] == ["ssh://a@board1", "ssh://b@board2"]
    assert [r.runtime["env"]["cpus"] for r in (*one.rows, *two.rows)] == ["2", None]
    (row,) = three.rows  # the third bench named no board: it is not handed the earlier ones'
    assert not row.ok and "no device given" in row.reason and len(_FakeBoard.seen) == 2


def test_a_parameter_name_inside_a_path_is_not_renamed():
    """A run's checkpoints live under models/: the CLI renames the parameter, never a folder of the path."""
    e = ConfigError("models /runs/x/models/A/model.safetensors: file not found", params=("models",))
    assert e.in_terms_of({"models": "MODEL"})[0] == "MODEL /runs/x/models/A/model.safetensors: file not found"


@pytest.mark.parametrize(("options", "message"), [
    ({"web": {"chrome": "/x"}}, "web has no option 'chrome'"),
    ({"preset": {"nme": "x"}}, "preset has no option 'nme'"),
    ({"claim": {"onn": ["ort"]}}, "claim has no option 'onn'"),
    ({"backends": ["ssh"], "ssh": {"device": "ssh://pi@board", "colour": 1}}, "ssh has no option 'colour'"),
])
def test_nested_options_refuse_a_key_they_do_not_have(options, message):
    with pytest.raises(ConfigError, match=message) as e:
        BenchConfig(**options)
    assert e.value.params == (message.split()[0],)


def test_a_new_device_brings_its_own_ssh_options():
    old = BenchConfig(backends=["ssh"], device="ssh://pi@old?cpus=3")
    new = BenchConfig.build(old, device="ssh://pi@new")
    assert new.ssh == SshOptions("ssh://pi@new") and old.ssh.device == "ssh://pi@old"
