"""Targets, iterative steps, resume after an interruption, the report, option validation."""

from __future__ import annotations

import pytest
import torch

from edgeprune.api import create_model
from edgeprune.errors import ConfigError
from edgeprune.fileio import read_json
from edgeprune.models import count_macs, load_checkpoint
from edgeprune.pruning import list_criteria, list_methods, prune


class Interrupt(Exception):
    """Raised by the test callback to simulate Ctrl-C after a step."""


def test_resume_after_interruption(tmp_path, tiny_ckpt, digits):
    out = tmp_path / "run"
    seen: list[int] = []

    def stop_after_first(step, model):
        seen.append(step)
        if step == 1:
            raise Interrupt

    kw = {"target_macs": 0.5, "steps": 2, "out": out, "samples": 32}
    with pytest.raises(Interrupt):
        prune(tiny_ckpt, "taylor", digits, on_step=stop_after_first, **kw)
    state = read_json(out / "state.json")
    assert state["done"] == 1 and (out / "steps" / "step-1.safetensors").is_file()
    step1 = (out / "steps" / "step-1.safetensors").stat().st_mtime_ns
    small = prune(tiny_ckpt, "taylor", digits, on_step=lambda s, m: seen.append(s), **kw).model
    assert seen == [1, 2]  # step 1 was not recomputed
    assert (out / "steps" / "step-1.safetensors").stat().st_mtime_ns == step1
    report = read_json(out / "prune.json")
    assert [h["step"] for h in report["history"]] == [1, 2]
    base = count_macs(load_checkpoint(tiny_ckpt), (1, 32, 32))
    assert report["history"][0]["macs"] <= 0.5 ** 0.5 * base * 1.0001
    assert count_macs(small, (1, 32, 32)) <= 0.5 * base
    assert report["after"]["macs"] == count_macs(small, (1, 32, 32))
    assert "| before |" in (out / "prune.md").read_text()
    with pytest.raises(ConfigError, match="other settings"):
        prune(tiny_ckpt, "taylor", digits, **{**kw, "target_macs": 0.4})


@pytest.mark.parametrize("kw,match", [
    ({"target_macs": 0.25, "ratio": 0.5}, "exactly one"),
    ({}, "exactly one"),
    ({"target_macs": 1.5}, "in \\(0, 1\\)"),
    ({"ratio": 0.5, "fisher": "nope"}, "fisher"),
    ({"ratio": 0.5, "bogus": 1}, "unknown pruning option"),
    ({"ratio": 0.5, "scope": "local"}, "scope"),
])
def test_bad_options_raise_config_errors(kw, match, tiny_ckpt, digits):
    with pytest.raises(ConfigError, match=match):
        prune(tiny_ckpt, "obd", digits, **kw)


def test_unknown_method(digits, tiny_ckpt):
    with pytest.raises(ConfigError, match="unknown pruning method"):
        prune(tiny_ckpt, "obs", digits, ratio=0.5)


def test_listings():
    assert {"magnitude", "taylor", "taylor-seed", "taylor-weight", "obd", "random", "reg+obd", "reg+taylor",
            "obd+reg", "seed"} <= set(list_methods())
    assert {"magnitude", "taylor", "taylor-seed", "taylor-weight", "obd", "random"} == set(list_criteria())


def test_seed_removes_fixed_filters_per_step(tiny_ckpt, digits):
    from edgeprune.models import layer_widths

    before = sum(w.outputs for w in layer_widths(load_checkpoint(tiny_ckpt))[:-1])
    small = prune(tiny_ckpt, "seed", digits, per_step=16, steps=2, samples=32, reg_epochs=0).model
    after = sum(w.outputs for w in layer_widths(small)[:-1])
    assert before - after == 32
    x = torch.randn(2, 1, 32, 32)
    assert small(x).shape == (2, 10)


def test_unreachable_target_stops_at_the_floor(digits):
    torch.manual_seed(0)
    model = create_model("vgg16_bn", data=digits, width=0.125, classifier="compact")
    small = prune(model, "magnitude", digits, target_macs=0.1).model  # 10% needs widths below the floor of 8
    convs = [m for m in small.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8] * len(convs)
    assert small(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_regularized_cache_is_reused_only_with_the_same_settings(tmp_path, tiny_ckpt, digits, monkeypatch):
    import edgeprune.pruning.methods as methods

    calls: list[float] = []
    real = methods.regularize

    def counting(model, data, **kw):
        calls.append(kw["lam"])
        return real(model, data, **kw)

    monkeypatch.setattr(methods, "regularize", counting)
    out = tmp_path / "r"
    kw = {"target_macs": 0.5, "out": out, "reg_epochs": 1, "samples": 32}
    prune(tiny_ckpt, "reg+obd", digits, lam=1e-6, **kw)
    (out / "state.json").unlink()  # as if interrupted before step 1 finished
    prune(tiny_ckpt, "reg+obd", digits, lam=1e-6, **kw)
    assert calls == [1e-6]  # same settings: the regularized model is reused
    (out / "state.json").unlink()
    prune(tiny_ckpt, "reg+obd", digits, lam=2e-6, **kw)
    assert calls == [1e-6, 2e-6]  # other strength: regularized again
